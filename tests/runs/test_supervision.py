"""Runs executed in a supervised child process: timeouts and forced cancels stop code that
never returns, a crashing procedure fails only its run, and retries are recorded. Real
processes throughout: a db_worker, or the forked child of an in-process execute_run."""

import json

import pytest

from flows.models import Flow
from runner import dispatch, services
from runner.models import Run, RunStep
from tests.factories import make_flow, step
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = "2"  # WORKFLOW_KILL_GRACE_SECONDS of the workers started here


def flow_of(name: str, *steps: dict, **top) -> Flow:
    return Flow.objects.create(flow_name=name, flow_json=json.dumps({"procedures": list(steps), **top}))


def hanging(name: str = "hang", method: str = "hang", **keys) -> dict:
    return {**step(name, method, "Supervised"), **keys}


def queue(flow: Flow) -> int:
    return dispatch.start_run(flow, input={}, trigger="test", triggered_by="t").pk


def running(run_id: int, name: str) -> None:
    wait_until(
        lambda: RunStep.objects.filter(run_id=run_id, name=name, status="running").exists(),
        message=f"step {name} running",
    )


def ended(run_id: int, timeout: float) -> Run:
    return wait_until(
        lambda: Run.objects.filter(pk=run_id, status__in=Run.FINISHED).first(),
        timeout=timeout,
        message=f"run {run_id} to end",
    )


def steps_of(run: Run) -> list[tuple[str, str]]:
    return [(s.name, s.status) for s in run.steps.all()]


def execute_here(flow: Flow) -> Run:
    run = services.create_run(flow, input={}, trigger="test", triggered_by="t")
    return services.execute_run(run.pk)


@pytest.fixture
def worker(workers):
    workers.db(1, WORKFLOW_KILL_GRACE_SECONDS=GRACE)
    return workers


def test_a_step_past_its_timeout_is_timed_out_and_the_worker_runs_the_next_run(worker):
    hung = queue(flow_of("hung", hanging(timeout_seconds=2)))
    after = queue(make_flow("after", step("s", msg="hi")))
    running(hung, "hang")

    run = ended(hung, timeout=10)

    assert (run.status, run.error, run.failed_step) == ("failed", "step hang timed out after 2 s", "hang")
    assert steps_of(run) == [("hang", "timed_out")]
    assert ended(after, timeout=30).status == "succeeded"


def test_the_run_timeout_times_out_the_running_step_and_fails_the_run(worker):
    hung = queue(flow_of("slow", step("quick", msg="hi"), hanging(), timeout_seconds=2))
    after = queue(make_flow("after", step("s", msg="hi")))
    running(hung, "hang")

    run = ended(hung, timeout=10)

    assert (run.status, run.error, run.failed_step) == ("failed", "run timed out after 2 s", "hang")
    assert steps_of(run) == [("quick", "succeeded"), ("hang", "timed_out")]
    assert ended(after, timeout=30).status == "succeeded"


def test_a_step_deaf_to_sigterm_is_killed_after_the_grace_period(worker):
    hung = queue(flow_of("deaf", hanging(method="hang_deaf", timeout_seconds=1)))
    running(hung, "hang")

    run = ended(hung, timeout=1 + int(GRACE) + 5)

    assert (run.status, run.error) == ("failed", "step hang timed out after 1 s")


def test_a_cancel_stops_a_step_blocked_in_sleep_after_the_grace_period(worker):
    hung = queue(flow_of("hung", hanging(), step("after", msg="never")))
    running(hung, "hang")

    services.request_cancel(hung)

    run = ended(hung, timeout=int(GRACE) + 5)
    assert run.status == "cancelled"
    assert run.error == f"run cancelled: step hang was stopped after the grace period of {GRACE} s"
    assert steps_of(run) == [("hang", "cancelled")]


def test_a_procedure_exiting_the_interpreter_fails_its_run_and_the_worker_runs_the_next(worker):
    crashed = queue(flow_of("bye", step("first", msg="hi"), hanging("exit", "exit_hard")))
    after = queue(make_flow("after", step("s", msg="hi")))

    run = ended(crashed, timeout=30)

    assert (run.status, run.failed_step) == ("failed", "exit")
    assert run.error == "the process running step exit exited with status 3"
    assert steps_of(run) == [("first", "succeeded"), ("exit", "failed")]
    assert ended(after, timeout=30).status == "succeeded"


def test_a_procedure_killed_by_a_signal_fails_its_run_naming_the_signal():
    run = execute_here(flow_of("segv", hanging("crash", "crash")))

    assert (run.status, run.failed_step) == ("failed", "crash")
    assert run.error == "the process running step crash was killed by signal 11 (SIGSEGV)"


def test_a_step_failing_twice_then_succeeding_records_three_attempts(tmp_path):
    counter = str(tmp_path / "attempts")
    flaky = {
        **step("flaky", "flaky", "Supervised", counter=counter, failures=2),
        "retry": {"max_attempts": 3, "delay_seconds": 0},
    }

    run = execute_here(flow_of("flaky", flaky))

    assert run.status == "succeeded", run.error
    row = run.steps.get()
    assert (row.status, row.attempts) == ("succeeded", 3)
    assert [entry["number"] for entry in row.attempt_log] == [1, 2]
    assert "ConnectionError: attempt 2 failed" in row.attempt_log[1]["error"]
    assert run.context["flaky"] == {"attempt": 3}


def test_a_timed_out_attempt_is_retried_when_on_names_timeout_error(tmp_path):
    counter = str(tmp_path / "attempts")
    slow_once = {
        **step("slow", "hang_first", "Supervised", counter=counter),
        "timeout_seconds": 1,
        "retry": {"max_attempts": 2, "delay_seconds": 0, "on": ["TimeoutError"]},
    }

    run = execute_here(
        flow_of("slow", step("before", msg="hi"), slow_once, step("after", msg="@slow.attempt"))
    )

    assert run.status == "succeeded", run.error
    assert steps_of(run) == [("before", "succeeded"), ("slow", "succeeded"), ("after", "succeeded")]
    row = run.steps.get(name="slow")
    assert row.attempts == 2
    assert row.attempt_log[0]["error"].startswith("step slow timed out after 1 s")
    assert run.context["after"] == {"msg": 2}


def test_a_timed_out_attempt_is_not_retried_when_on_names_other_errors(tmp_path):
    slow = {
        **step("slow", "hang_first", "Supervised", counter=str(tmp_path / "attempts")),
        "timeout_seconds": 1,
        "retry": {"max_attempts": 3, "delay_seconds": 0, "on": ["ConnectionError"]},
    }

    run = execute_here(flow_of("slow", slow))

    assert (run.status, run.error) == ("failed", "step slow timed out after 1 s (attempt 1 of 3)")
    assert run.steps.get().attempts == 1
