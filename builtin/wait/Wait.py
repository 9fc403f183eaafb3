"""Waiting inside a run, cut short when the run is cancelled."""

import time

from django.conf import settings

from builtin._checks import number
from runner.engine import RunCancelled, runtime
from runner.engine.declare import param, procedure, result


class Wait:
    def __init__(self, logger) -> None:
        self.logger = logger

    @procedure(
        "Wait some seconds; a cancelled run stops waiting at once.",
        params={
            "seconds": param(
                "number", required=True, description="how long to wait: 0 up to WORKFLOW_WAIT_MAX_SECONDS"
            ),
        },
        results={"waited": result("number", "the seconds waited")},
    )
    def sleep(self, context, params: dict) -> dict:
        ceiling = settings.WORKFLOW_WAIT_MAX_SECONDS
        seconds = number(params, "seconds", maximum=ceiling)
        began = time.monotonic()
        if runtime.wait(seconds):
            waited = time.monotonic() - began
            raise RunCancelled(f"run cancelled while waiting, after {waited:.1f} of {seconds:g} s")
        return {"waited": round(time.monotonic() - began, 3)}
