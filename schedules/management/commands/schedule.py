"""`manage.py schedule ACTION`: add, list, preview, pause, resume and remove schedules, read
the tick ledger, and turn a crontab's `manage.py runflow` lines into schedules.

Exit codes as runflow: 0 done, 2 refused, with a one-line reason on stderr.
"""

import argparse
import getpass
import json
import os
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import DatabaseError
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from flows.models import Flow
from runner import services
from runner.management.commands.runflow import input_options
from runner.management.refusing import RefusingCommand
from schedules import cron, editing
from schedules.management import crontab
from schedules.models import Schedule, Tick

UPCOMING = 3  # due times shown by `add` and `list`
MAX_COUNT = 1000  # --count and --limit
MAX_CRONTAB = 1_000_000  # characters of a crontab file
YEARS = (1900, 9000)  # --from outside these cannot be computed with


class Refused(Exception):
    """A request this command turns down; the message says why, in one line."""


def _bounded(low: int, high: int):
    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return number


def _schedule_id(text: str) -> int:
    return _bounded(1, 2**63 - 1)(text)


class Command(RefusingCommand):
    command_name = "schedule"

    help = "Manage flow schedules. Exit code 0 done, 2 refused (the reason on stderr)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        _add_arguments(actions.add_parser("add", help="schedule a flow; prints its id and next due times"))
        _list_arguments(
            actions.add_parser("list", help="every schedule, its next due times and last outcome")
        )
        _ticks_arguments(actions.add_parser("ticks", help="the tick ledger, newest first"))
        _preview_arguments(actions.add_parser("preview", help="the next due times of a cron expression"))
        for name, what in (("pause", "stop"), ("resume", "restart"), ("remove", "delete")):
            action = actions.add_parser(name, help=f"{what} a schedule")
            action.add_argument("id", type=_schedule_id, metavar="ID", help="the schedule's id")
        _import_arguments(
            actions.add_parser("import-crontab", help="turn crontab runflow lines into schedules")
        )

    def handle(self, *args, action: str, **options) -> None:
        try:
            _check_text(options)
            getattr(self, "_" + action.replace("-", "_"))(options)
        except (Refused, editing.ScheduleError, cron.CronError, services.CannotStart) as err:
            self._refuse(action, str(err))
        except DatabaseError as err:
            self._refuse(action, f"the database failed: {err}")

    # add

    def _add(self, options: dict) -> None:
        flow = _flow_named(options["flow"])
        values, texts = input_options(options["input"], options["input_json"])
        schedule = editing.create(
            flow,
            cron_text=options["cron"],
            tz_name=options["tz"],
            input=values,
            input_texts=texts,
            overlap=options["overlap"],
            catch_up=options["catch_up"],
            catch_up_limit=options["catch_up_limit"],
            note=options["note"],
            deadline=options["deadline"],
            created_by=_os_user(),
        )
        self.stdout.write(
            f"schedule {schedule.pk} added: {_described(flow, schedule.cron, schedule.timezone)}"
        )
        if not flow.enabled:
            self.stderr.write(f"note: {_disabled(flow)}")
        self._print_due_times(upcoming(schedule, UPCOMING))

    # list

    def _list(self, options: dict) -> None:
        last = Tick.objects.filter(schedule_id=OuterRef("pk")).order_by("-due", "-id").values("outcome")[:1]
        schedules = list(Schedule.objects.annotate(last_outcome=Subquery(last)).order_by("id"))
        flows = Flow.all_objects.in_bulk({s.flow_id for s in schedules})
        if options["json"]:
            self._print_json([_listed(s, flows.get(s.flow_id)) for s in schedules])
            return
        if not schedules:
            self.stdout.write("no schedules")
            return
        headers = ("ID", "FLOW", "CRON", "ZONE", "STATE", "OVERLAP", "CATCH-UP", "NEXT DUE", "LAST")
        self._print_table(headers, [_list_row(s, flows.get(s.flow_id)) for s in schedules])

    # ticks

    def _ticks(self, options: dict) -> None:
        ticks = Tick.objects.order_by("-due", "-id")
        if (schedule_id := options["id"]) is not None:
            ticks = ticks.filter(schedule_id=schedule_id)
            # A removed schedule keeps its ledger: its id is known while it has rows.
            if not Schedule.objects.filter(pk=schedule_id).exists() and not ticks.exists():
                raise Refused(f"no schedule {schedule_id}")
        ticks = list(ticks[: options["limit"]])
        zones = dict(
            Schedule.objects.filter(pk__in={t.schedule_id for t in ticks}).values_list("pk", "timezone")
        )
        if options["json"]:
            self._print_json([_tick(t, zones.get(t.schedule_id)) for t in ticks])
        elif not ticks:
            self.stdout.write("no ticks")
        else:
            rows = [_tick_row(_tick(t, zones.get(t.schedule_id))) for t in ticks]
            self._print_table(("DUE", "SCHEDULE", "OUTCOME", "RUN", "DETAIL"), rows)

    # preview

    def _preview(self, options: dict) -> None:
        tz = cron.zone(options["tz"] or settings.TIME_ZONE)
        after = _instant(options["start"], tz) if options["start"] else timezone.now()
        times = cron.preview(options["cron"], tz, after, options["count"])
        if options["json"]:
            self._print_json(
                {"due": [t.at.isoformat() for t in times], "notes": [t.note for t in times if t.note]}
            )
        elif not times:
            self.stdout.write(f"no due time in the next {cron.HORIZON_YEARS} years")
        else:
            self._print_due_times(times)

    # pause, resume, remove

    def _pause(self, options: dict) -> None:
        schedule = editing.pause(_schedule(options["id"]))
        self.stdout.write(f"schedule {schedule.pk} paused")

    def _resume(self, options: dict) -> None:
        schedule = editing.resume(_schedule(options["id"]))
        due = upcoming(schedule, 1)
        when = f"next due {due[0].at.isoformat()}" if due else "it has no due time"
        self.stdout.write(f"schedule {schedule.pk} resumed; {when}")

    def _remove(self, options: dict) -> None:
        schedule = _schedule(options["id"])
        editing.remove(schedule)
        kept = Tick.objects.filter(schedule_id=schedule.pk).count()
        self.stdout.write(f"schedule {schedule.pk} removed; its {kept} ledger row(s) are kept")

    # import-crontab

    def _import_crontab(self, options: dict) -> None:
        path, dry_run = options["file"], options["dry_run"]
        importer = _Importer(source=os.path.basename(path), dry_run=dry_run)
        for item in crontab.read(_read_text(path)):
            status, message = importer.take(item)
            self.stdout.write(f"line {item.number}: {status}: {message}")
        self.stdout.write(importer.summary())
        if importer.failed:
            count, lines = len(importer.failed), ", ".join(str(n) for n in importer.failed)
            plural = "s" if count > 1 else ""
            raise Refused(f"{count} runflow line{plural} could not be converted (line{plural} {lines})")

    # output

    def _print_due_times(self, times: list[cron.DueTime]) -> None:
        for due in times:
            self.stdout.write(f"  {due.at.isoformat()}  {due.note}".rstrip())

    def _print_table(self, headers: tuple[str, ...], rows: list[tuple]) -> None:
        cells = [headers, *[tuple("-" if v is None else str(v) for v in row) for row in rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
        for row in cells:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())

    def _print_json(self, value) -> None:
        self.stdout.write(json.dumps(value, ensure_ascii=False))


def _add_arguments(parser: CommandParser) -> None:
    parser.add_argument("flow", metavar="FLOW", help="the flow's flow_name")
    parser.add_argument("cron", metavar="CRON", help='five fields ("30 2 * * *") or @hourly, @daily, ...')
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone (default: TIME_ZONE)")
    parser.add_argument(
        "--input", action="append", default=[], metavar="KEY=VALUE", help="run input, as runflow's --input"
    )
    parser.add_argument("--input-json", metavar="JSON", help="run input as one JSON object, as runflow's")
    parser.add_argument("--overlap", choices=Schedule.Overlap.values, default=Schedule.Overlap.ALLOW)
    parser.add_argument("--catch-up", choices=Schedule.CatchUp.values, default=Schedule.CatchUp.SKIP)
    parser.add_argument(
        "--catch-up-limit",
        type=_bounded(1, Schedule.MAX_CATCH_UP),
        default=10,
        metavar="N",
        help="runs at most for missed ticks with --catch-up all (default 10)",
    )
    parser.add_argument("--note", default="", metavar="TEXT")
    parser.add_argument(
        "--deadline",
        metavar="HH:MM",
        help="daily: a successful run by this time in the zone, else a deadline_missed notification",
    )


def _list_arguments(parser: CommandParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON list")


def _ticks_arguments(parser: CommandParser) -> None:
    parser.add_argument("id", nargs="?", type=_schedule_id, metavar="ID", help="only this schedule's ticks")
    parser.add_argument("--limit", type=_bounded(1, MAX_COUNT), default=20, metavar="N", help="default 20")
    parser.add_argument("--json", action="store_true", help="print one JSON list")


def _preview_arguments(parser: CommandParser) -> None:
    parser.add_argument("cron", metavar="CRON", help='five fields ("30 2 * * *") or @hourly, @daily, ...')
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone (default: TIME_ZONE)")
    parser.add_argument(
        "--from",
        dest="start",
        metavar="ISO-8601",
        help="due times strictly after this (default now); without an offset, wall-clock time in --tz",
    )
    parser.add_argument("--count", type=_bounded(1, MAX_COUNT), default=5, metavar="N", help="default 5")
    parser.add_argument("--json", action="store_true", help='print {"due": [...], "notes": [...]}')


def _import_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a user crontab (m h dom mon dow command)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be added; save nothing")


def _check_text(options: dict) -> None:
    # Argument bytes that are not UTF-8 arrive as lone surrogates, which no column can hold.
    for name, value in options.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not _is_utf8(text):
                raise Refused(f"the {name.replace('_', '-')} argument is not UTF-8 text")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flow_named(name: str) -> Flow:
    """The flow of that name, if a schedule may belong to it: a disabled flow may (its ticks
    are refused until it is enabled), a deleted or unknown one may not."""
    flow = Flow.all_objects.filter(flow_name=name).first()
    if flow is None:
        raise Refused(f"flow {name!r} not found")
    if flow.deleted:
        raise Refused(f"flow {name!r} is deleted")
    return flow


def _schedule(schedule_id: int) -> Schedule:
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        raise Refused(f"no schedule {schedule_id}")
    return schedule


def upcoming(schedule: Schedule, count: int) -> list[cron.DueTime]:
    """The schedule's next due times from its stored next due time on (none while paused).

    The stored time is the next tick the scheduler will handle: shown first even when it has
    passed, so a schedule no scheduler is serving shows it."""
    if schedule.next_due is None:
        return []
    before = schedule.next_due - timedelta(seconds=1)
    return cron.preview(schedule.cron, cron.zone(schedule.timezone), before, count)


def _instant(text: str, tz) -> datetime:
    """--from: an ISO-8601 time; one without an offset is wall-clock time in `tz`."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Refused(f"--from {text!r} is not an ISO-8601 time such as 2026-03-28T12:00") from None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise Refused(f"--from must be in a year from {YEARS[0]} to {YEARS[1]}")
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _listed(schedule: Schedule, flow: Flow | None) -> dict:
    return {
        "id": schedule.pk,
        "flow": flow.flow_name if flow else None,
        "cron": schedule.cron,
        "tz": schedule.timezone,
        "enabled": schedule.enabled,
        "overlap": schedule.overlap,
        "catch_up": schedule.catch_up,
        "next_due": [due.at.isoformat() for due in upcoming(schedule, UPCOMING)],
        "last_outcome": schedule.last_outcome,
        "deadline": f"{schedule.deadline:%H:%M}" if schedule.deadline else None,
    }


def _list_row(schedule: Schedule, flow: Flow | None) -> tuple:
    listed = _listed(schedule, flow)
    name = f"(flow {schedule.flow_id} gone)" if flow is None else flow.flow_name
    if flow is not None and (flow.deleted or not flow.enabled):
        name += " (deleted)" if flow.deleted else " (disabled)"
    state = "enabled" if schedule.enabled else "paused"
    next_due = listed["next_due"][0] if listed["next_due"] else None
    return (
        schedule.pk,
        name,
        schedule.cron,
        schedule.timezone,
        state,
        schedule.overlap,
        schedule.catch_up,
        next_due,
        schedule.last_outcome,
    )


def _tick(tick: Tick, tz_name: str | None) -> dict:
    # In the schedule's zone; a removed schedule's ticks in TIME_ZONE.
    tz = cron.zone(tz_name or settings.TIME_ZONE)
    return {
        "schedule": tick.schedule_id,
        "due": tick.due.astimezone(tz).isoformat(),
        "outcome": tick.outcome,
        "run_id": tick.run_id,
        "detail": tick.detail,
    }


def _tick_row(tick: dict) -> tuple:
    return (tick["due"], tick["schedule"], tick["outcome"], tick["run_id"], tick["detail"] or None)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read(MAX_CRONTAB + 1)
    except UnicodeDecodeError as err:
        raise Refused(f"cannot read {path}: not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise Refused(f"cannot read {path}: {err.strerror or err}") from None
    if len(text) > MAX_CRONTAB:
        raise Refused(f"cannot read {path}: longer than {MAX_CRONTAB} characters")
    return text


def _described(flow: Flow, cron_text: str, tz_name: str, run_input: dict | None = None) -> str:
    text = f"flow {flow.flow_name!r}, {cron_text} in {tz_name}"
    return f"{text}, input {json.dumps(run_input, ensure_ascii=False)}" if run_input else text


def _disabled(flow: Flow) -> str:
    return f"flow {flow.flow_name!r} is disabled: its ticks are refused until it is enabled"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class _Importer:
    """Turns crontab items into schedules, one at a time, and counts what became of them.

    A job whose flow, cron (macros translated), zone and input match an existing schedule,
    paused ones included, or an earlier line of the file, is "already scheduled", so
    importing a file again adds nothing twice."""

    def __init__(self, *, source: str, dry_run: bool) -> None:
        self.source, self.dry_run = source, dry_run
        self.counts: Counter[str] = Counter()
        self.failed: list[int] = []
        self.planned: dict[tuple, int] = {}  # key -> line number, for this file's own repeats

    def take(self, item) -> tuple[str, str]:
        status, message = self._outcome(item)
        self.counts[status] += 1
        if status == "failed":
            self.failed.append(item.number)
        return status, message

    def _outcome(self, item) -> tuple[str, str]:
        if isinstance(item, crontab.Remark):
            return item.kind, item.text
        if isinstance(item, crontab.Refusal):
            return "failed", item.reason
        try:
            return self._job(item)
        except (Refused, editing.ScheduleError, services.CannotStart) as err:
            return "failed", " ".join(str(err).split())

    def _job(self, job: crontab.Job) -> tuple[str, str]:
        flow = _flow_named(job.flow)
        values, texts = input_options(job.pairs, job.input_json)
        fields = editing.cleaned(
            flow=flow,
            cron_text=job.cron,
            tz_name=job.tz,
            input=values,
            input_texts=texts,
            # Without --concurrency, runflow used the flow's default policy: keep it.
            overlap=job.concurrency or services.concurrency_policy(flow.flow_name),
            note=f"imported from {self.source} line {job.number}",
        )
        key = (flow.pk, cron.fields_of(fields["cron"]), fields["timezone"], _canonical(fields["input"]))
        if same := self._same_as(key):
            return "already scheduled", f"{same} has the same flow, cron, zone and input"
        self.planned[key] = job.number
        described = _described(flow, fields["cron"], fields["timezone"], fields["input"])
        if fields["overlap"] != Schedule.Overlap.ALLOW:
            described += f", overlap {fields['overlap']}"
        if not flow.enabled:
            described += f" ({_disabled(flow)})"
        if self.dry_run:
            return "would add", described
        schedule = editing.create(
            flow,
            created_by=_os_user(),
            cron_text=fields.pop("cron"),
            tz_name=fields.pop("timezone"),
            **fields,
        )
        return "added", f"schedule {schedule.pk}: {described}"

    def _same_as(self, key: tuple) -> str | None:
        if key in self.planned:
            return f"line {self.planned[key]}"
        flow_id, fields, tz_name, run_input = key
        for schedule in Schedule.objects.filter(flow_id=flow_id, timezone=tz_name).order_by("id"):
            if (cron.fields_of(schedule.cron), _canonical(schedule.input)) == (fields, run_input):
                return f"schedule {schedule.pk}"
        return None

    def summary(self) -> str:
        # Notes (variable settings) are not counted: they convert nothing and fail nothing.
        order = ("added", "would add", "already scheduled", "failed", "skipped")
        counted = ", ".join(f"{self.counts[s]} {s}" for s in order if self.counts[s])
        suffix = " (dry run: nothing saved)" if self.dry_run else ""
        return f"{counted or 'nothing to import'}{suffix}"


def _canonical(run_input: dict) -> str:
    # 1 and true are equal in Python but not as run input: compare the JSON text.
    return json.dumps(run_input, sort_keys=True)
