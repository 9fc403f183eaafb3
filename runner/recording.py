"""The engine listeners of a run: its record kept up to date step by step, and its log
lines named after the step that wrote them."""

import logging
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone

from runner.engine import RunListener
from runner.jsonsafe import is_json_native, storable_result, storable_text
from runner.models import Run, RunStep
from runner.reconnect import call_once_more

logger = logging.getLogger(__name__)

NAME_LIMIT = RunStep._meta.get_field("name").max_length


class RunRecorder(RunListener):
    """Writes each step's row as it starts and ends, and each attempt that did not end it. A
    write the database refuses (it went away mid-run) does not stop the flow: the step is kept
    here and written by save_pending() with the run's outcome, once the database is back.

    The supervisor (runner.supervisor) calls it with what the child process reports: results
    already made storable there (record_finished), and the ends it decides itself, a timeout
    or a forced cancel (step_stopped)."""

    def __init__(self, run: Run, reused_from_run_id: int | None = None) -> None:
        self.run = run
        self.reused_from_run_id = reused_from_run_id
        self.results: dict = {}
        self._step: RunStep | None = None
        self._pending: dict[int, RunStep] = {}
        self.failed_step = ""  # also known when what stopped the step was no Exception

    def step_started(self, run, step) -> None:
        name = storable_text(step.name, NAME_LIMIT)
        self._step = RunStep(run=self.run, index=step.index, name=name, started_at=timezone.now())
        self._write(self._step, lambda row: row.save(force_insert=True))

    def step_reused(self, run, step, result) -> None:
        # The stored result of the run this one resumes, as it was.
        self.results[storable_text(step.name)] = result
        row = RunStep(
            run=self.run,
            index=step.index,
            name=storable_text(step.name, NAME_LIMIT),
            status=RunStep.Status.REUSED,
            started_at=timezone.now(),
            duration=0.0,
            reused_from_run_id=self.reused_from_run_id,
        )
        self._write(row, lambda row: row.save(force_insert=True))

    def attempt_failed(self, run, step, attempt, error, duration, delay) -> None:
        row = self._step
        if row is None:
            return
        started = timezone.now() - timedelta(seconds=duration)
        entry = {"number": attempt, "started_at": started.isoformat(), "duration": duration}
        row.attempt_log = [*row.attempt_log, {**entry, "error": storable_text(error), "delay": delay}]
        row.attempts = attempt + 1
        self._update(row, ["attempts", "attempt_log"])

    def step_finished(self, run, step, result, duration) -> None:
        self.record_finished(step, storable_result(result), duration, is_json_native(result))

    def record_finished(self, step, stored, duration: float, exact: bool = True) -> None:
        """A step that succeeded, with its result already made storable (`exact`: in full)."""
        self.results[storable_text(step.name)] = stored
        if self._step is not None and not exact:
            self._step.result_exact = False
            self._update(self._step, ["result_exact"])
        self._end_step(RunStep.Status.SUCCEEDED, duration, "")

    def step_failed(self, run, step, error, duration) -> None:
        self.failed_step = step.name
        self._end_step(RunStep.Status.FAILED, duration, storable_text(error))

    def step_stopped(self, step, status: str, duration: float, error: str) -> None:
        """A step the supervisor ended: timed_out, cancelled, or failed with its process."""
        if status != RunStep.Status.CANCELLED:
            self.failed_step = step.name
        self._end_step(status, duration, storable_text(error))

    def _end_step(self, status: str, duration: float, error: str) -> None:
        step, self._step = self._step, None
        if step is not None:
            step.status, step.duration, step.error = status, duration, error
            self._update(step, ["status", "duration", "error"])

    def _update(self, step: RunStep, fields: list[str]) -> None:
        if step.index in self._pending:
            return  # its row was never written: save_pending() writes it whole
        self._write(step, lambda row: row.save(update_fields=fields))

    def _write(self, step: RunStep, write) -> None:
        try:
            call_once_more(lambda: write(step))
        except DatabaseError as err:
            logger.warning("run %s: step %s not recorded yet (%s)", self.run.pk, step.index, err)
            self._pending[step.index] = step

    def save_pending(self) -> None:
        """Write the steps whose rows could not be written while the run went on."""
        for index, step in list(self._pending.items()):
            fields = {"name": step.name, "status": step.status, "started_at": step.started_at}
            fields |= {"duration": step.duration, "error": step.error, "attempts": step.attempts}
            fields |= {"attempt_log": step.attempt_log, "reused_from_run_id": step.reused_from_run_id}
            fields |= {"result_exact": step.result_exact}
            RunStep.objects.update_or_create(run_id=self.run.pk, index=index, defaults=fields)
            del self._pending[index]


class StepLogger(logging.LoggerAdapter, RunListener):
    """The logger the engine and its procedures get: while a step runs, each record goes
    through the step's child of the run's logger, `workflow.run.<id>.<step name>`, so every
    line says which step wrote it; before, between and after the steps, through the run's
    logger. The engine also gets it as a listener: the step events move it along.

    Step names hold no dot (the engine refuses them), so the part after the run's logger name
    is the whole step name. The child is a run logger's child: never registered for the life
    of the process.
    """

    def __init__(self, run_logger: logging.Logger) -> None:
        super().__init__(run_logger)
        self._current = run_logger

    def step_started(self, run, step) -> None:
        self._current = self.logger.getChild(step.name)

    def step_finished(self, run, step, result, duration) -> None:
        self._current = self.logger

    def step_failed(self, run, step, error, duration) -> None:
        self._current = self.logger

    def log(self, level, msg, *args, **kwargs) -> None:
        # One more frame to skip, so records still name the procedure that logged.
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
        self._current.log(level, msg, *args, **kwargs)
