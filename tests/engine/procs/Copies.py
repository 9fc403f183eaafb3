class Copies:
    """Procedures that change their params as plain Python code does."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def append_row(self, context, params: dict) -> dict:
        params["rows"].append("new")
        return {"rows": params["rows"]}

    def set_default(self, context, params: dict) -> dict:
        params["opts"].setdefault("added", True)
        params["opts"]["nested"]["list"].append(3)
        return {"opts": params["opts"]}

    def stored_row_count(self, context, params: dict) -> dict:
        return {"count": len(context[params["step"]]["rows"])}

    def same_object(self, context, params: dict) -> dict:
        return {"same": params["a"] is params["b"]}
