"""`manage.py cancelrun RUN_ID [--now]`: records the request, waits for the run to end; exit
0 cancelled or already final, 1 not in time, 2 unknown run."""

import io
import time
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from runner import dispatch
from runner.models import Run, RunStep
from tests.factories import make_flow, make_run, step
from tests.processes import run_manage, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def cancelrun(*args: str) -> SimpleNamespace:
    """cancelrun in this process: its exit code and what it wrote."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("cancelrun", *args, stdout=stdout, stderr=stderr)
    return SimpleNamespace(code=exited.value.code, stdout=stdout.getvalue(), stderr=stderr.getvalue())


def test_cancelrun_now_stops_a_step_blocked_in_sleep_within_5_seconds(workers, tmp_path):
    flow = make_flow("hung", step("hang", "hang", "Supervised"), step("after", msg="never"))
    run_id = dispatch.start_run(flow, input={}, trigger="test", triggered_by="t").pk
    workers.db(1)  # the default grace period, 5 s, which --now skips
    wait_until(lambda: RunStep.objects.filter(run_id=run_id, status="running").exists(), message="running")

    start = time.monotonic()
    result = run_manage(tmp_path, "cancelrun", str(run_id), "--now")

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 5
    run = Run.objects.get(pk=run_id)
    assert (run.status, run.error) == ("cancelled", "run cancelled: step hang was stopped at once (--now)")
    assert [(s.name, s.status) for s in run.steps.all()] == [("hang", "cancelled")]


def test_cancelrun_cancels_a_queued_run_at_once():
    flow = make_flow("waiting", step("s", msg="hi"))
    run_id = dispatch.start_run(flow, input={}, trigger="test", triggered_by="t").pk

    result = cancelrun(str(run_id))

    assert (result.code, result.stdout.strip()) == (0, f"run {run_id} cancelled")
    assert Run.objects.get(pk=run_id).status == "cancelled"


def test_cancelrun_of_a_finished_run_exits_0_saying_so():
    run = make_run(status="failed")

    result = cancelrun(str(run.pk))

    assert (result.code, result.stdout.strip()) == (0, f"run {run.pk} already failed")


def test_cancelrun_of_an_unknown_run_exits_2_with_the_reason():
    result = cancelrun("424242")

    assert (result.code, result.stderr.strip()) == (2, "cancelrun: run 424242 not found")


def test_cancelrun_of_something_that_is_no_run_id_exits_2_with_the_reason():
    result = cancelrun("abc")

    assert (result.code, result.stderr.strip()) == (2, "cancelrun: 'abc' is not a run id")


def test_cancelrun_gives_up_after_the_grace_period_plus_10_seconds_keeping_the_request(settings):
    # A running run no worker executes: nobody acts on the request.
    settings.WORKFLOW_KILL_GRACE_SECONDS = 0
    run = make_run(status="running")

    result = cancelrun(str(run.pk))

    assert result.code == 1
    assert result.stderr.strip() == (
        f"cancelrun: run {run.pk} is still running; the cancel request stays recorded"
    )
    assert Run.objects.get(pk=run.pk).cancel_requested
