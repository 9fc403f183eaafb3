"""Text the database cannot store (lone surrogates, names longer than a column) never
leaves a run without a final status, and never stops the worker."""

import pytest

from runner.models import Run
from runner.tasks import execute_run_task
from tests.factories import flow_from_text

pytestmark = pytest.mark.django_db(transaction=True)


def step_json(name: str, msg: str, mod: str = "common.Kt", method: str = "prt") -> str:
    return f'{{"name": "{name}", "mod": "{mod}", "method": "{method}", "params": {{"msg": "{msg}"}}}}'


def test_a_lone_surrogate_in_a_failing_reference_fails_the_run_and_the_worker_goes_on(survival):
    flow = flow_from_text("surrogate-ref", '{"procedures": [' + step_json("s1", r"@_input.\udc80") + "]}")

    run = survival.finished(survival.start(flow))

    assert run.status == "failed"
    assert "\\udc80" in run.error
    assert run.failed_step == "s1"
    survival.assert_worker_goes_on()


def test_a_step_named_with_a_lone_surrogate_fails_the_run_and_the_worker_goes_on(survival):
    flow = flow_from_text("surrogate-name", '{"procedures": [' + step_json(r"\ud800", "@_input.nope") + "]}")

    run = survival.finished(survival.start(flow))

    assert run.status == "failed"
    assert run.failed_step == "\\ud800"
    assert [s.name for s in run.steps.all()] == ["\\ud800"]
    survival.assert_worker_goes_on()


def test_a_failing_step_with_the_longest_name_allowed_gets_a_final_status(survival):
    name = "s" * 128
    flow = flow_from_text("long-name", '{"procedures": [' + step_json(name, "@_input.nope") + "]}")

    run = survival.finished(survival.start(flow))

    assert (run.status, run.failed_step) == ("failed", name)
    survival.assert_worker_goes_on()


def test_a_queued_definition_with_a_step_name_too_long_to_store_fails_its_run(survival):
    # Queued before names were limited: the worker validates the frozen definition again.
    text = '{"procedures": [' + step_json("s" * 200, "@_input.nope") + "]}"
    flow = flow_from_text("long-name", '{"procedures": [' + step_json("s1", "hi") + "]}")
    run = Run.objects.create(flow_id=flow.pk, flow_name=flow.flow_name, definition=text, trigger="test")
    execute_run_task.enqueue(run.pk)

    run = survival.finished(run.pk)

    assert run.status == "failed"
    assert "at most 128 characters" in run.error
    survival.assert_worker_goes_on()


def test_a_procedure_that_exits_the_process_fails_its_run_and_the_worker_goes_on(survival):
    flow = flow_from_text(
        "exits", '{"procedures": [' + step_json("s1", "x", "Testing", "exit_process") + "]}"
    )

    run = survival.finished(survival.start(flow))

    assert (run.status, run.failed_step) == ("failed", "s1")
    assert run.error.startswith("interrupted: SystemExit")
    survival.assert_worker_goes_on()


def test_the_error_of_a_run_is_stored_even_when_the_text_holds_nul_characters(survival):
    flow = flow_from_text("nul", '{"procedures": [' + step_json("s1", r"@_input.a\u0000b") + "]}")

    run = survival.finished(survival.start(flow))

    assert run.status == "failed"
    assert Run.objects.filter(pk=run.pk, status="failed").exists()
    survival.assert_worker_goes_on()


def test_runflow_fails_a_run_with_a_lone_surrogate_in_its_error_with_exit_1_and_one_line(runflow):
    flow_from_text("surrogate-cli", '{"procedures": [' + step_json("s1", r"@_input.\udc80") + "]}")

    result = runflow("surrogate-cli")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert Run.objects.get(flow_name="surrogate-cli").status == "failed"
