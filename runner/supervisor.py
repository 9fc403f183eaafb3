"""Executing a run in a child process that the worker supervises.

The engine runs in a forked child; the parent (the worker, or `runflow` in-process) records
what the child reports over a pipe, keeps the heartbeat, watches for a cancel request and
enforces the timeouts. A step that never returns (`time.sleep(3600)`, a blocking read, a C
extension) is stopped by signals, and a procedure that crashes the interpreter
(`os._exit`, a segfault) fails its run, never the worker. docs/runs.md has the design and
its bounds.

The pipes carry one-byte messages to the child (b"c": cancel before the next step, b"s":
stop now, followed by SIGTERM) and events from it (engine events, log records), each its
length and its marshalled dict.
"""

import contextlib
import ctypes
import io
import json
import logging
import marshal
import os
import select
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from django.conf import settings
from django.db import connections

from runner import engine, masking
from runner import log as runlog
from runner.engine.references import SECRET_ROOT
from runner.jsonsafe import is_json_native, storable_result, storable_text
from runner.log.formatting import cut
from runner.log.pipeline import LogPipeline
from runner.masking import Masker
from runner.models import Run, RunStep
from runner.reconnect import CONNECTION_ERRORS, drop_broken_connections
from runner.recording import RunRecorder, StepLogger
from runner.resume import TRUNCATED_KEY, ResumePlan, not_stored_whole
from vault.store import RunSecrets

logger = logging.getLogger(__name__)

CANCEL_POLL_SECONDS = 0.5  # how often the parent reads the run's cancel request
TERM_SECONDS = 1.0  # a forced cancel: SIGTERM, then SIGKILL this much later
EXIT_TICK_SECONDS = 0.1  # where no pidfd tells the child's exit, how often to ask
STREAMING_EVENTS = 8  # events read at once that show a child running many short steps
STREAMING_PAUSE_SECONDS = 0.002  # then its events are read this much later, together
FAILED_STEP_LIMIT = Run._meta.get_field("failed_step").max_length

# What a child inherited from the worker and must never free: freeing a MySQLdb connection
# object sends QUIT on its socket, which the parent still uses. The child exits with
# os._exit(), so nothing here is ever finalized.
_INHERITED: list = []


@dataclass
class Outcome:
    """How a supervised run ended; `context` only for a run that succeeded (without the step
    results, which the recorder holds)."""

    status: str
    error: str = ""
    traceback: str = ""
    failed_step: str = ""
    context: dict | None = None


@dataclass
class _Retry:
    """A timed-out attempt that is attempted again, in a new child, after `delay` seconds."""

    index: int
    attempt: int
    delay: float


def supervise(run: Run, definition, plan: ResumePlan, recorder: RunRecorder, listeners=()) -> Outcome:
    """Execute the run's steps from `plan.start_at` in child processes; record and return
    how it ended. The caller's listeners hear the step events as the engine's would."""
    return _Supervisor(run, definition, plan, recorder, listeners).run()


def failure_of(err: BaseException, failed_step: str = "") -> Outcome:
    """The failed outcome of a run that raised `err`: its error, traceback and failed step."""
    cause = err.__cause__ if isinstance(err, engine.FlowError) and err.__cause__ else err
    error = str(err) or type(err).__name__
    if not isinstance(err, Exception):
        error = f"interrupted: {type(err).__name__}" + (f" {err}" if str(err) else "")
    return Outcome(
        Run.Status.FAILED,
        error=storable_text(error),
        traceback=storable_text("".join(traceback.format_exception(cause))),
        failed_step=storable_text(getattr(err, "step", None) or failed_step, FAILED_STEP_LIMIT),
    )


