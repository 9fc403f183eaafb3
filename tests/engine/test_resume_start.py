"""Starting a run at a later step, with the earlier steps' results reused."""

from dataclasses import replace

import pytest

from runner.engine import FlowDefinition, ProcedureLoadError, RunListener, run_flow

from .helpers import PROCS, definition, new_logger, step


class Events(RunListener):
    def __init__(self):
        self.events = []

    def step_reused(self, run, step, result):
        self.events.append(("reused", step.name, dict(result)))

    def step_started(self, run, step):
        self.events.append(("started", step.name))


def three_steps():
    return definition(step("a", x=1), step("b", y="@a.x"), step("c", z="@b.y"))


def test_start_at_runs_only_the_later_steps_with_the_reused_results_in_the_context():
    events = Events()
    context = run_flow(
        three_steps(),
        logger=new_logger(),
        packages=PROCS,
        listeners=[events],
        start_at=1,
        reused={"a": {"x": 5}},
    )

    assert events.events == [("reused", "a", {"x": 5}), ("started", "b"), ("started", "c")]
    assert context["c"] == {"z": 5}


def test_reused_results_are_stored_read_only():
    context = run_flow(
        three_steps(),
        logger=new_logger(),
        packages=PROCS,
        start_at=2,
        reused={"a": {"x": 1}, "b": {"y": [2]}},
    )
    with pytest.raises(TypeError):
        context["b"]["y"].append(3)


def test_a_reused_step_whose_procedure_is_gone_does_not_fail_the_run():
    flow = definition(step("a"), step("b"))
    gone = FlowDefinition((replace(flow.procedures[0], mod="Nope"), flow.procedures[1]))
    context = run_flow(gone, logger=new_logger(), packages=PROCS, start_at=1, reused={"a": {}})
    assert context["b"] == {}


def test_a_missing_procedure_after_start_at_still_fails_before_any_step():
    flow = definition(step("a"), step("b"))
    broken = FlowDefinition((flow.procedures[0], replace(flow.procedures[1], mod="Nope")))
    with pytest.raises(ProcedureLoadError):
        run_flow(broken, logger=new_logger(), packages=PROCS, start_at=1, reused={"a": {}})


def test_a_missing_reused_result_is_refused_before_the_run_starts():
    events = Events()
    with pytest.raises(ValueError, match="reused has no result for step a"):
        run_flow(three_steps(), logger=new_logger(), packages=PROCS, listeners=[events], start_at=1)
    assert events.events == []


@pytest.mark.parametrize("start_at", [-1, 3])
def test_start_at_outside_the_flow_is_refused(start_at):
    with pytest.raises(ValueError, match="start_at must be a step index, 0 to 2"):
        run_flow(
            three_steps(),
            logger=new_logger(),
            packages=PROCS,
            start_at=start_at,
            reused={"a": {}, "b": {}, "c": {}},
        )
