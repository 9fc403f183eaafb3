"""Creating, changing, pausing and removing schedules: the one set of rules behind the CLI,
the dashboard and the admin.

A schedule's next_due is computed here from the moment of the change: a new, changed or
resumed schedule starts with its next due time after now (the ticks of a pause are not
"missed"; nothing was meant to run), and the scheduler notices it at its next wake.
"""

from datetime import datetime, time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flows.models import Flow
from runner import engine
from runner.services import BadInput, checked_input, input_problem
from schedules import cron
from schedules.models import Schedule

NOTE_LENGTH = 500


class ScheduleError(ValueError):
    """A schedule that cannot be saved; the message says why, in one line."""


class ScheduleInputError(ScheduleError):
    """The input does not fit the flow's declared inputs: `problems` lists every one, in the
    words a run refused for them shows (runner.services.BadInput)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the input does not fit the flow's inputs: " + "; ".join(problems))
        self.problems = problems


def cleaned(
    *,
    cron_text: str,
    tz_name: str | None = None,
    flow: Flow | None = None,
    input: object = None,
    input_texts: dict[str, str] | None = None,
    overlap: str = Schedule.Overlap.ALLOW,
    catch_up: str = Schedule.CatchUp.SKIP,
    catch_up_limit: int = 10,
    note: str = "",
    deadline: str | time | None = None,
) -> dict:
    """The checked fields of a schedule, or ScheduleError naming the first bad one.

    The input is `input` (JSON values) and `input_texts` (key=value texts, read by type);
    with the flow, it is checked against the inputs the flow declares (see schedule_input).
    """
    tz_name = tz_name or settings.TIME_ZONE
    try:
        cron.fields_of(cron_text)
        cron.zone(tz_name)
    except cron.CronError as err:
        raise ScheduleError(str(err)) from None
    input = schedule_input(flow, {} if input is None else input, input_texts or {})
    if overlap not in Schedule.Overlap.values:
        raise ScheduleError(f"overlap must be one of {', '.join(Schedule.Overlap.values)}")
    if catch_up not in Schedule.CatchUp.values:
        raise ScheduleError(f"catch-up must be one of {', '.join(Schedule.CatchUp.values)}")
    if isinstance(catch_up_limit, bool) or not isinstance(catch_up_limit, int):
        raise ScheduleError("the catch-up limit must be a whole number")
    if not 1 <= catch_up_limit <= Schedule.MAX_CATCH_UP:
        raise ScheduleError(f"the catch-up limit must be between 1 and {Schedule.MAX_CATCH_UP}")
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise ScheduleError(f"the note is longer than {NOTE_LENGTH} characters")
    return {
        "deadline": deadline_of(deadline),
        "cron": " ".join(cron_text.split()),
        "timezone": tz_name,
        "input": input,
        "overlap": overlap,
        "catch_up": catch_up,
        "catch_up_limit": catch_up_limit,
        "note": note,
    }


def schedule_input(flow: Flow | None, values: object, texts: dict[str, str]) -> dict:
    """The input a schedule stores: what the user gave, each value checked against the flow's
    declared inputs as a run's input is (texts read by their input's type), ScheduleInputError
    listing every problem.

    The defaults are not stored: a tick's run gets the defaults of the definition at that time,
    so changing a default applies to the schedule's next runs. The flow may change its
    declaration after the schedule is saved; create_run checks the input again at each tick.
    """
    if problem := input_problem(values):
        raise ScheduleError(problem)
    specs = None if flow is None else engine.declared_inputs(flow.flow_json)
    try:
        data = checked_input(specs, values, texts)
    except BadInput as err:
        raise ScheduleInputError(err.problems) from None
    given = {key: data[key] for key in {**values, **texts}}
    if problem := input_problem(given):
        raise ScheduleError(problem)
    return given


def deadline_of(value: str | time | None) -> time | None:
    """A deadline as a wall time to the minute: "HH:MM", a time, or None/"" for none."""
    if value is None or value == "":
        return None
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = value.strip() if isinstance(value, str) else None
    hours, _, minutes = (text or "").partition(":")
    if not (
        len(hours) in (1, 2)
        and len(minutes) == 2
        and (hours + minutes).isascii()
        and (hours + minutes).isdigit()
    ):
        raise ScheduleError(f"the deadline must be a time as HH:MM (e.g. 06:00), got {value!r}")
    if int(hours) > 23 or int(minutes) > 59:
        raise ScheduleError(f"the deadline {text!r} is not a time of day (00:00 to 23:59)")
    return time(int(hours), int(minutes))


def first_due(cron_text: str, tz_name: str, now: datetime) -> datetime | None:
    return cron.next_due(cron_text, cron.zone(tz_name), now)


def create(flow: Flow, *, created_by: str = "", now: datetime | None = None, **fields) -> Schedule:
    """A new enabled schedule of the flow; ScheduleError when a field is bad."""
    if flow.deleted:
        raise ScheduleError(f"flow {flow.flow_name!r} is deleted")
    values = cleaned(flow=flow, **fields)
    now = now or timezone.now()
    return Schedule.objects.create(
        flow_id=flow.pk,
        created_by=created_by[:150],
        next_due=first_due(values["cron"], values["timezone"], now),
        **values,
    )


def update(schedule: Schedule, *, now: datetime | None = None, **fields) -> Schedule:
    """Change a schedule; a new cron or zone moves its next due time to after now."""
    values = cleaned(flow=Flow.all_objects.filter(pk=schedule.flow_id).first(), **fields)
    now = now or timezone.now()
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        retimed = (values["cron"], values["timezone"]) != (schedule.cron, schedule.timezone)
        if (values["deadline"], values["timezone"]) != (schedule.deadline, schedule.timezone):
            # A new deadline is judged from now on, not for the days before it was set.
            schedule.deadline_checked_at = now
        for name, value in values.items():
            setattr(schedule, name, value)
        if schedule.enabled and (retimed or schedule.next_due is None):
            schedule.next_due = first_due(schedule.cron, schedule.timezone, now)
        schedule.save()
    return schedule


def pause(schedule: Schedule) -> Schedule:
    Schedule.objects.filter(pk=schedule.pk).update(enabled=False, next_due=None, updated_at=timezone.now())
    schedule.refresh_from_db()
    return schedule


def resume(schedule: Schedule, now: datetime | None = None) -> Schedule:
    """Enabled again, from its next due time after now."""
    now = now or timezone.now()
    Schedule.objects.filter(pk=schedule.pk).update(
        enabled=True, next_due=first_due(schedule.cron, schedule.timezone, now), updated_at=now
    )
    schedule.refresh_from_db()
    return schedule


def remove(schedule: Schedule) -> None:
    """Gone; its ledger rows stay (they carry the schedule's id)."""
    Schedule.objects.filter(pk=schedule.pk).delete()
