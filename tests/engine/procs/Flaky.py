import builtins

# Attempts made so far, by the "key" param: each attempt builds a fresh instance.
ATTEMPTS: dict[str, int] = {}


class TransientError(ConnectionError):
    """A subclass, for matching by a base class name."""


class Flaky:
    def __init__(self, logger) -> None:
        self.logger = logger

    def fail_then_succeed(self, context, params: dict) -> dict:
        """Raises params["error"] (a class name) for the first params["failures"] attempts."""
        attempt = ATTEMPTS[params["key"]] = ATTEMPTS.get(params["key"], 0) + 1
        if attempt <= params["failures"]:
            error = (
                TransientError if params["error"] == "TransientError" else getattr(builtins, params["error"])
            )
            raise error(f"attempt {attempt} failed")
        return {"attempt": attempt}

    def spoil_params_then_fail(self, context, params: dict) -> dict:
        """Changes its params on the first attempt, then fails: the next attempt must not see it."""
        attempt = ATTEMPTS[params["key"]] = ATTEMPTS.get(params["key"], 0) + 1
        seen = list(params["rows"])
        params["rows"].append("spoiled")
        if attempt == 1:
            raise ConnectionError("first attempt")
        return {"seen": seen}

    def returns_list(self, context, params: dict) -> list:
        ATTEMPTS[params["key"]] = ATTEMPTS.get(params["key"], 0) + 1
        return []

    def interrupt(self, context, params: dict) -> dict:
        raise KeyboardInterrupt