class _Supervisor:
    def __init__(self, run: Run, definition, plan: ResumePlan, recorder: RunRecorder, listeners) -> None:
        self.run_record, self.definition, self.plan, self.recorder = run, definition, plan, recorder
        self.steps = definition.procedures
        self.grace = settings.WORKFLOW_KILL_GRACE_SECONDS
        self.started = time.monotonic()
        timeout = definition.timeout_seconds
        self.run_deadline = self.started + timeout if timeout else None
        self.results: dict = {}  # step name -> stored result, of the steps the children ran
        self.announced: set[int] = set()  # steps whose row exists: a new child repeats them
        self.current: int | None = None  # the step running in the child
        self.attempt = 1
        self.attempt_started = self.started
        self.step_deadline: float | None = None
        self.finished: Outcome | None = None  # what the child reported at its end
        self.cancel_seen = self.cancel_now = False
        self.cancel_deadline: float | None = None
        self.next_poll = self.started + CANCEL_POLL_SECONDS
        self.context: dict = {"_runtime": {"run_id": run.pk, "flow_name": run.flow_name}}
        start_time = datetime.now().astimezone().isoformat(timespec="milliseconds")
        self.info = engine.RunInfo(
            run.pk, run.flow_name, start_time, definition, MappingProxyType(self.context)
        )
        self.listeners = listeners
        self.log = runlog.run_logger(run.pk)

    def run(self) -> Outcome:
        self._tell("run_started", self.info)
        start_at, attempt = self.plan.start_at, 1
        while True:
            ending = self._run_child(start_at, attempt)
            if isinstance(ending, _Retry):
                ending = self._wait_to_retry(ending)
            if isinstance(ending, Outcome):
                self._tell("run_finished", self.info, ending.status, None)
                return ending
            start_at, attempt = ending.index, ending.attempt + 1

    # The child's life, seen from the parent.

    def _run_child(self, start_at: int, attempt: int) -> "Outcome | _Retry":
        reused = {**self.plan.reused, **self.results}
        child = _Child.fork(
            lambda control, events, masker: self._child_body(
                control, events, masker, start_at, attempt, reused
            )
        )
        try:
            return self._watch(child)
        except BaseException as err:
            # Ctrl-C of runflow, a second SIGTERM to the worker, a bug of ours: the child
            # goes with the parent, and the step it ran is recorded as interrupted.
            child.stop(TERM_SECONDS, self._output)
            self._end_current(RunStep.Status.FAILED, failure_of(err).error)
            raise
        finally:
            child.close()

    def _watch(self, child: "_Child") -> "Outcome | _Retry":
        while True:
            child.wait(self._next_wakeup())
            events = child.events()
            for event in events:
                self._handle(event)
            if len(events) >= STREAMING_EVENTS:
                # The child is streaming: let its events gather in the pipe rather than wake
                # this process for each one (a few milliseconds later, in one read).
                time.sleep(STREAMING_PAUSE_SECONDS)
            if child.ended():
                for event in child.events():  # what it wrote just before it ended
                    self._handle(event)
                return self._child_ended(child)
            now = time.monotonic()
            if self.recorder.due is not None and now >= self.recorder.due:
                self.recorder.flush()  # the step rows, a batch at a time
            if now >= self.next_poll and not self.cancel_now:
                self._poll_cancel(child, now)
            if self.step_deadline is not None and now >= self.step_deadline:
                return self._step_timed_out(child, now)
            if self.run_deadline is not None and now >= self.run_deadline:
                child.stop(self.grace, self._output)
                return self._run_timed_out()
            if self.cancel_deadline is not None and now >= self.cancel_deadline:
                child.stop(TERM_SECONDS, self._output)
                return self._cancelled_by_force()

    def _next_wakeup(self) -> float:
        deadlines = [self.next_poll, self.step_deadline, self.run_deadline, self.cancel_deadline]
        deadlines.append(self.recorder.due)  # the step rows' next batch
        soonest = min(deadline for deadline in deadlines if deadline is not None)
        return max(soonest - time.monotonic(), 0.0)

    def _poll_cancel(self, child: "_Child", now: float) -> None:
        self.next_poll = now + CANCEL_POLL_SECONDS
        try:
            row = (
                Run.objects.filter(pk=self.run_record.pk)
                .values_list("cancel_requested", "cancel_now")
                .first()
            )
        except CONNECTION_ERRORS:
            drop_broken_connections()  # the run goes on; the next poll reconnects
            return
        if not row or not row[0]:
            return
        if not self.cancel_seen:
            self.cancel_seen = True
            child.send(b"c")  # the engine stops before the next step
            self.cancel_deadline = now + self.grace
            if self.current is not None and not row[1]:
                step = self.steps[self.current].name
                message = "cancel requested: the run stops before its next step; %s is stopped in %g s"
                self.log.warning(message, step, self.grace)
        if row[1]:
            self.cancel_now, self.cancel_deadline = True, now

    def _child_ended(self, child: "_Child") -> Outcome:
        if self.finished is not None:
            return self.finished
        step = self.steps[self.current].name if self.current is not None else None
        error = f"the process running {f'step {step}' if step else 'the run'} {child.how_it_ended()}"
        self.log.error("%s", error)
        self._end_current(RunStep.Status.FAILED, error)
        return Outcome(Run.Status.FAILED, error=error, failed_step=step or self.recorder.failed_step)

    def _step_timed_out(self, child: "_Child", now: float) -> "Outcome | _Retry":
        child.stop(self.grace, self._output)
        step = self.steps[self.current]
        error = f"step {step.name} timed out after {step.timeout_seconds:g} s"
        policy, attempt = step.retry, self.attempt
        if policy is not None and policy.max_attempts > 1:
            error += f" (attempt {attempt} of {policy.max_attempts})"
        retry = self._timeout_retry(step, attempt)
        if isinstance(retry, _Retry):
            self._attempt_failed(step, attempt, error, now - self.attempt_started, retry.delay)
            return retry
        error += retry
        self.log.error("%s", error)
        self._end_current(RunStep.Status.TIMED_OUT, error)
        return Outcome(Run.Status.FAILED, error=error, failed_step=step.name)

    def _timeout_retry(self, step, attempt: int) -> "_Retry | str":
        """The retry of a timed-out attempt, or why there is none (appended to the error)."""
        policy = step.retry
        if (
            policy is None
            or attempt >= policy.max_attempts
            or not engine.is_retryable(policy, "TimeoutError")
        ):
            return ""
        for name, result in self.results.items():
            if what := not_stored_whole(result):
                return f"; not retried: the result of step {name} was not kept in full ({what})"
        return _Retry(step.index, attempt, engine.retry_delay(policy, attempt))

    def _run_timed_out(self) -> Outcome:
        error = f"run timed out after {self.definition.timeout_seconds:g} s"
        self.log.error("%s", error)
        step = self.steps[self.current].name if self.current is not None else ""
        self._end_current(RunStep.Status.TIMED_OUT, error)
        return Outcome(Run.Status.FAILED, error=error, failed_step=step)

    def _cancelled_by_force(self) -> Outcome:
        how = "at once (--now)" if self.cancel_now else f"after the grace period of {self.grace:g} s"
        if self.current is None:
            error = "run cancelled"
        else:
            error = f"run cancelled: step {self.steps[self.current].name} was stopped {how}"
        self.log.warning("%s", error)
        self._end_current(RunStep.Status.CANCELLED, error)
        return Outcome(Run.Status.CANCELLED, error=error)

    def _wait_to_retry(self, retry: _Retry) -> "Outcome | _Retry":
        # Between two children: the parent waits, still heeding a cancel and the run's timeout.
        until = time.monotonic() + retry.delay
        self.recorder.flush()  # the failed attempt shows while the step waits
        while (now := time.monotonic()) < until:
            if self.recorder.due is not None and now >= self.recorder.due:
                self.recorder.flush()
            if self.run_deadline is not None and now >= self.run_deadline:
                return self._run_timed_out()
            if now >= self.next_poll:
                self._poll_cancel(_Child.NONE, now)
                if self.cancel_seen:
                    error = f"run cancelled while step {self.steps[retry.index].name} waited to retry"
                    self.log.warning("%s", error)
                    self._end_current(RunStep.Status.CANCELLED, error)
                    return Outcome(Run.Status.CANCELLED, error=error)
            wake = min(until, self.next_poll, self.run_deadline or until, self.recorder.due or until)
            time.sleep(wake - now)
        return retry

    # Events from the child.

    def _handle(self, event: dict) -> None:
        kind = event.get("e")
        if kind == "run_finished":
            self.finished = _finished(event)
            return
        if kind in ("log", "output"):
            self._output(event)
            return
        step = self.steps[event["i"]]
        if kind == "step_started":
            self._step_started(step, event["attempt"])
        elif kind == "step_reused":
            if step.index not in self.announced:
                self.announced.add(step.index)
                result = self.context[step.name] = self.plan.reused[step.name]
                self.recorder.step_reused(self.info, step, result)
                self._tell("step_reused", self.info, step, result)
        elif kind == "attempt_failed":
            error = _remote_error(event, step)
            self.recorder.attempt_failed(
                self.info, step, event["attempt"], error, event["duration"], event["delay"]
            )
            self._tell(
                "attempt_failed", self.info, step, event["attempt"], error, event["duration"], event["delay"]
            )
            self._next_attempt(step, event["attempt"] + 1, time.monotonic() + event["delay"])
        elif kind == "step_finished":
            self.results[step.name] = self.context[step.name] = event["result"]
            self.recorder.record_finished(step, event["result"], event["duration"], event.get("exact", True))
            self._tell("step_finished", self.info, step, event["result"], event["duration"])
            self.current = self.step_deadline = None
        elif kind == "step_failed":
            error = _remote_error(event, step)
            if isinstance(error, engine.RunCancelled):  # a procedure that saw the cancel (runtime.wait)
                self.recorder.step_stopped(step, RunStep.Status.CANCELLED, event["duration"], str(error))
            else:
                self.recorder.step_failed(self.info, step, error, event["duration"])
            self._tell("step_failed", self.info, step, error, event["duration"])
            self.current = self.step_deadline = None

    def _output(self, event: dict) -> None:
        """What the child logged or printed, written here: the parent's log pipeline (console,
        file, wf_syslog) takes the child's records as its own."""
        if event["e"] == "log":
            with contextlib.suppress(Exception):
                self.log.handle(_record(event["record"]))
        elif event["e"] == "output":
            _write_output(event)

    def _step_started(self, step, attempt: int) -> None:
        self.current = step.index
        # A new child repeats step_started for the step it attempts again: one row, one line.
        if step.index not in self.announced:
            self.announced.add(step.index)
            self.recorder.step_started(self.info, step)
            self._tell("step_started", self.info, step)
        self._next_attempt(step, attempt, time.monotonic())

    def _next_attempt(self, step, attempt: int, starts: float) -> None:
        self.attempt, self.attempt_started = attempt, starts
        self.step_deadline = starts + step.timeout_seconds if step.timeout_seconds else None

    def _attempt_failed(self, step, attempt: int, error: str, duration: float, delay: float) -> None:
        failure = engine.ProcedureFailed(error, step=step.name)
        failure.__cause__ = TimeoutError(error)
        self.log.warning("%s; retrying in %.1f s", error, delay)
        self.recorder.attempt_failed(self.info, step, attempt, failure, duration, delay)
        self._tell("attempt_failed", self.info, step, attempt, failure, duration, delay)
        self.step_deadline = None

    def _end_current(self, status: str, error: str) -> None:
        if self.current is None:
            return
        step, self.current, self.step_deadline = self.steps[self.current], None, None
        duration = max(time.monotonic() - self.attempt_started, 0.0)
        self.recorder.step_stopped(step, status, duration, error)
        kind = engine.RunCancelled if status == RunStep.Status.CANCELLED else engine.FlowError
        self._tell("step_failed", self.info, step, kind(error, step=step.name), duration)

    def _tell(self, event: str, *args) -> None:
        for listener in self.listeners:
            try:
                getattr(listener, event)(*args)
            except Exception:
                self.log.exception("run listener %r failed; the run goes on", listener)

    # The child's side.

    def _child_body(
        self, control: "_Control", events: "_Events", masker: Masker, start_at: int, attempt: int, reused
    ) -> None:
        run = self.run_record
        steps_logger = StepLogger(runlog.run_logger(run.pk))
        reporter = _Reporter(events, start_at, attempt, masker)
        # Looked up when a step resolves "@_secret.NAME", here in the child; each value is
        # masked from then on in everything the child sends (docs/secrets.md).
        secrets = RunSecrets(on_reveal=masker.add)
        try:
            context = engine.run_flow(
                self.definition,
                logger=steps_logger,
                packages=settings.WORKFLOW_PROCEDURE_PACKAGES,
                run_id=run.pk,
                flow_name=run.flow_name,
                input=run.input,
                listeners=(secrets, steps_logger, reporter),
                should_cancel=control.cancelled,
                wait=control.wait,
                max_result_nodes=settings.WORKFLOW_MAX_RESULT_NODES,
                max_result_bytes=settings.WORKFLOW_MAX_RESULT_BYTES,
                start_at=start_at,
                reused=reused,
                start_attempt=attempt,
                secrets=secrets,
            )
            # The step results went with their events; the secrets are never stored.
            left_out = {step.name for step in self.steps} | {SECRET_ROOT}
            rest = {storable_text(k): storable_result(v) for k, v in context.items() if k not in left_out}
            outcome = Outcome(Run.Status.SUCCEEDED, context=masker.data(rest))
        except engine.RunCancelled as err:
            outcome = Outcome(Run.Status.CANCELLED, error=masker.text(storable_text(err)))
        except _Stopped:
            raise
        except BaseException as err:
            outcome = failure_of(err, reporter.failed_step)
            outcome.error, outcome.traceback = masker.text(outcome.error), masker.text(outcome.traceback)
            if isinstance(err, Exception) and not isinstance(err, engine.FlowError):
                # Not a flow's own failure: a bug on our side, worth the operator's attention.
                logger.error("run %s failed outside the flow", run.pk, exc_info=err)
        events.send("run_finished", **outcome.__dict__)


