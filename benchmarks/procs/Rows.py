class Rows:
    """Passes on a list and a dict taken from the previous step: the cost of param copies."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def next(self, context, params: dict) -> dict:
        return {"key": params["key"] + 1, "rows": params["rows"], "opts": params["opts"]}
