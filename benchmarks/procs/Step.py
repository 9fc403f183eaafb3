class Step:
    """A trivial procedure: returns its input plus one, so every step depends on the previous."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def next(self, context, params: dict) -> dict:
        return {"key": params["key"] + 1}
