import json
import logging
import re

import pytest

from runner.engine import (
    FlowDefinition,
    InvalidStepResult,
    ParameterResolutionError,
    Procedure,
    ProcedureFailed,
    ProcedureLoadError,
    RunCancelled,
    RunListener,
    run_flow,
    validate_flow,
)

from .helpers import PROCS, definition, new_logger, step


class Recorder(RunListener):
    def __init__(self):
        self.events = []

    def run_started(self, run):
        self.events.append(("run_started",))

    def step_started(self, run, step):
        self.events.append(("step_started", step.name))

    def step_finished(self, run, step, result, duration):
        assert duration >= 0
        self.events.append(("step_finished", step.name, dict(result)))

    def step_failed(self, run, step, error, duration):
        assert duration >= 0
        self.events.append(("step_failed", step.name, type(error).__name__))

    def run_finished(self, run, status, error):
        self.events.append(("run_finished", status, type(error).__name__ if error else None))


def run(*steps, **kwargs):
    kwargs.setdefault("logger", new_logger())
    return run_flow(definition(*steps), packages=PROCS, **kwargs)


def failing_run(error_class, *steps, **kwargs):
    with pytest.raises(error_class) as raised:
        run(*steps, **kwargs)
    return raised.value


def test_seed_example_runs_with_kt(caplog):
    source = {
        "procedures": [
            {"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}},
            {"name": "step2", "mod": "common.Kt", "method": "prt", "params": {"msg": "@step1.msg"}},
        ]
    }
    found, _ = validate_flow(source)
    caplog.set_level(logging.INFO)
    context = run_flow(found, logger=new_logger())
    assert context["step2"] == {"msg": "hello"}
    assert [r.getMessage() for r in caplog.records if r.funcName == "prt"] == ["msg=hello", "msg=hello"]


def test_context_holds_runtime_input_and_each_result():
    context = run(step("a", x=1), logger=new_logger(), run_id=42, flow_name="daily", input={"k": "v"})
    assert context["a"] == {"x": 1}
    assert context["_input"] == {"k": "v"}
    assert context["_runtime"]["run_id"] == 42
    assert context["_runtime"]["flow_name"] == "daily"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", context["_runtime"]["start_time"]
    )


def test_results_flow_from_step_to_step_through_references():
    context = run(step("a", n=1), step("b", got="@a.n", who="@_input.who"), input={"who": "ann"})
    assert context["b"] == {"got": 1, "who": "ann"}


def test_final_context_is_json_serialisable():
    context = run(step("a", items=[1, {"x": None}]), step("b", copy="@a"))
    assert json.loads(json.dumps(context))["b"] == {"copy": {"items": [1, {"x": None}]}}


def test_listener_sees_events_in_order():
    recorder = Recorder()
    run(step("a", x=1), step("b", y="@a.x"), listeners=[recorder])
    assert recorder.events == [
        ("run_started",),
        ("step_started", "a"),
        ("step_finished", "a", {"x": 1}),
        ("step_started", "b"),
        ("step_finished", "b", {"y": 1}),
        ("run_finished", "succeeded", None),
    ]


def test_listener_sees_the_partial_context_when_a_run_fails():
    seen = {}

    class Keeper(RunListener):
        def run_finished(self, run, status, error):
            seen.update(run.context)

    failing_run(ProcedureFailed, step("a", x=1), step("b", method="fail"), listeners=[Keeper()])
    assert seen["a"] == {"x": 1} and "b" not in seen


def test_resolution_error_stops_the_flow_and_is_logged(caplog):
    recorder = Recorder()
    error = failing_run(
        ParameterResolutionError,
        step("a", msg="hi"),
        step("b", msg="@a.msgx"),
        step("c"),
        listeners=[recorder],
    )
    assert str(error) == 'b: params.msg: "@a.msgx": a\'s result has no key "msgx" (it has: msg)'
    assert error.step == "b"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [str(error)]
    assert recorder.events[-2:] == [
        ("step_failed", "b", "ParameterResolutionError"),
        ("run_finished", "failed", "ParameterResolutionError"),
    ]
    assert ("step_started", "c") not in recorder.events


def test_procedure_exception_is_logged_with_traceback_and_propagated(caplog):
    recorder = Recorder()
    error = failing_run(ProcedureFailed, step("a", method="fail"), step("b"), listeners=[recorder])
    assert str(error) == "a (Echo.fail) failed: ValueError: boom"
    assert isinstance(error.__cause__, ValueError)
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info[1] is error.__cause__
    assert recorder.events[-2:] == [
        ("step_failed", "a", "ProcedureFailed"),
        ("run_finished", "failed", "ProcedureFailed"),
    ]


