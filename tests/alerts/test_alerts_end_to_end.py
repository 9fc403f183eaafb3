"""Alerts from the run records, with real processes: a run started by cron (`runflow`, no
worker) is notified once a scheduler runs; a worker killed mid-run yields one `lost`."""

import json

import pytest

from alerts.models import Channel, Notification
from runner import dispatch
from runner.models import Run
from tests.factories import definition, flow_from_text, step
from tests.processes import DB_WORKER, kill_group, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def flow_notifying(name: str, events: list[str], *steps: dict):
    text = json.loads(definition(*steps))
    text["notify"] = [{"on": events, "channel": "ops"}]
    return flow_from_text(name, json.dumps(text))


@pytest.fixture
def ops(receiver):
    Channel.objects.create(name="ops", url=receiver.url)
    return receiver


def test_a_failing_cron_run_is_notified_once_when_a_scheduler_runs(ops, runflow, processes):
    flow_notifying("nightly", ["failed"], step("parse", "boom", "Testing"))

    assert runflow("nightly").returncode == 1
    run = Run.objects.get()
    processes.scheduler()

    [post] = ops.wait_for(1)
    assert "nightly" in post["message"] and f"run {run.pk}" in post["message"]
    wait_until(lambda: Notification.objects.get().status == "sent", message="the delivery to be recorded")
    assert ops.wait_for(2, timeout=3) == [post]  # and no second one


def test_a_success_after_a_failure_is_notified_as_recovered(ops, runflow, processes, tmp_path):
    gate = tmp_path / "broken"
    gate.touch()
    flow_notifying("nightly", ["recovered"], step("check", "fail_while", "Resuming", path=str(gate)))
    assert runflow("nightly").returncode == 1
    gate.unlink()

    assert runflow("nightly").returncode == 0
    processes.scheduler()

    [post] = ops.wait_for(1)
    assert "recovered" in post["message"]


def test_a_worker_killed_mid_run_yields_one_lost_notification(ops, processes, tmp_path):
    hold = step("hold", "wait_for_file", "Testing", path=str(tmp_path / "never"), timeout=300)
    flow = flow_notifying("held", ["failed", "lost"], hold)
    run_id = dispatch.start_run(flow, input={}, trigger="test", triggered_by="t").pk
    worker = processes.start("db-worker", DB_WORKER)
    wait_until(
        lambda: Run.objects.filter(pk=run_id, status="running").exists(), 60, lambda: processes.said(worker)
    )
    processes.scheduler()

    kill_group(worker)

    [post] = ops.wait_for(1, timeout=60)
    assert "lost" in post["message"] and f"run {run_id}" in post["message"]
    assert list(Notification.objects.values_list("event", flat=True)) == ["lost"]
