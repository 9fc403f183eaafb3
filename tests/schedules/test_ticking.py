"""The scheduler's pass with a moved clock: every due tick gets one ledger row, runs as cron
would start them across daylight-saving changes, downtime follows the catch-up policy."""

from datetime import UTC, datetime, timedelta

import pytest

from runner.models import Run
from schedules import editing
from schedules.cron import due_times, zone
from schedules.models import Schedule, Tick
from schedules.ticking import handle, run_pass
from tests.factories import EXAMPLE, make_flow, make_run, step

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def flow():
    return make_flow("nightly", *EXAMPLE)


def schedule_of(flow, cron_text: str, tz_name: str = "UTC", start: str = "2026-06-01T00:00+00:00", **fields):
    return editing.create(flow, cron_text=cron_text, tz_name=tz_name, now=at(start), **fields)


def follow(until: datetime) -> list[datetime]:
    """Passes one second after each due time, as a running scheduler makes them."""
    while (due := Schedule.objects.filter(next_due__isnull=False).order_by("next_due").first()) and (
        due.next_due <= until
    ):
        run_pass(due.next_due + timedelta(seconds=1))
    return [tick.due for tick in Tick.objects.order_by("due")]


@pytest.mark.parametrize(
    ("cron_text", "tz_name", "start", "end"),
    [
        ("30 2 * * *", "Europe/Berlin", "2026-03-26T00:00+01:00", "2026-04-01T00:00+02:00"),
        ("30 2 * * *", "Europe/Berlin", "2026-10-22T00:00+02:00", "2026-10-29T00:00+01:00"),
        ("0 * * * *", "Europe/Berlin", "2026-03-28T20:00+01:00", "2026-03-30T00:00+02:00"),
        ("0 * * * *", "Europe/Berlin", "2026-10-24T20:00+02:00", "2026-10-26T00:00+01:00"),
        ("30 2 * * *", "America/New_York", "2026-03-05T00:00-05:00", "2026-03-11T00:00-04:00"),
        ("30 2 * * *", "America/New_York", "2026-10-29T00:00-04:00", "2026-11-04T00:00-05:00"),
        ("0 * * * *", "America/New_York", "2026-03-07T20:00-05:00", "2026-03-09T00:00-04:00"),
        ("0 * * * *", "America/New_York", "2026-10-31T20:00-04:00", "2026-11-02T00:00-05:00"),
        ("30 1 * * *", "America/New_York", "2026-10-29T00:00-04:00", "2026-11-04T00:00-05:00"),
    ],
)
def test_runs_fire_at_the_due_times_cron_gives_across_dst_changes(flow, cron_text, tz_name, start, end):
    schedule_of(flow, cron_text, tz_name, start)
    # In UTC: Python never finds a time of a repeated hour equal to one in another zone.
    expected = [d.astimezone(UTC) for d in due_times(cron_text, zone(tz_name), at(start)) if d <= at(end)]

    ledger = follow(at(end))

    assert ledger == expected
    assert list(Run.objects.order_by("id").values_list("trigger", flat=True)) == ["schedule"] * len(expected)
    assert set(Tick.objects.values_list("outcome", flat=True)) == {"fired"}


def test_the_repeated_autumn_hour_fires_a_fixed_time_job_once(flow):
    schedule_of(flow, "30 1 * * *", "America/New_York", "2026-10-31T12:00-04:00")

    follow(at("2026-11-01T12:00-05:00"))

    assert [t.due.isoformat() for t in Tick.objects.all()] == ["2026-11-01T05:30:00+00:00"]


def test_the_repeated_autumn_hour_fires_an_hourly_job_in_each_occurrence(flow):
    schedule_of(flow, "0 * * * *", "America/New_York", "2026-11-01T00:30-04:00")

    follow(at("2026-11-01T02:30-05:00"))

    assert [t.due.isoformat() for t in Tick.objects.order_by("due")] == [
        "2026-11-01T05:00:00+00:00",
        "2026-11-01T06:00:00+00:00",
        "2026-11-01T07:00:00+00:00",
    ]


def test_a_fired_tick_names_its_run_and_the_run_names_its_schedule(flow):
    schedule = schedule_of(flow, "0 * * * *", input={"day": "today"})

    run_pass(at("2026-06-01T01:00:05+00:00"))

    tick = Tick.objects.get()
    run = Run.objects.get(pk=tick.run_id)
    assert (tick.outcome, run.trigger, run.schedule_id, run.input) == (
        "fired",
        "schedule",
        schedule.pk,
        {"day": "today"},
    )
    assert "0 * * * *" in run.triggered_by


def test_each_new_run_is_handed_to_the_queue(flow):
    schedule_of(flow, "0 * * * *")
    handed = []

    run_pass(at("2026-06-01T01:00:05+00:00"), on_created=lambda run: handed.append(run.pk))

    assert handed == [Tick.objects.get().run_id]


def test_a_pass_with_nothing_due_records_nothing_and_says_when_the_next_tick_is(flow):
    schedule_of(flow, "0 * * * *")

    result = run_pass(at("2026-06-01T00:30+00:00"))

    assert (result.ticks, Tick.objects.count()) == ([], 0)
    assert result.next_due == at("2026-06-01T01:00+00:00")


def test_the_same_tick_handled_twice_is_recorded_and_fired_once(flow):
    schedule = schedule_of(flow, "0 * * * *")
    stale = Schedule.objects.get(pk=schedule.pk)  # what a second scheduler read at the same moment
    now = at("2026-06-01T01:00:05+00:00")

    first = handle(Schedule.objects.get(pk=schedule.pk), flow, now, None)
    second = handle(stale, flow, now, None)

    assert (len(first), second) == (1, [])
    assert (Tick.objects.count(), Run.objects.count()) == (1, 1)


