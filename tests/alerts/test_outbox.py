"""notify_run_finished / notify_late: which notification rows a run's end writes."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings

from alerts.models import Notification
from alerts.outbox import LateRuns, may_notify, message, notify_late, notify_run_finished
from runner.models import RunStep
from tests.alerts.helpers import nightly
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def rows() -> list[tuple[str, str]]:
    return sorted(Notification.objects.values_list("event", "channel"))


def test_a_failed_run_writes_one_pending_row_per_subscribed_channel():
    run = nightly((["failed"], "ops"), (["failed", "succeeded"], "team"), (["succeeded"], "quiet"))(
        error="ValueError: boom", failed_step="step2"
    )

    assert notify_run_finished(run) == 2

    assert rows() == [("failed", "ops"), ("failed", "team")]
    row = Notification.objects.get(channel="ops")
    assert (row.status, row.dedup_key, row.run_id, row.flow_id) == (
        "pending",
        f"{run.pk}:failed:ops",
        run.pk,
        run.flow_id,
    )
    assert row.next_attempt_at is not None


def test_a_run_without_rules_writes_nothing():
    run = make_run("example", "failed", error="boom")

    assert notify_run_finished(run) == 0
    assert not Notification.objects.exists()


def test_the_same_event_twice_leaves_one_row():
    run = nightly((["failed"], "ops"))(error="boom")

    notify_run_finished(run)
    notify_run_finished(run)

    assert Notification.objects.count() == 1


def test_a_rolled_back_transaction_leaves_no_row():
    run = nightly((["failed"], "ops"))(error="boom")

    with pytest.raises(RuntimeError), transaction.atomic():
        notify_run_finished(run)
        raise RuntimeError("the status change failed")

    assert not Notification.objects.exists()


def test_a_worker_lost_run_is_lost_rather_than_failed_for_a_channel_that_hears_of_both():
    run = nightly((["failed", "lost"], "ops"), (["failed"], "all-failures"))(error="worker lost")

    notify_run_finished(run)

    assert rows() == [("failed", "all-failures"), ("lost", "ops")]


def test_a_timed_out_step_makes_the_run_timed_out():
    run = nightly((["timed_out", "failed"], "ops"))(error="step2 failed", failed_step="step2")
    RunStep.objects.create(run=run, index=1, name="step2", status="timed_out", started_at=run.started_at)

    notify_run_finished(run)

    assert rows() == [("timed_out", "ops")]


def test_an_error_saying_timed_out_makes_the_run_timed_out():
    run = nightly((["timed_out"], "ops"))(error="the run timed out after 60 s")

    notify_run_finished(run)

    assert rows() == [("timed_out", "ops")]


def test_a_cancelled_run_notifies_cancelled():
    run = nightly((["cancelled"], "ops"))("cancelled", error="cancelled before it started")

    notify_run_finished(run)

    assert rows() == [("cancelled", "ops")]


def test_a_success_after_a_failure_is_recovered():
    run = nightly((["recovered", "succeeded"], "ops"), (["succeeded"], "log"))
    run("failed", error="boom")
    run("cancelled")  # cancelled runs in between do not count

    notify_run_finished(run("succeeded"))

    assert rows() == [("recovered", "ops"), ("succeeded", "log")]


def test_a_success_after_a_success_is_not_recovered():
    run = nightly((["recovered"], "ops"))
    run("failed", error="boom")
    run("succeeded")

    assert notify_run_finished(run("succeeded")) == 0


def test_the_message_names_event_flow_run_step_error_and_link_but_never_input_or_context():
    run = nightly((["failed"], "ops"))(
        error="KeyError: 'x'",
        failed_step="step2",
        input={"password": "hunter2-input"},
        context={"step1": {"token": "secret-context"}},
    )

    with override_settings(WORKFLOW_BASE_URL="https://flows.example.com/"):
        text = message(run, "failed")

    assert text == (
        f"Flow 'nightly' failed (run {run.pk}): step 'step2': KeyError: 'x'"
        f" - https://flows.example.com/runs/{run.pk}/"
    )
    assert "hunter2" not in text
    assert "secret-context" not in text


def test_a_long_multiline_error_is_one_short_line():
    run = nightly((["failed"], "ops"))(error="line one\nline two " + "x" * 1000)

    text = message(run, "failed")

    assert "\n" not in text
    assert len(text) < 450


def test_a_run_past_max_duration_is_late_once():
    run = nightly((["late"], "ops"), max_duration_seconds=60)("running")
    later = run.started_at + timedelta(seconds=61)
    watch = LateRuns()

    assert watch.check(run.started_at) == 0
    assert watch.check(later) == 1
    assert watch.check(later) == 0

    row = Notification.objects.get()
    assert (row.event, row.dedup_key) == ("late", f"{run.pk}:late:ops")
    assert (
        f"Flow 'nightly' is late (run {run.pk}): running for 61 s, more than its max_duration_seconds (60)"
        in row.message
    )


def test_notify_late_twice_writes_one_row():
    run = nightly((["late"], "ops"), max_duration_seconds=60)("running")

    notify_late(run)
    notify_late(run)

    assert rows() == [("late", "ops")]


def test_a_definition_without_a_notify_key_needs_no_notification_work():
    assert not may_notify('{"procedures": [{"name": "a", "mod": "m.C", "method": "f"}]}')


def test_a_notify_key_spelled_with_a_json_escape_is_still_read():
    assert may_notify('{"procedures": [], "\\u006eotify": [{"on": ["failed"], "channel": "ops"}]}')
