import threading
import time


class Testing:
    """Tiny procedures for the run tests."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def echo(self, context: dict, params: dict) -> dict:
        self.logger.info("echo %s", params)
        return dict(params)

    def warn(self, context: dict, params: dict) -> dict:
        self.logger.warning("%s", params.get("text", "careful"))
        return {}

    def boom(self, context: dict, params: dict) -> dict:
        raise ValueError(params.get("why", "boom"))

    def not_a_dict(self, context: dict, params: dict) -> dict:
        return ["a", "list"]

    def sleep(self, context: dict, params: dict) -> dict:
        time.sleep(params.get("seconds", 0.1))
        return {"slept": params.get("seconds", 0.1)}

    def wait_for_file(self, context: dict, params: dict) -> dict:
        # Lets a test hold a step "running" until it says so, without guessing a duration.
        path, deadline = params["path"], time.monotonic() + params.get("timeout", 30)
        event = threading.Event()
        while not event.wait(0.05):
            try:
                with open(path):
                    return {"released": True}
            except FileNotFoundError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{path} never appeared") from None
        return {}

    def unjsonable(self, context: dict, params: dict) -> dict:
        return {"when": object(), "big": "x" * params.get("size", 10)}

    def exit_process(self, context: dict, params: dict) -> dict:
        raise SystemExit(3)

    def surrogate(self, context: dict, params: dict) -> dict:
        return {"name": b"caf\xe9".decode("utf-8", "surrogateescape")}

    def deep(self, context: dict, params: dict) -> dict:
        value: dict = {}
        for _ in range(params.get("depth", 40)):
            value = {"d": value}
        return value
