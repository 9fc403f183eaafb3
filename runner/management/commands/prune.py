"""`manage.py prune [--runs-older-than 90d] [--logs-older-than 30d] [--dry-run] [--batch N]`:
delete old runs and log lines in short statements (runner.retention has the keep rules).

Without an option, the ages come from WORKFLOW_KEEP_RUNS_DAYS and WORKFLOW_KEEP_LOGS_DAYS;
what neither names is kept. Exit 0 done, 2 refused (a bad age, nothing to prune).
"""

import re
from datetime import timedelta

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils import timezone

from runner import retention
from runner.management.refusing import RefusingCommand

_AGE = re.compile(r"(\d{1,6})\s*([dhw]?)")
_UNIT = {"": "days", "d": "days", "h": "hours", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """90d, 12h, 2w or a bare number of days; ValueError otherwise."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not an age: write a whole number of days like 90d (or 12h, 2w)")
    return timedelta(**{_UNIT[match[2]]: int(match[1])})


def setting_age(days: int | None) -> timedelta | None:
    return timedelta(days=days) if days else None


class Command(RefusingCommand):
    help = "Delete runs and log lines older than an age, in short batches; keeps each flow's evidence."
    command_name = "prune"
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--runs-older-than", metavar="AGE", help="e.g. 90d; default WORKFLOW_KEEP_RUNS_DAYS"
        )
        parser.add_argument(
            "--logs-older-than", metavar="AGE", help="e.g. 30d; default WORKFLOW_KEEP_LOGS_DAYS"
        )
        parser.add_argument("--dry-run", action="store_true", help="print what would go, per table and flow")
        parser.add_argument(
            "--batch", type=int, default=retention.DEFAULT_BATCH, help="rows per statement (default 5000)"
        )

    def handle(self, *args, runs_older_than, logs_older_than, dry_run, batch, **options) -> None:
        try:
            runs_age = (
                parse_age(runs_older_than)
                if runs_older_than
                else setting_age(settings.WORKFLOW_KEEP_RUNS_DAYS)
            )
            logs_age = (
                parse_age(logs_older_than)
                if logs_older_than
                else setting_age(settings.WORKFLOW_KEEP_LOGS_DAYS)
            )
        except ValueError as err:
            self._refuse("", str(err))
        if batch < 1 or batch > 100_000:
            self._refuse("", "--batch must be between 1 and 100000")
        if runs_age is None and logs_age is None:
            self._refuse(
                "",
                "nothing to prune: give --runs-older-than or --logs-older-than,"
                " or set WORKFLOW_KEEP_RUNS_DAYS / WORKFLOW_KEEP_LOGS_DAYS",
            )
        verbose = options.get("verbosity", 1) > 1
        pruner = retention.Pruner(
            batch=batch, dry_run=dry_run, progress=self.stdout.write if verbose else None
        )
        now = timezone.now()
        if runs_age is not None:
            pruner.runs(now - runs_age)
        if logs_age is not None:
            pruner.logs(now - logs_age)
        self._report(pruner.result, dry_run, runs_age, logs_age)

    def _report(self, result: retention.Pruned, dry_run: bool, runs_age, logs_age) -> None:
        verb = "would delete" if dry_run else "deleted"
        for table, rows in result.table_rows().items():
            self.stdout.write(f"{table}: {verb} {rows:,} rows")
        flows = sorted(set(result.runs_per_flow) | set(result.logs_per_flow) | set(result.steps_per_flow))
        for flow in flows:
            parts = [
                f"{result.runs_per_flow[flow]:,} runs" if runs_age else "",
                f"{result.steps_per_flow[flow]:,} steps" if dry_run and runs_age else "",
                f"{result.logs_per_flow[flow]:,} log lines" if dry_run and logs_age else "",
            ]
            self.stdout.write(f"  {flow}: {verb} {', '.join(p for p in parts if p)}")
        if not dry_run and result.statements:
            self.stdout.write(
                f"{result.statements} statements, the longest {result.longest_statement * 1000:.0f} ms"
            )