# Downtime: an hourly schedule created at 00:00; the scheduler comes back at 03:30, when the
# ticks of 01:00, 02:00 and 03:00 are all later than the grace period.
BACK = "2026-06-01T03:30+00:00"


def outcomes() -> list[tuple[str, str]]:
    return [(t.due.strftime("%H:%M"), t.outcome) for t in Tick.objects.order_by("due")]


def test_downtime_with_catch_up_skip_records_each_missed_tick_and_runs_nothing(flow):
    schedule_of(flow, "0 * * * *", catch_up="skip")

    run_pass(at(BACK))

    assert outcomes() == [("01:00", "missed"), ("02:00", "missed"), ("03:00", "missed")]
    assert Run.objects.count() == 0


def test_downtime_with_catch_up_once_runs_once_for_all_missed_ticks(flow):
    schedule_of(flow, "0 * * * *", catch_up="once")

    run_pass(at(BACK))

    assert outcomes() == [("01:00", "missed"), ("02:00", "missed"), ("03:00", "fired")]
    assert Run.objects.count() == 1
    assert "covered by the catch-up run" in Tick.objects.get(due=at("2026-06-01T01:00+00:00")).detail


def test_downtime_with_catch_up_all_runs_each_missed_tick(flow):
    schedule_of(flow, "0 * * * *", catch_up="all")

    run_pass(at(BACK))

    assert outcomes() == [("01:00", "fired"), ("02:00", "fired"), ("03:00", "fired")]
    assert Run.objects.count() == 3


def test_downtime_with_catch_up_all_never_exceeds_its_limit(flow):
    schedule_of(flow, "0 * * * *", catch_up="all", catch_up_limit=2)

    run_pass(at(BACK))

    assert outcomes() == [("01:00", "missed"), ("02:00", "fired"), ("03:00", "fired")]
    assert Run.objects.count() == 2


def test_a_tick_within_the_grace_period_after_downtime_fires_whatever_the_policy(flow):
    schedule_of(flow, "0 * * * *", catch_up="skip")

    run_pass(at("2026-06-01T03:00:30+00:00"))

    assert outcomes() == [("01:00", "missed"), ("02:00", "missed"), ("03:00", "fired")]


def test_after_downtime_the_schedule_goes_on_from_the_next_due_time(flow):
    schedule = schedule_of(flow, "0 * * * *")

    run_pass(at(BACK))

    assert Schedule.objects.get(pk=schedule.pk).next_due == at("2026-06-01T04:00+00:00")


def test_skip_if_running_records_skipped_naming_the_active_run(flow):
    schedule_of(flow, "0 * * * *", overlap="skip_if_running")
    active = make_run("nightly", status="running", flow_id=flow.pk)

    run_pass(at("2026-06-01T01:00:05+00:00"))

    tick = Tick.objects.get()
    assert (tick.outcome, tick.run_id) == ("skipped", active.pk)
    assert f"run {active.pk}" in tick.detail
    assert Run.objects.count() == 1


def test_allow_overlap_fires_while_a_run_is_active(flow):
    schedule_of(flow, "0 * * * *")
    make_run("nightly", status="running", flow_id=flow.pk)

    run_pass(at("2026-06-01T01:00:05+00:00"))

    assert Tick.objects.get().outcome == "fired"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"enabled": False}, "is disabled"),
        ({"deleted": True}, "is deleted"),
        ({"flow_json": '{"procedures": [{"name": "a", "mod": "nowhere.X", "method": "m"}]}'}, "is invalid"),
    ],
)
def test_a_flow_that_cannot_run_records_refused_with_the_reason(flow, change, reason):
    schedule_of(flow, "0 * * * *")
    type(flow).all_objects.filter(pk=flow.pk).update(**change)

    run_pass(at("2026-06-01T01:00:05+00:00"))

    tick = Tick.objects.get()
    assert (tick.outcome, tick.run_id) == ("refused", None)
    assert reason in tick.detail


def test_a_flow_removed_from_wf_flow_records_refused(flow):
    schedule_of(flow, "0 * * * *")
    type(flow).all_objects.filter(pk=flow.pk).delete()

    run_pass(at("2026-06-01T01:00:05+00:00"))

    assert "no longer exists" in Tick.objects.get().detail


def test_a_refused_schedule_does_not_stop_the_others(flow):
    broken = make_flow("broken", step("a", mod="nowhere.X", method="m"))
    schedule_of(broken, "0 * * * *")
    schedule_of(flow, "0 * * * *")

    run_pass(at("2026-06-01T01:00:05+00:00"))

    assert sorted(Tick.objects.values_list("outcome", flat=True)) == ["fired", "refused"]


def test_a_paused_schedule_gets_no_ticks(flow):
    schedule = schedule_of(flow, "0 * * * *")
    editing.pause(schedule)

    run_pass(at("2026-06-01T05:00:05+00:00"))

    assert Tick.objects.count() == 0


def test_a_resumed_schedule_starts_after_the_moment_it_resumed_without_missed_ticks(flow):
    schedule = schedule_of(flow, "0 * * * *")
    editing.pause(schedule)
    editing.resume(schedule, now=at("2026-06-01T05:10+00:00"))

    run_pass(at("2026-06-01T06:00:05+00:00"))

    assert outcomes() == [("06:00", "fired")]


def test_a_changed_cron_takes_effect_at_the_next_pass(flow):
    schedule = schedule_of(flow, "0 0 * * *")
    fields = {"cron_text": "*/15 * * * *", "tz_name": "UTC"}
    editing.update(schedule, now=at("2026-06-01T00:05+00:00"), **fields)

    run_pass(at("2026-06-01T00:15:02+00:00"))

    assert outcomes() == [("00:15", "fired")]
