"""Running a validated flow: strictly sequential steps, central reference resolution, listeners."""

import contextlib
import copy
import logging
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from types import MappingProxyType

from .declare import declaration_of
from .definition import FlowDefinition, Procedure
from .errors import InvalidStepResult, ProcedureFailed, ProcedureLoadError, RunCancelled
from .freeze import ATOMIC, freeze
from .limits import MAX_RESULT_BYTES, MAX_RESULT_NODES, measure
from .loader import ProcedureLoader
from .references import SECRET_ROOT, compile_params, resolve_params
from .retry import is_retryable, retry_delay
from .runtime import RunControls, enter_run, leave_run

CANCEL_POLL_SECONDS = 0.1  # how often a retry delay asks should_cancel()


@dataclass(frozen=True)
class RunInfo:
    """What listeners learn about a run; ``context`` is a live, read-only view of its context."""

    run_id: str | int
    flow_name: str
    start_time: str
    definition: FlowDefinition
    context: Mapping


class RunListener:
    """Observer of run events; override what you need. Exceptions raised here are logged and
    ignored: an observer failing never stops a flow."""

    def run_started(self, run: RunInfo) -> None:
        pass

    def step_started(self, run: RunInfo, step: Procedure) -> None:
        pass

    def step_finished(self, run: RunInfo, step: Procedure, result: dict, duration: float) -> None:
        pass

    def step_failed(self, run: RunInfo, step: Procedure, error: BaseException, duration: float) -> None:
        pass

    def attempt_failed(
        self, run: RunInfo, step: Procedure, attempt: int, error: BaseException, duration: float, delay: float
    ) -> None:
        """Attempt number ``attempt`` failed with ``error`` (a ProcedureFailed) after ``duration``
        seconds; the step is attempted again after ``delay`` seconds."""

    def step_reused(self, run: RunInfo, step: Procedure, result: dict) -> None:
        """A step before ``start_at``: not run, its earlier ``result`` put in the context."""

    def run_finished(self, run: RunInfo, status: str, error: BaseException | None) -> None:
        pass


class SafeLogger(logging.LoggerAdapter):
    """Forwards to the run's logger but never raises: a logging failure must not stop a flow."""

    def process(self, msg, kwargs):
        return msg, kwargs

    def log(self, level, msg, *args, **kwargs):
        # One more frame to skip, so records name the caller, not this method.
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        try:
            super().log(level, msg, *args, **kwargs)
        except Exception:
            # Report on stderr, as logging itself does when a handler fails.
            with contextlib.suppress(Exception):
                sys.stderr.write("workflow engine: a log record was lost:\n" + traceback.format_exc())


_EVENTS = (
    "run_started",
    "step_started",
    "step_finished",
    "step_failed",
    "attempt_failed",
    "step_reused",
    "run_finished",
)


class _Events:
    # Only listeners' overridden methods are called, so the hot loop skips the no-ops.
    def __init__(self, listeners: Sequence, log: SafeLogger) -> None:
        self.log = log
        for event in _EVENTS:
            base = getattr(RunListener, event)
            calls = [getattr(x, event) for x in listeners if getattr(type(x), event, base) is not base]
            setattr(self, event, calls)

    def emit(self, calls, *args) -> None:
        for call in calls:
            try:
                call(*args)
            except Exception:
                self.log.exception("run listener %r failed; the run goes on", call)


