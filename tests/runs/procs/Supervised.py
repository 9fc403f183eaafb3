import os
import signal
import time
from pathlib import Path


class Supervised:
    """Procedures for the supervision tests: steps that hang, crash or fail a few times."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def hang(self, context: dict, params: dict) -> dict:
        time.sleep(3600)
        return {}

    def hang_deaf(self, context: dict, params: dict) -> dict:
        # Code that SIGTERM does not stop (a C extension blocking it, say): only SIGKILL does.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(3600)
        return {}

    def exit_hard(self, context: dict, params: dict) -> dict:
        os._exit(params.get("status", 3))

    def crash(self, context: dict, params: dict) -> dict:
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(10)
        return {}

    def flaky(self, context: dict, params: dict) -> dict:
        # Counts its attempts in a file: fails the first `failures` of them.
        attempt = _count(params["counter"])
        if attempt <= params["failures"]:
            raise ConnectionError(f"attempt {attempt} failed")
        return {"attempt": attempt}

    def hang_first(self, context: dict, params: dict) -> dict:
        # Hangs on its first `hangs` attempts, then returns at once.
        attempt = _count(params["counter"])
        if attempt <= params.get("hangs", 1):
            time.sleep(3600)
        return {"attempt": attempt}


def _count(path: str) -> int:
    counter = Path(path)
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    return attempt
