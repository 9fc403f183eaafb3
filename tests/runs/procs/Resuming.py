import datetime
import os


class Resuming:
    """Procedures for the resume tests: a side effect counted in a file, a failure that lasts
    while a file exists, a result too big to store whole."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def count(self, context: dict, params: dict) -> dict:
        # One line per execution: the test counts how often the step really ran.
        with open(params["path"], "a") as counter:
            counter.write("ran\n")
        return {"rows": [1, 2, 3]}

    def fail_while(self, context: dict, params: dict) -> dict:
        if os.path.exists(params["path"]):
            raise ConnectionError(f"{params['path']} is still there")
        return {"ok": True, "got": params.get("value")}

    def odd(self, context: dict, params: dict) -> dict:
        return {"when": datetime.datetime(2026, 12, 3, 9, 0)}  # not JSON: stored as its repr

    def big(self, context: dict, params: dict) -> dict:
        return {"text": "x" * params.get("size", 400_000)}

    def fail_times(self, context: dict, params: dict) -> dict:
        # Attempts are counted in a file: they may run in another process than the test's.
        with open(params["path"], "a+") as attempts:
            attempts.seek(0)
            made = attempts.read().count("attempt") + 1
            attempts.write("attempt\n")
        if made <= params["failures"]:
            raise ConnectionError(f"attempt {made} refused")
        return {"attempt": made}