def _record(fields: dict) -> logging.LogRecord:
    """The child's record, as makeLogRecord would make it but without running LogRecord's
    constructor (which works out a time, a thread and a process that `fields` replace): a
    flow of many short steps sends three records a step."""
    record = _NEW_RECORD(logging.LogRecord)
    record.__dict__ = {**_RECORD_DEFAULTS, **fields}
    return record


_NEW_RECORD = object.__new__
# What the child leaves out (only plain values cross): exc_info is never sent, exc_text is.
_RECORD_DEFAULTS = {"args": None, "exc_info": None, "exc_text": None, "stack_info": None}


def _finished(event: dict) -> Outcome:
    return Outcome(
        event["status"], event["error"], event["traceback"], event["failed_step"], event["context"]
    )


_REMOTE_CLASSES: dict[str, type] = {}


def _remote_error(event: dict, step) -> BaseException:
    """The child's exception, rebuilt for the parent's listeners: an engine error of the same
    class with the same message, and a cause whose class has the original's name."""
    cls = getattr(engine, event["type"], None)
    if not (isinstance(cls, type) and issubclass(cls, engine.FlowError)) or cls is engine.ProcedureLoadError:
        cls = engine.FlowError
    error = cls(event["error"], step=step.name)
    if event.get("cause_type"):
        name = event["cause_type"]
        cause_class = _REMOTE_CLASSES.setdefault(name, type(name, (Exception,), {}))
        error.__cause__ = cause_class(event["cause"])
    return error


