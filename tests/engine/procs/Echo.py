class Echo:
    constant = 5
    shout = staticmethod(str.upper)

    def __init__(self, logger) -> None:
        self.logger = logger
        self.calls = 0

    def echo(self, context, params: dict) -> dict:
        return dict(params)

    def count(self, context, params: dict) -> dict:
        self.calls += 1
        return {"calls": self.calls, "instance": id(self)}

    def fail(self, context, params: dict) -> dict:
        raise ValueError("boom")

    def returns_list(self, context, params: dict) -> list:
        return [1, 2]

    def returns_none(self, context, params: dict) -> None:
        return None

    def returns_itself(self, context, params: dict) -> dict:
        result = {}
        result["self"] = result
        return result

    def tamper(self, context, params: dict) -> dict:
        context[params["step"]]["msg"] = "changed"
        return {}

    def replace(self, context, params: dict) -> dict:
        context[params["step"]] = {"msg": "changed"}
        return {}

    def mutate_params(self, context, params: dict) -> dict:
        params["added"] = True
        return dict(params)

    def log(self, context, params: dict) -> dict:
        self.logger.info("hello %s", params.get("who"))
        return {}

    def _private(self, context, params: dict) -> dict:
        return {}
