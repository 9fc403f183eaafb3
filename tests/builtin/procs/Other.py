class Other:
    """A procedure named like the sub-flow one that is not it."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def run(self, context: dict, params: dict) -> dict:
        return {"flow": params.get("flow")}