def test_non_dict_result_fails_the_step():
    error = failing_run(InvalidStepResult, step("a"), step("step2", method="returns_list"))
    assert str(error) == "step2 (Echo.returns_list) returned list, expected a dict"
    assert error.step == "step2"


def test_none_result_fails_the_step():
    assert "returned None, expected a dict" in str(
        failing_run(InvalidStepResult, step("a", method="returns_none"))
    )


def test_result_that_contains_itself_fails_the_step():
    failing_run(InvalidStepResult, step("a", method="returns_itself"))


def test_failing_log_handler_does_not_interrupt_the_run(capsys):
    class Exploding(logging.Handler):
        def emit(self, record):
            raise OSError("disk full")

    logger = new_logger()
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Exploding())
    context = run(step("a", method="log", who="ann"), step("b"), logger=logger)
    assert "a" in context and "b" in context
    assert "a log record was lost" in capsys.readouterr().err


def test_failing_listener_does_not_interrupt_the_run(caplog):
    class Broken(RunListener):
        def step_finished(self, run, step, result, duration):
            raise RuntimeError("listener bug")

    recorder = Recorder()
    context = run(step("a"), step("b"), listeners=[Broken(), recorder])
    assert "b" in context
    assert recorder.events[-1] == ("run_finished", "succeeded", None)
    assert any("run listener" in r.getMessage() for r in caplog.records)


def test_cancellation_stops_before_the_next_step():
    recorder = Recorder()
    checks = []
    with pytest.raises(RunCancelled) as raised:
        run(
            step("a"),
            step("b"),
            listeners=[recorder],
            should_cancel=lambda: checks.append(1) or len(checks) > 1,
        )
    assert raised.value.step == "b"
    assert ("step_started", "b") not in recorder.events
    assert recorder.events[-1] == ("run_finished", "cancelled", "RunCancelled")


def test_cancellation_before_the_first_step_runs_nothing():
    recorder = Recorder()
    with pytest.raises(RunCancelled):
        run(step("a"), listeners=[recorder], should_cancel=lambda: True)
    assert recorder.events == [("run_started",), ("run_finished", "cancelled", "RunCancelled")]


def test_each_step_gets_a_fresh_instance():
    context = run(step("a", method="count"), step("b", method="count"))
    assert context["a"]["calls"] == context["b"]["calls"] == 1


def test_procedure_cannot_change_a_stored_result():
    error = failing_run(ProcedureFailed, step("step1", msg="hi"), step("b", method="tamper", step="step1"))
    assert isinstance(error.__cause__, TypeError)


def test_procedure_cannot_replace_a_stored_result():
    error = failing_run(ProcedureFailed, step("step1", msg="hi"), step("b", method="replace", step="step1"))
    assert isinstance(error.__cause__, TypeError)


def test_failing_cancellation_check_does_not_interrupt_the_run(caplog):
    def broken():
        raise ConnectionError("database gone")

    context = run(step("a"), step("b"), should_cancel=broken)
    assert "b" in context
    assert any("checking for cancellation failed" in r.getMessage() for r in caplog.records)


def test_packages_may_be_a_comma_separated_string():
    found, _ = validate_flow({"procedures": [step("a")]}, packages="mod, tests.engine.procs")
    assert run_flow(found, logger=new_logger(), packages="mod, tests.engine.procs")["a"] == {}


def test_procedure_may_change_its_own_params_without_changing_the_definition():
    found = definition(step("a", method="mutate_params", x=1))
    context = run_flow(found, logger=new_logger(), packages=PROCS)
    assert context["a"] == {"x": 1, "added": True}
    assert found.procedures[0].params == {"x": 1}


def test_missing_procedure_fails_the_run_before_any_step():
    recorder = Recorder()
    broken = FlowDefinition((Procedure("a", "Echo", "echo", {}, 0), Procedure("b", "Nope", "echo", {}, 1)))
    with pytest.raises(ProcedureLoadError) as raised:
        run_flow(broken, logger=new_logger(), packages=PROCS, listeners=[recorder])
    assert (raised.value.step, raised.value.code) == ("b", "UNKNOWN_PROCEDURE")
    assert recorder.events == [("run_started",), ("run_finished", "failed", "ProcedureLoadError")]


def test_hand_built_definition_with_plain_params_runs():
    found = FlowDefinition((Procedure("a", "Echo", "echo", {"x": ["@@y"]}, 0),))
    assert run_flow(found, logger=new_logger(), packages=PROCS)["a"] == {"x": ["@y"]}


def test_input_must_be_a_dict():
    with pytest.raises(TypeError):
        run(step("a"), input=["x"])
