"""check_deadlines: a schedule's daily deadline judged once, after it has passed."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from alerts.deadlines import check_deadlines, deadline_on, last_deadline
from alerts.models import Notification
from flows.models import Flow
from schedules import editing
from schedules.models import Schedule
from tests.alerts.helpers import notifying
from tests.factories import make_run

pytestmark = pytest.mark.django_db

BERLIN = "Europe/Berlin"
# 06:00 in Berlin on 3 Dec 2026 (winter: UTC+1).
DEADLINE = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)


def watched(*rules, deadline: str = "06:00", tz: str = BERLIN, created: datetime | None = None) -> Schedule:
    """The flow "nightly" (with the rules given) and its daily schedule with a deadline,
    created a week before DEADLINE unless said otherwise."""
    flow = Flow.objects.create(flow_name="nightly", flow_json=notifying(*rules))
    schedule = editing.create(flow, cron_text="0 2 * * *", tz_name=tz, deadline=deadline)
    Schedule.objects.filter(pk=schedule.pk).update(created_at=created or DEADLINE - timedelta(days=7))
    return schedule


def succeeded_at(finished: datetime) -> None:
    make_run("nightly", "succeeded", finished_at=finished)


@override_settings(WORKFLOW_BASE_URL="https://wf.example")
def test_a_missed_deadline_writes_one_notification_once():
    schedule = watched((["deadline_missed"], "ops"), (["failed"], "quiet"))

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 1
    assert check_deadlines(DEADLINE + timedelta(minutes=2)) == 0

    row = Notification.objects.get()
    assert (row.event, row.channel, row.run_id, row.status) == ("deadline_missed", "ops", None, "pending")
    assert row.dedup_key == f"deadline:{schedule.pk}:{DEADLINE.isoformat()}:ops"
    assert row.message == (
        "Flow 'nightly' missed its deadline: no successful run by 06:00 Europe/Berlin on 2026-12-03"
        " - https://wf.example/flows/nightly/"
    )
    schedule.refresh_from_db()
    assert schedule.deadline_checked_at == DEADLINE


def test_before_todays_deadline_passes_only_yesterdays_is_judged():
    schedule = watched((["deadline_missed"], "ops"))

    assert check_deadlines(DEADLINE - timedelta(minutes=1)) == 1
    assert check_deadlines(DEADLINE) == 1

    keys = sorted(Notification.objects.values_list("dedup_key", flat=True))
    assert keys == [
        f"deadline:{schedule.pk}:{d.isoformat()}:ops" for d in (DEADLINE - timedelta(days=1), DEADLINE)
    ]


def test_a_success_before_the_deadline_writes_nothing():
    schedule = watched((["deadline_missed"], "ops"))
    succeeded_at(DEADLINE - timedelta(hours=3))

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 0

    assert not Notification.objects.exists()
    schedule.refresh_from_db()
    assert schedule.deadline_checked_at == DEADLINE


def test_a_success_after_the_deadline_or_a_day_before_it_does_not_count():
    watched((["deadline_missed"], "ops"))
    succeeded_at(DEADLINE + timedelta(seconds=1))
    succeeded_at(DEADLINE - timedelta(days=1))

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 1


def test_a_failed_run_does_not_meet_the_deadline():
    watched((["deadline_missed"], "ops"))
    make_run("nightly", "failed", finished_at=DEADLINE - timedelta(hours=1))

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 1


def test_a_schedule_created_after_the_deadline_instant_is_not_judged_for_that_day():
    schedule = watched((["deadline_missed"], "ops"), created=DEADLINE + timedelta(minutes=5))

    assert check_deadlines(DEADLINE + timedelta(hours=1)) == 0
    assert check_deadlines(DEADLINE + timedelta(days=1, minutes=1)) == 1

    assert Notification.objects.get().dedup_key.startswith(
        f"deadline:{schedule.pk}:{(DEADLINE + timedelta(days=1)).isoformat()}"
    )


def test_a_flow_without_a_deadline_missed_rule_writes_no_row_but_is_judged():
    schedule = watched((["failed"], "ops"))

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 0

    assert not Notification.objects.exists()
    schedule.refresh_from_db()
    assert schedule.deadline_checked_at == DEADLINE


def test_a_paused_schedule_or_one_without_a_deadline_is_not_judged():
    schedule = watched((["deadline_missed"], "ops"))
    editing.pause(schedule)
    Schedule.objects.create(flow_id=schedule.flow_id, cron="@daily", timezone=BERLIN)

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 0


def test_each_subscribed_channel_of_the_current_definition_gets_one_row():
    watched((["deadline_missed"], "ops"), (["deadline_missed", "failed"], "team"))

    assert check_deadlines(DEADLINE + timedelta(minutes=1)) == 2

    assert sorted(Notification.objects.values_list("channel", flat=True)) == ["ops", "team"]


# Daylight saving: Europe/Berlin skips 02:00-03:00 on 29 March 2026 and has 02:00-03:00 twice
# on 25 October 2026.


def test_a_deadline_in_the_spring_gap_is_the_first_wall_time_after_it():
    instant = deadline_on(datetime(2026, 3, 29).date(), time(2, 30), _berlin())

    assert instant == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST


def test_a_repeated_deadline_is_its_first_occurrence():
    instant = deadline_on(datetime(2026, 10, 25).date(), time(2, 30), _berlin())

    assert instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not CET


def test_on_the_spring_day_a_missed_deadline_in_the_gap_is_judged_at_the_gaps_end():
    watched((["deadline_missed"], "ops"), deadline="02:30", created=datetime(2026, 3, 20, tzinfo=UTC))
    gap_end = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    succeeded_at(datetime(2026, 3, 28, 0, 30, tzinfo=UTC))  # meets the day before's 02:30 CET only

    assert check_deadlines(gap_end - timedelta(seconds=1)) == 0
    assert check_deadlines(gap_end) == 1

    assert "no successful run by 02:30 Europe/Berlin on 2026-03-29" in Notification.objects.get().message


def test_the_last_deadline_is_yesterdays_until_todays_has_passed():
    tz = _berlin()

    assert last_deadline(time(6, 0), tz, DEADLINE - timedelta(seconds=1)) == DEADLINE - timedelta(days=1)
    assert last_deadline(time(6, 0), tz, DEADLINE) == DEADLINE


def test_changing_the_deadline_judges_only_deadlines_after_the_change():
    schedule = watched((["deadline_missed"], "ops"), deadline="")
    fields = {"cron_text": schedule.cron, "tz_name": BERLIN, "deadline": "06:00"}

    editing.update(schedule, now=DEADLINE + timedelta(hours=2), **fields)

    assert check_deadlines(DEADLINE + timedelta(hours=3)) == 0
    assert check_deadlines(DEADLINE + timedelta(days=1)) == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("6am", "the deadline must be a time as HH:MM"),
        ("24:00", "is not a time of day"),
        ("06:60", "is not a time of day"),
        ("06:0", "the deadline must be a time as HH:MM"),
        (600, "the deadline must be a time as HH:MM"),
    ],
)
def test_a_bad_deadline_is_refused_with_a_clear_message(value, message):
    with pytest.raises(editing.ScheduleError, match=message):
        editing.cleaned(cron_text="@daily", tz_name=BERLIN, deadline=value)


def test_a_deadline_is_taken_as_text_or_time_and_empty_is_none():
    def deadline(value):
        return editing.cleaned(cron_text="@daily", tz_name=BERLIN, deadline=value)["deadline"]

    assert deadline("6:05") == deadline(" 06:05 ") == deadline(time(6, 5, 30)) == time(6, 5)
    assert deadline("") is deadline(None) is None


def _berlin() -> ZoneInfo:
    return ZoneInfo(BERLIN)
