"""Runs executed by real `db_worker` processes (the default, database-backed queue)."""

import signal

import pytest
from django.db import connection

from flows.models import SysLog
from runner import dispatch, services
from runner.models import Run, RunStep
from runner.tasks import execute_run_task
from tests.factories import EXAMPLE, make_flow, step
from tests.processes import assert_each_ran_exactly_once, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def start_runs(flow, count: int) -> list[int]:
    return [
        dispatch.start_run(flow, input={"n": n}, trigger="test", triggered_by="t").pk for n in range(count)
    ]


def test_queued_runs_are_each_executed_exactly_once_by_several_workers(workers):
    count, worker_count = (200, 3) if connection.vendor == "mysql" else (40, 1)
    run_ids = start_runs(make_flow("example", *EXAMPLE), count)

    for process in workers.db(worker_count, "--batch"):
        assert process.wait(timeout=300) == 0, workers.output()

    assert_each_ran_exactly_once(run_ids, steps=2)
    if worker_count > 1:
        assert Run.objects.filter(pk__in=run_ids).values("worker").distinct().count() > 1


def test_a_message_delivered_twice_runs_the_flow_once(workers):
    [run_id] = start_runs(make_flow("example", *EXAMPLE), 1)
    execute_run_task.enqueue(run_id)  # the same run handed over a second time

    [process] = workers.db(1, "--batch")
    assert process.wait(timeout=120) == 0, workers.output()

    assert_each_ran_exactly_once([run_id], steps=2)


def test_a_queued_run_cancelled_before_a_worker_takes_it_never_starts(workers):
    [run_id] = start_runs(make_flow("example", *EXAMPLE), 1)

    services.request_cancel(run_id)
    [process] = workers.db(1, "--batch")
    assert process.wait(timeout=120) == 0, workers.output()

    run = Run.objects.get(pk=run_id)
    assert (run.status, run.started_at) == ("cancelled", None)
    assert not run.steps.exists()


def test_a_running_run_cancelled_stops_before_its_next_step(workers, tmp_path):
    release = tmp_path / "release"
    flow = make_flow(
        "slow",
        step("hold", "wait_for_file", "Testing", path=str(release)),
        step("after", "echo", "Testing"),
    )
    [run_id] = start_runs(flow, 1)
    workers.db(1)
    wait_until(lambda: RunStep.objects.filter(run_id=run_id, name="hold").exists(), message="step hold")

    services.request_cancel(run_id)
    # The worker reads the request every 0.5 s and says so in the run's log.
    lines = SysLog.objects.of_logger_tree(f"workflow.run.{run_id}")
    seen = lines.filter(message__startswith="cancel requested")
    wait_until(seen.exists, message="the worker seeing the cancel request")
    release.touch()

    run = wait_until(lambda: Run.objects.filter(pk=run_id, status="cancelled").first(), message="cancelled")
    assert [(s.name, s.status) for s in run.steps.all()] == [("hold", "succeeded")]


def test_a_killed_worker_leaves_its_run_failed_as_worker_lost_and_the_queue_goes_on(workers, tmp_path):
    flow = make_flow("slow", step("hold", "wait_for_file", "Testing", path=str(tmp_path / "never")))
    [slow_id] = start_runs(flow, 1)
    [doomed] = workers.db(1)
    wait_until(lambda: Run.objects.filter(pk=slow_id, status="running").exists(), message="running")

    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    [next_id] = start_runs(make_flow("example", *EXAMPLE), 1)
    workers.db(1)

    # Bound: WORKFLOW_WORKER_LOST_SECONDS (3) + heartbeat (1) + a worker's poll interval.
    lost = wait_until(lambda: Run.objects.filter(pk=slow_id, status="failed").first(), 20, "worker lost")
    assert lost.error == "worker lost"
    wait_until(lambda: Run.objects.filter(pk=next_id, status="succeeded").exists(), 60, "next run")