def run_flow(
    definition: FlowDefinition,
    *,
    logger: logging.Logger,
    packages: Sequence[str] = ("mod",),
    run_id: str | int = "",
    flow_name: str = "",
    input: dict | None = None,
    listeners: Sequence[RunListener] = (),
    should_cancel: Callable[[], bool] | None = None,
    max_result_nodes: int = MAX_RESULT_NODES,
    max_result_bytes: int = MAX_RESULT_BYTES,
    start_at: int = 0,
    reused: Mapping[str, dict] | None = None,
    start_attempt: int = 1,
    wait: Callable[[float], bool] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict:
    """Run ``definition`` step by step and return the final context.

    ``context[name]`` is each step's result (read-only), ``context["_input"]`` the input and
    ``context["_runtime"]`` holds run_id, flow_name and start_time. Raises a FlowError
    subclass when the run fails or is cancelled, after telling the listeners. A step whose
    result holds more than ``max_result_nodes`` values or takes more than ``max_result_bytes``
    as JSON fails with InvalidStepResult.

    Execution starts at step ``start_at``: the steps before it are not run, their results are
    taken from ``reused`` (step name -> result) and announced with ``step_reused``.
    ``start_attempt`` is the number of the first attempt of that step (a step attempted
    before, elsewhere, goes on counting). ``wait(seconds)`` waits before a retry and returns
    True when the run was cancelled meanwhile; by default it sleeps, asking ``should_cancel``
    every 0.1 s.

    ``secrets`` makes ``@_secret.NAME`` resolvable: a dict, or a dict subclass whose
    ``__getitem__`` and ``__contains__`` look names up when a step's params are resolved.
    While a step runs, ``runtime.current()`` gives the procedure this run's ``wait``.
    """
    if input is not None and not isinstance(input, dict):
        raise TypeError(f"input must be a dict, not {type(input).__name__}")
    _check_start(definition, start_at, reused or {}, start_attempt)
    log = SafeLogger(logger)
    start_time = datetime.now().astimezone().isoformat(timespec="milliseconds")
    context = {
        "_runtime": freeze({"run_id": run_id, "flow_name": flow_name, "start_time": start_time}),
        "_input": freeze(input or {}),
    }
    if secrets is not None:
        # Read by "@_secret.NAME" when a step runs, never copied whole: the mapping decides
        # what a name gives and remembers what it gave (what the run's records must mask).
        context[SECRET_ROOT] = secrets
    view = MappingProxyType(context)
    run = RunInfo(run_id, flow_name, start_time, definition, view)
    events = _Events(listeners, log)
    log.info("run %s of flow %s started", run_id, flow_name)
    events.emit(events.run_started, run)
    loader = ProcedureLoader(packages)
    steps = definition.procedures[start_at:] if start_at else definition.procedures
    try:
        for step in definition.procedures[:start_at]:
            stored = context[step.name] = freeze(reused[step.name])
            events.emit(events.step_reused, run, step, stored)
        # Every procedure is loaded first, so a missing one fails the run before any step.
        for step in steps:
            try:
                loader.load(step.mod, step.method)
            except ProcedureLoadError as err:
                message = f"{step.label}: {err}"
                raise ProcedureLoadError(message, code=err.code, field=err.field, step=step.name) from err
        wait = wait or _sleeper(should_cancel, log)
        execution = _Execution(loader, context, view, run, log, events, should_cancel, wait)
        token = enter_run(RunControls(run_id, flow_name, wait, should_cancel))
        try:
            execution.run_steps(steps, start_attempt, (max_result_nodes, max_result_bytes))
        finally:
            leave_run(token)
    except RunCancelled as err:
        log.warning("%s", err)
        events.emit(events.run_finished, run, "cancelled", err)
        raise
    except BaseException as err:
        if isinstance(err, ProcedureLoadError):
            log.error("%s", err)
        events.emit(events.run_finished, run, "failed", err)
        raise
    log.info("run %s of flow %s succeeded", run_id, flow_name)
    events.emit(events.run_finished, run, "succeeded", None)
    return context


def _check_start(definition: FlowDefinition, start_at: int, reused: Mapping, start_attempt: int) -> None:
    if not 0 <= start_at < len(definition.procedures):
        raise ValueError(f"start_at must be a step index, 0 to {len(definition.procedures) - 1}")
    for step in definition.procedures[:start_at]:
        if step.name not in reused:
            raise ValueError(f"reused has no result for step {step.name}, which comes before start_at")
    if start_attempt < 1:
        raise ValueError("start_attempt counts from 1")


@dataclass(slots=True)
class _Execution:
    loader: ProcedureLoader
    context: dict
    view: Mapping
    run: RunInfo
    log: SafeLogger
    events: _Events
    should_cancel: Callable[[], bool] | None
    wait: Callable[[float], bool]

    def run_steps(self, steps: Sequence[Procedure], attempt: int, limits: tuple[int, int]) -> None:
        # The hot loop: a flow of trivial steps costs a few microseconds per step here.
        loader, context, view, run, log, events = (
            self.loader, self.context, self.view, self.run, self.log, self.events
        )  # fmt: skip
        should_cancel = self.should_cancel
        debug = log.isEnabledFor(logging.DEBUG)
        started, finished = events.step_started, events.step_finished
        filled: dict = {}  # each procedure's declared defaults, by function: () when it has none
        for step in steps:
            if should_cancel is not None and _cancel_requested(should_cancel, log):
                raise RunCancelled(f"run cancelled before step {step.name}", step=step.name)
            if debug:
                log.debug("step %s started", step.label)
            if started:
                events.emit(started, run, step)
            start = perf_counter()
            try:
                # Params are compiled here rather than up front: what is built for a step is
                # freed after it, which keeps the garbage collector's work linear in N.
                cls, func = loader.load(step.mod, step.method)
                defaults = filled.get(func)
                if defaults is None:
                    defaults = filled[func] = _defaults(func)
                compiled = compile_params(step.params)
                while True:
                    # Resolved for each attempt: an attempt gets fresh copies, whatever the last
                    # one did to its params (and to the defaults it was given).
                    params = resolve_params(compiled, view, step.name)
                    for name, value in defaults:
                        if name not in params:
                            params[name] = value if type(value) in ATOMIC else copy.deepcopy(value)
                    try:
                        result = func(cls(log), view, params)
                        break
                    except RunCancelled:
                        raise  # the procedure saw the run cancelled (runtime.wait): no failure of its own
                    except Exception as err:
                        delay = self.retry_delay(step, err, attempt)
                        if delay is None:
                            raise _failure(step, err, attempt) from err
                        self.attempt_failed(step, err, attempt, perf_counter() - start, delay)
                    start = perf_counter()
                    if self.wait(delay):
                        message = f"run cancelled while {step.label} waited to retry"
                        raise RunCancelled(message, step=step.name)
                    attempt += 1
                    start = perf_counter()
                if not isinstance(result, dict):
                    kind = "None" if result is None else type(result).__name__
                    raise InvalidStepResult(f"{step.label} returned {kind}, expected a dict", step=step.name)
                # Measured before it is copied, so an oversized result is never copied.
                _check_size(step, result, *limits)
                try:
                    stored = context[step.name] = freeze(result)
                except RecursionError as err:
                    message = f"{step.label} returned a result nested too deeply to store"
                    raise InvalidStepResult(message, step=step.name) from err
            except BaseException as err:
                duration = perf_counter() - start
                if not isinstance(err, RunCancelled):  # run_flow logs a cancellation
                    # A procedure's own exception is logged with its traceback.
                    cause = err.__cause__ if isinstance(err, ProcedureFailed) else None
                    log.error("%s", err, exc_info=cause)
                events.emit(events.step_failed, run, step, err, duration)
                raise
            duration = perf_counter() - start
            if debug:
                log.debug("step %s finished in %.3f ms", step.label, duration * 1000)
            if finished:
                events.emit(finished, run, step, stored, duration)
            attempt = 1

    def retry_delay(self, step: Procedure, error: Exception, attempt: int) -> float | None:
        """Seconds before the next attempt, or None when the step fails now."""
        policy = step.retry
        if policy is None or attempt >= policy.max_attempts or not is_retryable(policy, error):
            return None
        return retry_delay(policy, attempt)

    def attempt_failed(
        self, step: Procedure, error: Exception, attempt: int, duration: float, delay: float
    ) -> None:
        failure = _failure(step, error, 1)
        failure.__cause__ = error
        of = step.retry.max_attempts
        self.log.warning(
            "%s (attempt %d of %d); retrying in %.1f s", failure, attempt, of, delay, exc_info=error
        )
        self.events.emit(self.events.attempt_failed, self.run, step, attempt, failure, duration, delay)


def _defaults(func) -> tuple[tuple[str, object], ...]:
    """(name, default) of the declared optional params that have a default."""
    declaration = declaration_of(func)
    if declaration is None:
        return ()
    return tuple((name, p.default) for name, p in declaration.params.items() if p.has_default)


def _failure(step: Procedure, error: Exception, attempts: int) -> ProcedureFailed:
    made = f" after {attempts} attempts" if attempts > 1 else ""
    message = f"{step.label} failed{made}: {type(error).__name__}: {error}"
    return ProcedureFailed(message, step=step.name, attempts=attempts)


def _sleeper(should_cancel: Callable[[], bool] | None, log: SafeLogger) -> Callable[[float], bool]:
    """The default ``wait``: sleeps, and when the run can be cancelled asks should_cancel()
    every CANCEL_POLL_SECONDS, so a cancel request does not wait for a long delay."""
    if should_cancel is None:
        return lambda seconds: time.sleep(seconds) or False

    def wait(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not _cancel_requested(should_cancel, log):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, CANCEL_POLL_SECONDS))
        return True

    return wait


def _check_size(step: Procedure, result: dict, max_nodes: int, max_bytes: int) -> None:
    nodes, size = measure(result, max_nodes=max_nodes, max_bytes=max_bytes)
    if nodes > max_nodes:
        message = f"{step.label} returned a result of more than {max_nodes:,} values, the limit for one step"
        raise InvalidStepResult(message, step=step.name)
    if size > max_bytes:
        message = (
            f"{step.label} returned a result of more than {max_bytes:,} bytes as JSON, the limit for one step"
        )
        raise InvalidStepResult(message, step=step.name)


def _cancel_requested(should_cancel, log) -> bool:
    try:
        return bool(should_cancel())
    except Exception:
        log.exception("checking for cancellation failed; the run goes on")
        return False
