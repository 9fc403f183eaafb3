"""Starting runs for workers, cancelling them, and the per-flow concurrency policy."""

import json
import subprocess
import sys

import pytest
from django_tasks_db.models import DBTaskResult

from runner import dispatch, services
from runner.engine import RunListener
from runner.models import Run
from tests.factories import EXAMPLE, make_flow
from tests.processes import ROOT, child_env

pytestmark = pytest.mark.django_db(transaction=True)


def start(flow, **kwargs) -> Run:
    return dispatch.start_run(flow, input={}, trigger="test", triggered_by="t", **kwargs)


def test_start_run_queues_the_run_and_its_task_without_executing_it():
    run = start(make_flow("example", *EXAMPLE))

    assert Run.objects.get(pk=run.pk).status == "queued"
    assert DBTaskResult.objects.filter(args_kwargs__args=[run.pk]).count() == 1


def test_executing_a_run_twice_executes_it_once():
    run = start(make_flow("example", *EXAMPLE))

    first = services.execute_run(run.pk)
    second = services.execute_run(run.pk)

    assert (first.status, second.status) == ("succeeded", "succeeded")
    assert run.steps.count() == 2


def test_cancel_of_a_finished_run_changes_nothing():
    run = start(make_flow("example", *EXAMPLE))
    services.execute_run(run.pk)

    assert services.request_cancel(run.pk).status == "succeeded"


def test_skip_if_running_refuses_a_second_run_while_one_is_queued():
    flow = make_flow("example", *EXAMPLE)
    start(flow, concurrency="skip_if_running")

    with pytest.raises(services.Skipped, match="already queued"):
        start(flow, concurrency="skip_if_running")
    assert Run.objects.count() == 1


def test_skip_if_running_allows_a_run_once_the_previous_one_ended():
    flow = make_flow("example", *EXAMPLE)
    services.execute_run(start(flow, concurrency="skip_if_running").pk)

    start(flow, concurrency="skip_if_running")

    assert Run.objects.count() == 2


def test_allow_lets_runs_of_one_flow_overlap():
    flow = make_flow("example", *EXAMPLE)

    start(flow)
    start(flow)

    assert Run.objects.filter(status="queued").count() == 2


def test_skip_if_running_comes_from_the_setting_when_not_requested(settings):
    settings.WORKFLOW_SKIP_IF_RUNNING = ["example"]
    flow = make_flow("example", *EXAMPLE)
    start(flow)

    with pytest.raises(services.Skipped):
        start(flow)


def test_skip_if_running_holds_between_concurrent_processes(tmp_path):
    make_flow("example", *EXAMPLE)
    command = [
        sys.executable,
        "manage.py",
        "runflow",
        "example",
        "--queue",
        "--concurrency",
        "skip_if_running",
    ]

    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=child_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    codes = sorted(process.wait(timeout=120) for process in processes)

    assert codes == [0, 2, 2, 2, 2, 2], [p.stderr.read()[-500:] for p in processes]
    assert Run.objects.count() == 1


def test_runflow_queue_prints_the_run_id_and_runs_nothing(runflow_here):
    make_flow("example", *EXAMPLE)

    result = runflow_here("example", "--queue")

    assert result.returncode == 0, result.stderr
    run = Run.objects.get(pk=int(result.stdout.strip()))
    assert (run.status, run.trigger) == ("queued", "cli")


def test_runflow_queue_with_json_reports_the_queued_run(runflow_here):
    make_flow("example", *EXAMPLE)

    outcome = json.loads(runflow_here("example", "--queue", "--json").stdout)

    assert outcome["status"] == "queued"
    assert Run.objects.filter(pk=outcome["run_id"]).exists()


def test_a_lost_run_is_failed_by_the_reaper(settings):
    from datetime import timedelta

    from django.utils import timezone

    run = start(make_flow("example", *EXAMPLE))
    stale = timezone.now() - timedelta(seconds=settings.WORKFLOW_WORKER_LOST_SECONDS + 1)
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=stale)

    assert services.reap_lost_runs() == 1
    assert Run.objects.get(pk=run.pk).error == "worker lost"


def test_a_cancel_request_that_came_too_late_stays_recorded():
    flow = make_flow("example", *EXAMPLE)
    run = start(flow)

    class CancelDuringLastStep(RunListener):
        def step_started(self, run_info, step):
            if step.name == "step2":
                services.request_cancel(run.pk)

    finished = services.execute_run(run.pk, listeners=(CancelDuringLastStep(),))

    assert finished.status == "succeeded"
    assert Run.objects.get(pk=run.pk).cancel_requested is True


def test_a_queued_run_of_a_flow_deleted_meanwhile_does_not_run():
    flow = make_flow("example", *EXAMPLE)
    run = start(flow)
    flow.soft_delete()

    finished = services.execute_run(run.pk)

    assert finished.status == "cancelled"
    assert "deleted or disabled" in finished.error
    assert not finished.steps.exists()


def test_the_reaper_also_fails_the_step_that_was_running():
    from datetime import timedelta

    from django.utils import timezone

    from runner.models import RunStep

    run = start(make_flow("example", *EXAMPLE))
    stale = timezone.now() - timedelta(hours=1)
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=stale)
    RunStep.objects.create(run=run, index=0, name="step1", started_at=stale)

    services.reap_lost_runs()

    assert run.steps.get().status == "failed"


def rename(flow, new_name: str) -> None:
    from flows.models import Flow

    Flow.all_objects.filter(pk=flow.pk).update(flow_name=new_name)
    flow.refresh_from_db()


def test_skip_if_running_still_holds_after_the_flow_is_renamed():
    flow = make_flow("example", *EXAMPLE)
    start(flow, concurrency="skip_if_running")
    rename(flow, "nightly")

    with pytest.raises(services.Skipped, match="already queued"):
        start(flow, concurrency="skip_if_running")


def test_skip_if_running_does_not_hold_back_a_new_flow_that_took_a_renamed_flows_name():
    old = make_flow("example", *EXAMPLE)
    start(old, concurrency="skip_if_running")
    rename(old, "nightly")
    new = make_flow("example", *EXAMPLE)

    start(new, concurrency="skip_if_running")

    assert Run.objects.filter(flow_id=new.pk).count() == 1


def test_the_skip_if_running_setting_names_a_flow_by_its_current_name(settings):
    settings.WORKFLOW_SKIP_IF_RUNNING = ["nightly"]
    flow = make_flow("example", *EXAMPLE)
    start(flow)
    rename(flow, "nightly")

    with pytest.raises(services.Skipped):
        start(flow)


def test_an_input_holding_nan_cannot_start_with_its_own_reason():
    flow = make_flow("example", *EXAMPLE)

    with pytest.raises(services.CannotStart, match="NaN is not a JSON number: numbers must be finite"):
        services.create_run(flow, input={"x": float("nan")}, trigger="test", triggered_by="t")
    assert not Run.objects.exists()


def test_an_input_holding_an_integer_over_4300_digits_cannot_start():
    flow = make_flow("example", *EXAMPLE)

    with pytest.raises(services.CannotStart, match="a number has more than 4300 digits"):
        services.create_run(flow, input={"n": [10**5000]}, trigger="test", triggered_by="t")
    assert not Run.objects.exists()
