"""The `slow` event: a run going for more than three times its flow's median successful
duration (over the last 30 successes, once there are 5) is flagged and notified once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Notification
from alerts.outbox import LateRuns, notify_slow
from alerts.slowness import Slowness, slowness, usual_duration
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
