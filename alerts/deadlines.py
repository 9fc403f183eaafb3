"""Schedule deadlines: "a successful run of this flow by 06:00 in the schedule's zone", daily.

check_deadlines() is called often (by the sender thread): it judges each deadline instant
once, after it has passed, and writes a "deadline_missed" notification for each channel of the
flow's current definition that subscribes to it when no run of the flow succeeded in the day
before. The judgement and the rows are one transaction per schedule, and the dedup key keeps
two processes judging at once from writing twice.
"""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import Notification
from alerts.outbox import WORDS, rules_of
from flows.models import Flow
from runner.models import Run
from schedules.models import Schedule

EVENT = "deadline_missed"
DAY = timedelta(days=1)
# Two deadline instants of a schedule are at least 23 hours apart (a day that loses an hour);
# a schedule judged more recently than this has no instant left to judge.
SHORTEST_GAP = timedelta(hours=22)
MAX_GAP_MINUTES = 24 * 60  # how far a wall time that does not exist is moved forward, at most


def check_deadlines(now: datetime) -> int:
    """Judge the deadline instants passed by `now` not judged yet; returns how many
    notifications were written."""
    candidates = Schedule.objects.filter(enabled=True, deadline__isnull=False).filter(
        Q(deadline_checked_at__isnull=True) | Q(deadline_checked_at__lte=now - SHORTEST_GAP)
    )
    written = 0
    for schedule in candidates:
        instant = last_deadline(schedule.deadline, ZoneInfo(schedule.timezone), now)
        if _to_judge(schedule, instant):
            written += _judge(schedule.pk, instant)
    return written


def last_deadline(deadline: time, tz: ZoneInfo, now: datetime) -> datetime:
    """The latest instant at or before `now` when the wall clock of `tz` reads `deadline`."""
    today = now.astimezone(tz).date()
    instant = deadline_on(today, deadline, tz)
    return instant if instant <= now else deadline_on(today - DAY, deadline, tz)


def deadline_on(day: date, deadline: time, tz: ZoneInfo) -> datetime:
    """The instant of `deadline` on `day` in `tz`: on a day the clocks go forward past it, the
    first wall time after it that exists; on a day a wall time happens twice, the first."""
    wall = datetime.combine(day, deadline, tzinfo=tz)  # fold=0: the first of a repeated time
    for _ in range(MAX_GAP_MINUTES):
        if _exists(wall):
            return wall.astimezone(UTC)
        wall += timedelta(minutes=1)  # wall-clock arithmetic: the next minute of the day
    raise ValueError(f"no wall time after {deadline} exists on {day} in {tz.key}")


def missed_message(flow_name: str, deadline: time, tz_name: str, day: date) -> str:
    """One line naming the flow, the deadline and the day, with a link to the flow page."""
    link = f"{settings.WORKFLOW_BASE_URL.rstrip('/')}/flows/{quote(flow_name, safe='')}/"
    return (
        f"Flow {flow_name!r} {WORDS[EVENT]}: no successful run by {deadline:%H:%M} {tz_name} "
        f"on {day.isoformat()} - {link}"
    )


def _exists(wall: datetime) -> bool:
    return wall.astimezone(UTC).astimezone(wall.tzinfo).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _to_judge(schedule: Schedule, instant: datetime) -> bool:
    # Not judged yet, and passed while the schedule existed (a new schedule is not judged for
    # a deadline that came before it).
    judged = schedule.deadline_checked_at is not None and schedule.deadline_checked_at >= instant
    return not judged and instant > schedule.created_at


def _judge(schedule_pk: int, instant: datetime) -> int:
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().filter(pk=schedule_pk).first()
        if schedule is None or not _to_judge(schedule, instant):
            return 0  # removed, or judged by another process meanwhile
        written = 0 if _succeeded(schedule.flow_id, instant) else _notify(schedule, instant)
        Schedule.objects.filter(pk=schedule.pk).update(deadline_checked_at=instant)
    return written


def _succeeded(flow_id: int, instant: datetime) -> bool:
    return Run.objects.filter(
        flow_id=flow_id, status=Run.Status.SUCCEEDED, finished_at__gt=instant - DAY, finished_at__lte=instant
    ).exists()


def _notify(schedule: Schedule, instant: datetime) -> int:
    flow = Flow.objects.filter(pk=schedule.flow_id).first()  # a deleted flow is not watched
    if flow is None:
        return 0
    channels = sorted({rule.channel for rule in rules_of(flow.flow_json) if EVENT in rule.on})
    tz = ZoneInfo(schedule.timezone)
    text = missed_message(flow.flow_name, schedule.deadline, schedule.timezone, instant.astimezone(tz).date())
    now = timezone.now()
    rows = [
        Notification(
            run_id=None,
            flow_id=flow.pk,
            event=EVENT,
            channel=channel,
            dedup_key=f"deadline:{schedule.pk}:{instant.isoformat()}:{channel}",
            message=text,
            next_attempt_at=now,
        )
        for channel in channels
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
