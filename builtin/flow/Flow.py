"""Running another flow from a step: a sub-flow (runner.subflows has the rules)."""

from builtin._checks import ParamError, mapping, text
from runner.engine.declare import param, procedure, result
from runner.subflows import run_subflow


class Flow:
    def __init__(self, logger) -> None:
        self.logger = logger

    @procedure(
        "Run another flow with an input, as a run of its own, and return its final context.",
        params={
            "flow": param("string", required=True, description="the name of the flow to run"),
            "input": param("object", default={}, description="the sub-flow's input (its @_input)"),
        },
        results={
            "run_id": result("integer", "the id of the sub-flow's run"),
            "status": result("string", 'always "succeeded": a sub-flow that fails fails this step'),
            "context": result("object", "the sub-flow's final context: _input and each step's result"),
        },
    )
    def run(self, context, params: dict) -> dict:
        name = text(params, "flow", required=True)
        if not name:
            raise ParamError("param flow must name a flow")
        result = run_subflow(name, mapping(params, "input"))
        self.logger.info("sub-flow %s succeeded (run %s)", name, result["run_id"])
        return result
