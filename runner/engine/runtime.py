"""What a procedure may ask of the run it is part of, while its step runs.

    from runner.engine import runtime

    if runtime.wait(30):      # sleeps 30 s, or less: True when the run was cancelled meanwhile
        raise RuntimeError("cancelled")

Outside a run (a procedure called from a test, say) ``wait`` simply sleeps and ``current()``
is None.
"""

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunControls:
    run_id: str | int
    flow_name: str
    wait: Callable[[float], bool]  # True when the run was cancelled while waiting
    should_cancel: Callable[[], bool] | None


_current: contextvars.ContextVar[RunControls | None] = contextvars.ContextVar("workflow_run", default=None)


def current() -> RunControls | None:
    """The run whose step is running in this thread, or None."""
    return _current.get()


def wait(seconds: float) -> bool:
    """Wait `seconds`, returning early with True when the run is cancelled meanwhile."""
    controls = _current.get()
    if controls is None:
        time.sleep(max(seconds, 0.0))
        return False
    return controls.wait(max(seconds, 0.0))


def cancel_requested() -> bool:
    """Whether the run has been asked to stop (checked as the engine does between steps)."""
    controls = _current.get()
    return bool(controls and controls.should_cancel and controls.should_cancel())


def enter_run(controls: RunControls) -> contextvars.Token:
    """For the engine: the run a thread's steps belong to, until leave_run(token)."""
    return _current.set(controls)


def leave_run(token: contextvars.Token) -> None:
    _current.reset(token)
