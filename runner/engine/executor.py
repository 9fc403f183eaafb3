"""Running a validated flow: strictly sequential steps, central reference resolution, listeners."""

import contextlib
import logging
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from time import perf_counter
from types import MappingProxyType

from .definition import FlowDefinition, Procedure
from .errors import InvalidStepResult, ProcedureFailed, ProcedureLoadError, RunCancelled
from .freeze import freeze
from .limits import MAX_RESULT_BYTES, MAX_RESULT_NODES, measure
from .loader import ProcedureLoader
from .references import compile_params, resolve_params


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


class _Events:
    # Only listeners' overridden methods are called, so the hot loop skips the no-ops.
    def __init__(self, listeners: Sequence, log: SafeLogger) -> None:
        self.log = log
        for event in ("run_started", "step_started", "step_finished", "step_failed", "run_finished"):
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
) -> dict:
    """Run ``definition`` step by step and return the final context.

    ``context[name]`` is each step's result (read-only), ``context["_input"]`` the input and
    ``context["_runtime"]`` holds run_id, flow_name and start_time. Raises a FlowError
    subclass when the run fails or is cancelled, after telling the listeners. A step whose
    result holds more than ``max_result_nodes`` values or takes more than ``max_result_bytes``
    as JSON fails with InvalidStepResult.
    """
    if input is not None and not isinstance(input, dict):
        raise TypeError(f"input must be a dict, not {type(input).__name__}")
    log = SafeLogger(logger)
    start_time = datetime.now().astimezone().isoformat(timespec="milliseconds")
    context = {
        "_runtime": freeze({"run_id": run_id, "flow_name": flow_name, "start_time": start_time}),
        "_input": freeze(input or {}),
    }
    view = MappingProxyType(context)
    run = RunInfo(run_id, flow_name, start_time, definition, view)
    events = _Events(listeners, log)
    log.info("run %s of flow %s started", run_id, flow_name)
    events.emit(events.run_started, run)
    loader = ProcedureLoader(packages)
    try:
        # Every procedure is loaded first, so a missing one fails the run before any step.
        for step in definition.procedures:
            try:
                loader.load(step.mod, step.method)
            except ProcedureLoadError as err:
                message = f"{step.label}: {err}"
                raise ProcedureLoadError(message, code=err.code, field=err.field, step=step.name) from err
        limits = (max_result_nodes, max_result_bytes)
        _run_steps(definition, loader, context, view, run, log, events, should_cancel, limits)
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


def _run_steps(definition, loader, context, view, run, log, events, should_cancel, limits) -> None:
    debug = log.isEnabledFor(logging.DEBUG)
    started, finished = events.step_started, events.step_finished
    for step in definition.procedures:
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
            template, references = compile_params(step.params)
            params = resolve_params(template, references, view, step.name) if references else dict(template)
            try:
                result = func(cls(log), view, params)
            except Exception as err:
                message = f"{step.label} failed: {type(err).__name__}: {err}"
                raise ProcedureFailed(message, step=step.name) from err
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
            # A procedure's own exception is logged with its traceback.
            log.error("%s", err, exc_info=err.__cause__ if isinstance(err, ProcedureFailed) else None)
            events.emit(events.step_failed, run, step, err, duration)
            raise
        duration = perf_counter() - start
        if debug:
            log.debug("step %s finished in %.3f ms", step.label, duration * 1000)
        if finished:
            events.emit(finished, run, step, stored, duration)


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
