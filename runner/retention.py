"""Retention: deleting old runs and log lines in short statements over primary-key ranges.

Every statement touches at most `batch` rows and commits by itself, so a prune never locks
a whole table, the log writer and the pages go on meanwhile, and a killed prune simply
starts again where the rows still are. What is kept, whatever its age:

- for every flow, its last succeeded and its last failed run (with their steps and logs);
- every run of a resume chain one of whose runs is kept;
- runs still queued or running;
- the log lines of every kept run.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from flows.models import SysLog
from runner.models import Run, RunStep

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 5_000
IN_LIST = 1_000  # ids per IN (...) list when reading


@dataclass
class Pruned:
    """What a prune deleted (or, dry, would delete): rows per table, and runs per flow."""

    runs: int = 0
    steps: int = 0
    logs: int = 0
    runs_per_flow: Counter = field(default_factory=Counter)
    steps_per_flow: Counter = field(default_factory=Counter)
    logs_per_flow: Counter = field(default_factory=Counter)  # "(no run)" for other loggers
    statements: int = 0
    longest_statement: float = 0.0  # seconds

    def table_rows(self) -> dict[str, int]:
        return {
            Run._meta.db_table: self.runs,
            RunStep._meta.db_table: self.steps,
            SysLog._meta.db_table: self.logs,
        }


def kept_run_ids() -> set[int]:
    """The runs kept whatever their age: each flow's last success and last failure, and
    every run of their resume chains."""
    kept: set[int] = set()
    evidence = Run.objects.filter(status__in=(Run.Status.SUCCEEDED, Run.Status.FAILED))
    by_id = evidence.filter(flow_id__isnull=False).values("flow_id", "status").annotate(last=Max("id"))
    by_name = evidence.filter(flow_id__isnull=True).values("flow_name", "status").annotate(last=Max("id"))
    kept.update(row["last"] for row in by_id)
    kept.update(row["last"] for row in by_name)
    return kept | chains_of(kept)


def chains_of(run_ids: set[int]) -> set[int]:
    """Every run linked to these by resumes, in either direction, however far."""
    found = set(run_ids)
    frontier = set(run_ids)
    while frontier:
        linked: set[int] = set()
        for chunk in _chunks(sorted(frontier)):
            linked.update(
                Run.objects.filter(pk__in=chunk, resumed_from_id__isnull=False).values_list(
                    "resumed_from_id", flat=True
                )
            )
            linked.update(Run.objects.filter(resumed_from_id__in=chunk).values_list("pk", flat=True))
        frontier = linked - found
        found |= frontier
    return found


class Pruner:
    """One prune: `runs(cutoff)` and `logs(cutoff)` delete (or count, when dry) what is older."""

    def __init__(
        self,
        *,
        batch: int = DEFAULT_BATCH,
        dry_run: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("the batch size must be at least 1")
        self.batch = batch
        self.dry_run = dry_run
        self.progress = progress or (lambda line: None)
        self.result = Pruned()
        self._kept: set[int] | None = None

    @property
    def kept(self) -> set[int]:
        if self._kept is None:
            self._kept = kept_run_ids()
        return self._kept

    def runs(self, cutoff: datetime) -> None:
        """Delete the finished runs that finished before cutoff (and their steps), oldest first."""
        after = 0
        # A run cancelled before it started has no finish time: its creation counts.
        ended = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
        old = Run.objects.filter(ended, status__in=Run.FINISHED)
        while True:
            rows = list(old.filter(pk__gt=after).order_by("pk").values_list("pk", "flow_name")[: self.batch])
            if not rows:
                return
            after = rows[-1][0]
            doomed = [(pk, name) for pk, name in rows if pk not in self.kept]
            if not doomed:
                continue
            ids = [pk for pk, _ in doomed]
            steps = self._delete_steps(ids, dict(doomed))
            runs = len(ids) if self.dry_run else self._execute(_delete_ids(Run._meta.db_table, ids), ids)
            self.result.runs += runs
            self.result.steps += steps
            self.result.runs_per_flow.update(name for _, name in doomed)
            self.progress(f"runs up to id {after}: {runs} runs, {steps} steps")

    def _delete_steps(self, run_ids: list[int], flow_of: dict[int, str]) -> int:
        # A run may have 100,000 steps: its steps go in batches of their own.
        total = 0
        for chunk in _chunks(run_ids):
            steps = RunStep.objects.filter(run_id__in=chunk)
            if self.dry_run:
                for run_id, count in (
                    steps.values("run_id").annotate(n=Count("id")).values_list("run_id", "n")
                ):
                    total += count
                    self.result.steps_per_flow[flow_of[run_id]] += count
                continue
            while ids := list(steps.order_by("pk").values_list("pk", flat=True)[: self.batch]):
                total += self._execute(_delete_ids(RunStep._meta.db_table, ids), ids)
        return total

    def logs(self, cutoff: datetime) -> None:
        """Delete the wf_syslog lines written before cutoff, except those of kept runs."""
        end = SysLog.objects.first_id_at_or_after(cutoff)
        end = SysLog.objects.newest_id() + 1 if end is None else end
        keep = self._kept_log_ranges()
        low = SysLog.objects.first_id_after(0)
        table = SysLog._meta.db_table
        while low is not None and low < end:
            high = min(low + self.batch, end)
            where = ["id >= %s", "id < %s", "created_at < %s"]
            params: list = [low, high, cutoff]
            for run_id in _overlapping(keep, low, high):
                name = f"workflow.run.{run_id}"
                where.append("NOT (logger_name = %s OR logger_name LIKE %s)")
                params += [name, f"{name}.%"]
            condition = " AND ".join(where)
            if self.dry_run:
                rows = self._count_logs(table, condition, params)
            else:
                rows = self._execute(f"DELETE FROM {table} WHERE {condition}", params)
            self.result.logs += rows
            if rows:
                self.progress(f"log lines {low} to {high - 1}: {rows}")
            low = SysLog.objects.first_id_after(high - 1)

    def _count_logs(self, table: str, condition: str, params: list) -> int:
        sql = f"SELECT logger_name, COUNT(*) FROM {table} WHERE {condition} GROUP BY logger_name"
        per_run: Counter = Counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for logger_name, count in cursor.fetchall():
                per_run[_run_of(logger_name)] += count
        flows = _flow_names([run_id for run_id in per_run if run_id is not None])
        for run_id, count in per_run.items():
            self.result.logs_per_flow[flows.get(run_id, "(no run)")] += count
        return per_run.total()

    def _kept_log_ranges(self) -> list[tuple[int, int, int]]:
        """(first id, last id, run id) of the kept runs that have log lines, by first id."""
        ranges = []
        for chunk in _chunks(sorted(self.kept)):
            rows = Run.objects.filter(pk__in=chunk, log_first_id__isnull=False).values_list(
                "log_first_id", "log_last_id", "pk"
            )
            ranges += [(first, last if last is not None else first, pk) for first, last, pk in rows]
        return sorted(ranges)

    def _execute(self, sql: str, params: Iterable) -> int:
        began = time.monotonic()
        with connection.cursor() as cursor:
            if connection.vendor == "mysql" and not connection.in_atomic_block:
                # This statement alone (the next transaction) at READ COMMITTED: at MySQL's
                # REPEATABLE READ a DELETE over an id range also locks the gap after the last
                # row it reads, and when the range reaches the newest log line the log
                # writer's inserts wait for it.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cursor.execute(sql, list(params))
            count = cursor.rowcount
        elapsed = time.monotonic() - began
        self.result.statements += 1
        self.result.longest_statement = max(self.result.longest_statement, elapsed)
        return count


def prune_by_settings() -> Pruned | None:
    """Apply WORKFLOW_KEEP_RUNS_DAYS and WORKFLOW_KEEP_LOGS_DAYS; None when neither is set."""
    runs_days, logs_days = settings.WORKFLOW_KEEP_RUNS_DAYS, settings.WORKFLOW_KEEP_LOGS_DAYS
    if not runs_days and not logs_days:
        return None
    pruner = Pruner()
    now = timezone.now()
    if runs_days:
        pruner.runs(now - timedelta(days=runs_days))
    if logs_days:
        pruner.logs(now - timedelta(days=logs_days))
    return pruner.result


class DailyPrune:
    """The scheduler's daily prune, in a thread of its own: a prune of millions of rows takes
    minutes, and ticks must not wait for it. Several schedulers may each prune: deleting
    what is already gone costs a few empty statements."""

    def __init__(self, *, every: float = 24 * 3600, first_after: float = 60) -> None:
        self.every, self.first_after = every, first_after
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> "DailyPrune":
        if settings.WORKFLOW_KEEP_RUNS_DAYS or settings.WORKFLOW_KEEP_LOGS_DAYS:
            self.thread = threading.Thread(target=self._loop, name="daily-prune", daemon=True)
            self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def _loop(self) -> None:
        wait = self.first_after
        while not self.stopping.wait(wait):
            try:
                self.run_once()
            finally:
                connection.close()  # this thread's own connection: not left open for a day
            wait = self.every

    def run_once(self) -> Pruned | None:
        try:
            result = prune_by_settings()
        except DatabaseError as err:
            logger.warning("the daily prune failed (%s); trying again tomorrow", err)
            return None
        if result is not None:
            rows = ", ".join(f"{table} {count}" for table, count in result.table_rows().items())
            logger.info(
                "daily prune: deleted %s rows (longest statement %.0f ms)",
                rows,
                result.longest_statement * 1000,
            )
        return result


def _delete_ids(table: str, ids: list[int]) -> str:
    return f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})"


def _overlapping(ranges: list[tuple[int, int, int]], low: int, high: int) -> list[int]:
    return [pk for first, last, pk in ranges if first < high and last >= low]


def _run_of(logger_name: str) -> int | None:
    """The run id of a run's log line (workflow.run.<id>[.<step>]), None for other loggers."""
    parts = logger_name.split(".", 3)
    if len(parts) >= 3 and parts[0] == "workflow" and parts[1] == "run" and parts[2].isdigit():
        return int(parts[2])
    return None


def _flow_names(run_ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for chunk in _chunks(sorted(run_ids)):
        names.update(Run.objects.filter(pk__in=chunk).values_list("pk", "flow_name"))
    return names


def _chunks(items: list[int], size: int = IN_LIST) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
