"""The `slow` event: a run (or a step) going for more than three times its flow's (or
step's) median successful duration (over the last 30 successes, once there are 5) is
flagged and notified once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Notification
from alerts.outbox import LateRuns, notify_slow
from alerts.slowness import Slowness, slowness, usual_duration, usual_step_duration
from runner.models import RunStep
from tests.alerts.helpers import nightly
from tests.factories import ALL_PERMS, client_for, make_run, make_user

pytestmark = pytest.mark.django_db


def successes(maker, *seconds: float) -> None:
    """Finished runs of the flow that took those durations, oldest first."""
    end = timezone.now() - timedelta(hours=1)
    for duration in seconds:
        maker("succeeded", started_at=end - timedelta(seconds=duration), finished_at=end)


def test_nothing_is_usual_before_five_successes():
    run = nightly((["slow"], "ops"))
    successes(run, 10, 10, 10, 10)
    run("failed", started_at=timezone.now() - timedelta(seconds=99), finished_at=timezone.now())

    assert usual_duration(run("running").flow_id) is None


def test_the_usual_duration_is_the_median_of_the_last_thirty_successes():
    run = nightly((["slow"], "ops"))
    successes(run, *[1000] * 10)  # older than the last 30: not counted
    successes(run, *[20] * 15, *[40] * 15)
    flow_id = run("running").flow_id

    assert usual_duration(flow_id) == 30


def test_usual_duration_is_one_query(django_assert_num_queries):
    run = nightly((["slow"], "ops"))
    successes(run, 10, 20, 30, 40, 50)
    flow_id = run("running").flow_id

    with django_assert_num_queries(1):
        assert usual_duration(flow_id) == 30


def test_a_run_is_slow_past_three_times_the_usual_duration():
    started = timezone.now()

    assert slowness(started, 100, started + timedelta(seconds=300)) is None
    assert slowness(started, 100, started + timedelta(seconds=301)) == Slowness(3.01, 100)
    assert slowness(started, None, started + timedelta(hours=1)) is None


def test_the_description_says_the_factor_and_the_usual_duration():
    assert Slowness(4.1, 130).describe() == "running at 4.1x its usual 2 min 10 s"


def test_a_slow_run_writes_its_notification_once():
    run = nightly((["slow"], "ops"), (["failed"], "quiet"))
    successes(run, 10, 10, 10, 10, 10)
    going = run("running", started_at=timezone.now() - timedelta(seconds=20))
    watch = LateRuns()

    assert watch.check(going.started_at + timedelta(seconds=29)) == 0
    assert watch.check(going.started_at + timedelta(seconds=41)) == 1
    assert watch.check(going.started_at + timedelta(seconds=90)) == 0
    assert LateRuns().check(going.started_at + timedelta(seconds=90)) == 1  # another scheduler: no second row

    row = Notification.objects.get()
    assert (row.event, row.channel, row.dedup_key) == ("slow", "ops", f"{going.pk}:slow:ops")
    assert f"Flow 'nightly' is slow (run {going.pk}): running at 4.1x its usual 10.0 s" in row.message


def test_runs_of_flows_without_slow_rules_are_not_watched():
    run = nightly((["failed"], "ops"))
    successes(run, 10, 10, 10, 10, 10)
    going = run("running", started_at=timezone.now() - timedelta(seconds=600))

    assert LateRuns().check(timezone.now()) == 0
    assert notify_slow(going, 60, 10) == 0
    assert not Notification.objects.exists()


def test_the_run_page_flags_a_slow_running_run():
    run = nightly((["slow"], "ops"))
    successes(run, 130, 130, 130, 130, 130)
    going = run("running", started_at=timezone.now() - timedelta(seconds=533))
    client = client_for(make_user("operator", *ALL_PERMS))

    html = client.get(f"/runs/{going.pk}/status/", HTTP_HX_REQUEST="true").content.decode()

    assert 'id="run-slow"' in html
    assert "slow: running at 4.1x its usual 2 min 10 s" in html


def test_the_run_page_does_not_flag_a_run_in_its_usual_time_nor_a_finished_one():
    run = nightly((["slow"], "ops"))
    successes(run, 130, 130, 130, 130, 130)
    going = run("running", started_at=timezone.now() - timedelta(seconds=200))
    done = make_run("nightly", "failed", started_at=timezone.now() - timedelta(hours=1))
    client = client_for(make_user("operator", *ALL_PERMS))

    assert 'id="run-slow"' not in client.get(f"/runs/{going.pk}/status/").content.decode()
    assert 'id="run-slow"' not in client.get(f"/runs/{done.pk}/").content.decode()


def with_steps(maker, *seconds: float, name: str = "load", before: float = 1) -> None:
    """Successful runs of the flow whose step `name` took those durations, after a step
    "extract" of `before` seconds; oldest first."""
    end = timezone.now() - timedelta(hours=1)
    for duration in seconds:
        run = maker("succeeded", started_at=end - timedelta(seconds=duration + before), finished_at=end)
        RunStep.objects.create(
            run=run, index=0, name="extract", status="succeeded", started_at=run.started_at, duration=before
        )
        RunStep.objects.create(
            run=run, index=1, name=name, status="succeeded", started_at=run.started_at, duration=duration
        )


def running_step(run, name: str = "load", seconds: float = 0) -> RunStep:
    """The step `name` of a running run, going for `seconds`."""
    return RunStep.objects.create(
        run=run, index=1, name=name, status="running", started_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_nothing_is_usual_for_a_step_before_five_successful_executions():
    run = nightly((["slow"], "ops"))
    with_steps(run, 10, 10, 10, 10)
    failed = run("failed", started_at=timezone.now(), finished_at=timezone.now())
    RunStep.objects.create(
        run=failed, index=1, name="load", status="failed", started_at=failed.started_at, duration=9
    )

    assert usual_step_duration(run("running").flow_id, "load") is None
    with_steps(run, 40)
    assert usual_step_duration(failed.flow_id, "load") == 10


def test_the_usual_step_duration_is_its_median_in_the_last_thirty_successes_in_two_queries(
    django_assert_num_queries,
):
    run = nightly((["slow"], "ops"))
    with_steps(run, *[1000] * 5)  # older than the last 30 successful runs: not counted
    with_steps(run, *[20] * 15, *[40] * 15)
    flow_id = run("running").flow_id

    with django_assert_num_queries(2):
        assert usual_step_duration(flow_id, "load") == 30
    assert usual_step_duration(flow_id, "extract") == 1
    assert usual_step_duration(flow_id, "publish") is None


def test_a_slow_step_writes_its_notification_once_apart_from_the_run_s():
    run = nightly((["slow"], "ops"), (["failed"], "quiet"))
    with_steps(run, 10, 10, 10, 10, 10)  # the run usually takes 11 s, its step "load" 10 s
    going = run("running", started_at=timezone.now() - timedelta(seconds=31))
    running_step(going, seconds=31)
    watch = LateRuns()
    now = timezone.now()

    assert watch.check(now - timedelta(seconds=2)) == 0  # 2.9x: not yet
    assert watch.check(now + timedelta(seconds=1)) == 1  # the step, at 3.2x; the run at 2.9x
    assert watch.check(now + timedelta(seconds=9)) == 1  # the run itself, at last
    assert watch.check(now + timedelta(seconds=60)) == 0
    assert LateRuns().check(now + timedelta(seconds=60)) == 2  # another scheduler: no second rows

    step_row = Notification.objects.get(dedup_key=f"{going.pk}:slow:load:ops")
    assert step_row.event == "slow"
    assert (
        f"Flow 'nightly' is slow (run {going.pk}): step 'load' running at 3.2x its usual 10.0 s"
        in step_row.message
    )
    assert Notification.objects.filter(dedup_key=f"{going.pk}:slow:ops").exists()
    assert Notification.objects.count() == 2


def test_a_step_in_its_usual_time_is_not_notified():
    run = nightly((["slow"], "ops"))
    with_steps(run, 100, 100, 100, 100, 100)
    going = run("running", started_at=timezone.now() - timedelta(seconds=250))
    running_step(going, seconds=250)

    assert LateRuns().check(timezone.now()) == 0
    assert not Notification.objects.exists()


def test_the_run_page_flags_a_slow_running_step():
    run = nightly((["slow"], "ops"))
    with_steps(run, 12, 12, 12, 12, 12, before=10)
    going = run("running", started_at=timezone.now() - timedelta(seconds=51))
    running_step(going, seconds=50.5)
    client = client_for(make_user("operator", *ALL_PERMS))

    html = client.get(f"/runs/{going.pk}/status/", HTTP_HX_REQUEST="true").content.decode()

    assert 'id="step-slow" data-step="load"' in html
    assert "step load: running at 4.2x its usual 12.0 s" in html
    assert 'id="run-slow"' not in html  # the run, at 2.3x its usual 22 s, is not slow


def test_the_run_page_does_not_flag_a_step_in_its_usual_time():
    run = nightly((["slow"], "ops"))
    with_steps(run, 12, 12, 12, 12, 12)
    going = run("running", started_at=timezone.now() - timedelta(seconds=20))
    running_step(going, seconds=20)
    client = client_for(make_user("operator", *ALL_PERMS))

    assert 'id="step-slow"' not in client.get(f"/runs/{going.pk}/status/").content.decode()


def test_the_step_flag_costs_two_queries_per_poll(django_assert_num_queries):
    run = nightly((["slow"], "ops"))
    with_steps(run, 12, 12, 12, 12, 12)
    going = run("running", started_at=timezone.now() - timedelta(seconds=5))
    client = client_for(make_user("operator", *ALL_PERMS))
    url = f"/runs/{going.pk}/status/"
    client.get(url)  # the session and user are cached after the first request
    without_step = count_queries(client, url)
    running_step(going, seconds=5)

    assert count_queries(client, url) == without_step + 2


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