class _Reporter(engine.RunListener):
    """In the child: tells the parent each engine event."""

    def __init__(self, events: "_Events", start_at: int, attempt: int, masker: Masker) -> None:
        self.events, self.start_at, self.first_attempt = events, start_at, attempt
        self.masker = masker
        self.failed_step = ""

    def step_started(self, run, step) -> None:
        attempt = self.first_attempt if step.index == self.start_at else 1
        self.events.send("step_started", i=step.index, attempt=attempt)

    def step_reused(self, run, step, result) -> None:
        self.events.send("step_reused", i=step.index)

    def attempt_failed(self, run, step, attempt, error, duration, delay) -> None:
        fields = _error_fields(error, self.masker)
        self.events.send(
            "attempt_failed", i=step.index, attempt=attempt, duration=duration, delay=delay, **fields
        )

    def step_finished(self, run, step, result, duration) -> None:
        stored = storable_result(result)
        exact = is_json_native(result)
        if self.masker:
            masked = self.masker.data(stored)
            if stored.get(TRUNCATED_KEY) is True and isinstance(stored.get("preview"), str):
                # A result over the stored size keeps a preview cut at a fixed length: the
                # cut may go through a value.
                masked["preview"] = self.masker.cut_text(stored["preview"])
            # A result stored with "****" in place of a secret is not what the step returned:
            # a resumed run must not feed it to a later step as if it were.
            stored, exact = masked, exact and masked == stored
        # Held for the next event, which comes at once: the next step's start, the run's end.
        self.events.hold("step_finished", i=step.index, result=stored, exact=exact, duration=duration)

    def step_failed(self, run, step, error, duration) -> None:
        self.failed_step = step.name
        fields = _error_fields(error, self.masker)
        self.events.send("step_failed", i=step.index, duration=duration, **fields)


