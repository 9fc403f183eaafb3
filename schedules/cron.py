"""Cron expressions and their due times, as Debian cron runs them (through cronsim).

Pure Python: no Django. A due time is an aware datetime; the ledger stores it in UTC.

Debian cron's daylight-saving rules, which cronsim reproduces:
- a job at a fixed time (minute and hour fields both without `*`) whose wall-clock time
  falls in the spring-forward gap runs right after the change (02:30 -> 03:00);
- a fixed-time job in the repeated autumn hour runs once, at the first occurrence;
- a job whose hour (or minute) field is a wildcard runs by the clock as it passes: in the
  repeated hour it runs in both occurrences, and a gap hour simply does not happen.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_LENGTH = 200
# A due time is searched for at most this far ahead ("0 0 30 2 *" never comes).
HORIZON_YEARS = 5


class CronError(ValueError):
    """A cron expression or a time zone that cannot be used; the message says why."""


def fields_of(expression: str) -> str:
    """The five fields of an expression (a macro is translated); CronError when it is not valid."""
    text = " ".join(str(expression).split())
    if not text:
        raise CronError("the cron expression is empty")
    if len(text) > MAX_LENGTH:
        raise CronError(f"the cron expression is longer than {MAX_LENGTH} characters")
    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise CronError("@reboot is not a schedule: it has no due times")
        try:
            return MACROS[text.lower()]
        except KeyError:
            names = ", ".join(sorted(set(MACROS) - {"@annually", "@midnight"}))
            raise CronError(f"unknown macro {text!r}; use one of {names} or five fields") from None
    if len(text.split()) != 5:
        found = len(text.split())
        raise CronError(
            f"a cron expression has five fields (minute hour day-of-month month day-of-week), got {found}"
        )
    try:
        CronSim(text, datetime(2026, 1, 1, tzinfo=UTC))
    except (CronSimError, ValueError, IndexError) as err:
        raise CronError(f"invalid cron expression {text!r}: {err}") from None
    return text


def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name; CronError when there is none."""
    try:
        if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CronError(f"unknown time zone {name!r} (an IANA name such as Europe/Berlin)") from None


def due_times(expression: str, tz: ZoneInfo, after: datetime):
    """Due times strictly after `after` (aware), in `tz`, in order; ends past the horizon."""
    fields = fields_of(expression)
    after = after.astimezone(UTC)
    horizon = after + timedelta(days=366 * HORIZON_YEARS)
    times = CronSim(fields, after.astimezone(tz))
    while True:
        try:
            due = next(times)
        except StopIteration:
            return
        # Restarted inside a repeated hour, cronsim may yield the first occurrence of a
        # time that has already passed; the ledger counts real time.
        if due.astimezone(UTC) <= after:
            continue
        if due.astimezone(UTC) > horizon:
            return
        yield due


def next_due(expression: str, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first due time strictly after `after`, in UTC; None when it never comes."""
    for due in due_times(expression, tz, after):
        return due.astimezone(UTC)
    return None


@dataclass(frozen=True)
class DueTime:
    at: datetime  # aware, in the schedule's zone
    note: str = ""  # set when a daylight-saving change moves it or it is in a repeated hour


def preview(expression: str, tz: ZoneInfo, after: datetime, count: int) -> list[DueTime]:
    """The next `count` due times strictly after `after`, each with its DST note if any."""
    fields = fields_of(expression)
    minutes, hours = _minutes_and_hours(fields)
    result = []
    previous = after
    for due in due_times(fields, tz, after):
        result.append(DueTime(due, _note(due, previous, tz, minutes, hours, fixed=_is_fixed_time(fields))))
        previous = due
        if len(result) >= count:
            break
    return result


def _is_fixed_time(fields: str) -> bool:
    """cronsim's (and Debian cron's) test for a job at a fixed time of day."""
    minute, hour = fields.split()[:2]
    return not minute.startswith("*") and not hour.startswith("*")


def _minutes_and_hours(fields: str) -> tuple[set[int], set[int]]:
    parsed = CronSim(fields, datetime(2026, 1, 1, tzinfo=UTC))
    return set(parsed.minutes), set(parsed.hours)


def _exists(day: date, hour: int, minute: int, tz: ZoneInfo) -> bool:
    wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _is_repeated(moment: datetime) -> bool:
    other = moment.replace(fold=1 - moment.fold)
    return other.utcoffset() != moment.utcoffset()


def _note(
    due: datetime, previous: datetime, tz: ZoneInfo, minutes: set[int], hours: set[int], fixed: bool
) -> str:
    day = due.strftime("%-d %b")
    if fixed and (due.hour not in hours or due.minute not in minutes):
        wanted = [
            (h, m)
            for h in sorted(hours)
            for m in sorted(minutes)
            if (h, m) < (due.hour, due.minute) and not _exists(due.date(), h, m, tz)
        ]
        if wanted:
            h, m = wanted[-1]
            return (
                f"{day}: {h:02d}:{m:02d} does not exist in {tz.key} (clocks go forward), runs at {due:%H:%M}"
            )
    if not fixed and previous.astimezone(tz).utcoffset() < due.utcoffset():
        skipped = [
            f"{h:02d}:{m:02d}"
            for h in sorted(hours)
            for m in sorted(minutes)
            if (h, m) < (due.hour, due.minute) and not _exists(due.date(), h, m, tz)
        ]
        if skipped:
            shown = ", ".join(skipped[:3]) + (" ..." if len(skipped) > 3 else "")
            verb = "does" if len(skipped) == 1 else "do"
            return f"{day}: {shown} {verb} not exist in {tz.key} (clocks go forward): not run"
    if _is_repeated(due):
        twice = f"{day}: {due:%H:%M} happens twice in {tz.key} (clocks go back)"
        if fixed:
            return f"{twice}, runs once, at the first ({due:%Z})"
        return f"{twice}, runs at each ({due:%Z})"
    return ""