def _error_fields(error: BaseException, masker: Masker) -> dict:
    cause = error.__cause__
    fields = {"type": type(error).__name__, "error": masker.text(storable_text(error))}
    if cause is not None:
        fields |= {"cause_type": type(cause).__name__, "cause": masker.text(storable_text(cause))}
    return fields


class _Stopped(BaseException):
    """Raised in the child by the parent's SIGTERM: the step ends, its `finally` blocks run."""


class _Control:
    """The child's end of the parent's messages: b"c" cancel, b"s" stop; end of file means
    the parent is gone, which stops the child too."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.cancel = self.stop = self.raised = False

    def read(self) -> None:
        try:
            data = os.read(self.fd, 64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self.cancel = self.cancel or b"c" in data
        self.stop = self.stop or b"s" in data or not data

    def cancelled(self) -> bool:
        """The engine's should_cancel: a flag, no query."""
        self.read()
        return self.cancel or self.stop

    def wait(self, seconds: float) -> bool:
        """A retry delay, cut short by a cancel: True when the run was cancelled meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.cancelled():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([self.fd], [], [], left)
        return True

    def on_sigterm(self, signum, frame) -> None:
        # systemd stops a service by sending SIGTERM to all its processes: that one is the
        # worker's business (it lets the running run finish). Only the parent's own stop,
        # announced by b"s" on the pipe before the signal, stops the step.
        self.read()
        if self.stop and not self.raised:
            self.raised = True
            raise _Stopped("stopped by the supervisor")


class _Events:
    """The child's end of its events, each written whole (a pipe may take a long one in
    parts). What is held goes with the next event sent: one write, not one per event."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()  # a procedure's own threads log too
        self.held: list[bytes] = []

    def send(self, event: str, **fields) -> None:
        line = _line(event, fields)
        with self.lock:
            data, self.held = b"".join([*self.held, line]), []
            while data:
                data = data[os.write(self.fd, data) :]

    def hold(self, event: str, **fields) -> None:
        line = _line(event, fields)
        with self.lock:
            self.held.append(line)


def _line(event: str, fields: dict) -> bytes:
    # marshal: a tenth of JSON's cost at both ends, for the same plain values (both ends are
    # the same interpreter). A value of a type it does not know goes as JSON would have it.
    message = {"e": event, **fields}
    try:
        data = marshal.dumps(message)
    except ValueError:
        data = marshal.dumps(json.loads(json.dumps(message, default=str)))
    return _LENGTH.pack(len(data)) + data


_LENGTH = struct.Struct("<I")  # each event: its length, then the event marshalled


class _Child:
    """The parent's handle on one child: its pid, its events and its control pipe."""

    NONE: "_Child"

    def __init__(self, pid: int, events_fd: int, control_fd: int) -> None:
        self.pid, self.events_fd, self.control_fd = pid, events_fd, control_fd
        self.buffer = b""
        self.eof = False  # the child closed its end: it is exiting, only its pidfd is left to watch
        self.status: int | None = None
        self.pidfd = _pidfd(pid) if pid > 0 else None
        if events_fd >= 0:
            os.set_blocking(events_fd, False)

    @classmethod
    def fork(cls, body) -> "_Child":
        events_r, events_w = os.pipe()
        control_r, control_w = os.pipe()
        # Output buffered in this process would be written a second time by the child.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with warnings.catch_warnings():
            # Python warns that a fork while other threads run may leave the child with a
            # lock held forever. Ours (heartbeat, log listener and writer) hold none that the
            # child takes: logging resets its handlers' locks at fork, and the log pipeline
            # starts threads, queues and locks of its own in a new process.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:
            os.close(events_r)
            os.close(control_w)
            _child_main(body, control_r, events_w)
        os.close(events_w)
        os.close(control_r)
        return cls(pid, events_r, control_w)

    def wait(self, timeout: float) -> None:
        """Until the child reports something or ends, or `timeout` seconds have passed."""
        # Once the events pipe is at its end it is always readable: watching it then would
        # spin until the exiting child can be reaped.
        watched = ([] if self.eof else [self.events_fd]) + ([self.pidfd] if self.pidfd is not None else [])
        if self.pidfd is None:
            timeout = min(timeout, EXIT_TICK_SECONDS / 20 if self.eof else EXIT_TICK_SECONDS)
        select.select(watched, [], [], timeout)

    def events(self) -> list[dict]:
        chunks = []
        while True:
            try:
                chunk = os.read(self.events_fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                self.eof = True
                break
            chunks.append(chunk)
        if not chunks:
            return []
        data = self.buffer + b"".join(chunks)
        view, events, at = memoryview(data), [], 0
        while len(data) - at >= _LENGTH.size:
            end = at + _LENGTH.size + _LENGTH.unpack_from(data, at)[0]
            if end > len(data):
                break  # the rest of it comes with the next read
            events.append(marshal.loads(view[at + _LENGTH.size : end]))
            at = end
        self.buffer = data[at:]
        return events

    def ended(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == 0:
                return False
            self.status = status
        return True

    def how_it_ended(self) -> str:
        if os.WIFSIGNALED(self.status):
            number = os.WTERMSIG(self.status)
            with contextlib.suppress(ValueError):
                return f"was killed by signal {number} ({signal.Signals(number).name})"
            return f"was killed by signal {number}"
        code = os.WEXITSTATUS(self.status)
        return f"exited with status {code}" if code else "ended without reporting how the run ended"

    def send(self, message: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.control_fd, message)

    def stop(self, kill_after: float, on_event=None) -> None:
        """SIGTERM (announced by b"s"), then SIGKILL if it has not ended `kill_after` s later.
        What it reports meanwhile goes to `on_event` (its log lines), or nowhere."""
        if self.pid <= 0 or self.status is not None:
            return
        self.send(b"s")
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + kill_after
        while not self._reaped() and (left := deadline - time.monotonic()) > 0:
            self.wait(left)
            self._drain(on_event)
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.status = os.waitpid(self.pid, 0)[1]
        self._drain(on_event)

    def _drain(self, on_event) -> None:
        for event in self.events():
            if on_event is not None:
                on_event(event)

    def _reaped(self) -> bool:
        return self.status is not None or self.ended()

    def close(self) -> None:
        if self.pid > 0 and self.status is None:
            self.stop(TERM_SECONDS)
        for fd in (self.events_fd, self.control_fd, self.pidfd):
            if fd is not None and fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


_Child.NONE = _Child(0, -1, -1)


def _pidfd(pid: int) -> int | None:
    # Linux 5.3+: readable once the child ends, so the parent sleeps until then.
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _child_main(body, control_fd: int, events_fd: int) -> None:
    """The child's whole life; it never returns into the worker's code."""
    code = 0
    try:
        control, events, masker = _Control(control_fd), _Events(events_fd), masking.revealed
        _leave_the_worker(control)
        _forward_logs(events, masker)
        _mask_output(events, masker)
        body(control, events, masker)
    except _Stopped:
        pass
    except BaseException:
        code = 70  # a bug of ours in the child: the parent reports the status
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(code)  # no atexit, no finalizers: nothing of the worker's is closed here


class _ForwardedLog(logging.Handler):
    """In the child, in place of the log pipeline: each record of the "workflow" loggers goes
    to the parent, rendered, with its traceback as text. The child needs no threads and no
    connection for its logs, and a record sent is kept even if the child is killed."""

    def __init__(self, events: "_Events", masker: Masker) -> None:
        super().__init__()
        self.events, self.masker = events, masker
        self.limit = settings.WORKFLOW_LOG_MAX_MESSAGE_CHARS

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {k: v for k, v in record.__dict__.items() if v.__class__ in _PLAIN}
            message, masker = record.getMessage(), self.masker
            if masker:
                # Before the message is cut: a cut could leave the head of a secret.
                message = masker.text(message)
                for key in ("exc_text", "stack_info"):
                    if fields.get(key):
                        fields[key] = masker.text(fields[key])
            fields |= {"msg": cut(message, self.limit), "args": None}
            if record.exc_info and not record.exc_text:
                traceback_text = masker.text(_TRACEBACKS.formatException(record.exc_info))
                fields["exc_text"] = cut(traceback_text, self.limit)
            if record.levelno == logging.DEBUG and record.pathname == _ENGINE_STEPS:
                # The engine's "step ... started" and "... finished": the step events that
                # follow them at once take them along.
                self.events.hold("log", record=fields)
            else:
                self.events.send("log", record=fields)
        except _Stopped:
            raise
        except Exception:
            self.handleError(record)


_PLAIN = frozenset((str, int, float, bool, type(None)))  # exactly these: what marshal takes
_ENGINE_STEPS = engine.run_flow.__code__.co_filename  # where the engine's own step lines come from
_TRACEBACKS = logging.Formatter()


def _forward_logs(events: "_Events", masker: Masker) -> None:
    workflow = logging.getLogger(runlog.ROOT_LOGGER)
    for handler in list(workflow.handlers):
        if isinstance(handler, LogPipeline):
            # Still referenced by runner.log: its writer thread holds the parent's connection.
            workflow.removeHandler(handler)
    workflow.addHandler(_ForwardedLog(events, masker))


def _write_output(event: dict) -> None:
    stream = sys.stdout if event["stream"] == "stdout" else sys.stderr
    with contextlib.suppress(Exception):
        stream.write(event["text"])
        stream.flush()


class _ForwardedOutput(io.TextIOBase):
    """The child's sys.stdout or sys.stderr when the parent's is no file (a test capturing
    it, runflow called in-process): what the child writes is written by the parent, its
    secrets masked."""

    def __init__(self, events: "_Events", name: str, masker: Masker) -> None:
        self.events, self.name, self.masker = events, name, masker

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.events.send("output", stream=self.name, text=self.masker.text(text))
        return len(text)


class _MaskedFile(io.TextIOBase):
    """The child's sys.stdout or sys.stderr when the parent's is a file (a terminal, the
    worker's journal): the same file, written with the secrets masked. Each write is masked
    on its own, and what bypasses sys.stdout (os.write, a subprocess) is not masked."""

    def __init__(self, stream, masker: Masker) -> None:
        self.stream, self.masker = stream, masker

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.stream.write(self.masker.text(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str:
        return self.stream.encoding

    def __getattr__(self, name: str):
        # The rest of the file's interface (buffer, reconfigure, name...), unmasked.
        return getattr(self.stream, name)


def _mask_output(events: "_Events", masker: Masker) -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        try:
            stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            setattr(sys, name, _ForwardedOutput(events, name, masker))
        else:
            setattr(sys, name, _MaskedFile(stream, masker))


def _leave_the_worker(control: _Control) -> None:
    # Ctrl-C on a terminal and systemd's stop reach the whole group: they are the parent's
    # to handle. A no-op handler rather than SIG_IGN, which programs a procedure starts
    # would inherit.
    for number in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(number, _ignore)
    signal.signal(signal.SIGTERM, control.on_sigterm)
    _die_with_parent()
    _forget_inherited_connections()


def _ignore(signum, frame) -> None:
    pass


_PR_SET_PDEATHSIG = 1
# Loaded once, in the worker: the child only calls it.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    # Linux: a SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG); the closed control pipe
    # then says "stop". Elsewhere the child stops before its next step.
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _forget_inherited_connections() -> None:
    # The parent's database connections (this thread's, the heartbeat's and the log writer's)
    # are its own: the child opens its own when it needs one, and never frees or closes
    # the inherited ones (see _INHERITED).
    for alias in connections:
        _INHERITED.append(connections[alias])
        connections[alias] = connections.create_connection(alias)
