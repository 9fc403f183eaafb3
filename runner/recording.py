"""The engine listeners of a run: its record kept up to date step by step, and its log
lines named after the step that wrote them."""

import json
import logging
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, connections
from django.utils import timezone

from runner.engine import RunListener
from runner.jsonsafe import is_json_native, storable_result, storable_text
from runner.models import Run, RunStep
from runner.reconnect import call_once_more

logger = logging.getLogger(__name__)

NAME_LIMIT = RunStep._meta.get_field("name").max_length
FLUSH_SECONDS = 0.5  # a step's row, or its change, is written at most this much later


@dataclass(slots=True)
class _Row:
    """A step's row as the recorder keeps it until it is written: a plain object, not a
    model instance (building one and having bulk_create prepare it costs more than a step)."""

    index: int
    name: str
    started_at: datetime
    status: str = RunStep.Status.RUNNING
    duration: float | None = None
    error: str = ""
    attempts: int = 1
    attempt_log: list = field(default_factory=list)
    reused_from_run_id: int | None = None
    result_exact: bool = True


ROW_FIELDS = tuple(f.name for f in fields(_Row))


class RunRecorder(RunListener):
    """Keeps each step's row, and writes the rows in batches: a row, or a change to one, is
    written at most `flush_seconds` after it happened, when the supervisor calls flush(), and
    whatever is left by save_pending() before the run's outcome. A step that ends within that
    time is inserted once, with its final status; a step still running then gets its
    "running" row, updated when it ends. So a run costs a few queries a second, not a few per
    step, and the run page is at most `flush_seconds` behind.

    A write the database refuses (it went away mid-run) does not stop the flow: the rows stay
    here and are written by a later flush, or with the outcome once the database is back.

    The supervisor (runner.supervisor) calls it with what the child process reports: results
    already made storable there (record_finished), and the ends it decides itself, a timeout
    or a forced cancel (step_stopped)."""

    def __init__(
        self, run: Run, reused_from_run_id: int | None = None, flush_seconds: float = FLUSH_SECONDS
    ) -> None:
        self.run = run
        self.reused_from_run_id = reused_from_run_id
        self.flush_seconds = flush_seconds
        self.results: dict = {}
        self.failed_step = ""  # also known when what stopped the step was no Exception
        # When flush() has something to write (time.monotonic()), or None.
        self.due: float | None = None
        self._step: _Row | None = None
        self._step_began = 0.0
        self._unwritten: dict[int, _Row] = {}  # rows not inserted yet, by step index
        self._changed: dict[int, tuple[_Row, set[str]]] = {}  # inserted rows, the fields to update

    def step_started(self, run, step) -> None:
        self._step = _Row(step.index, storable_text(step.name, NAME_LIMIT), timezone.now())
        self._step_began = time.monotonic()
        self._keep(self._step)

    def step_reused(self, run, step, result) -> None:
        # The stored result of the run this one resumes, as it was.
        self.results[storable_text(step.name)] = result
        name = storable_text(step.name, NAME_LIMIT)
        row = _Row(step.index, name, timezone.now(), RunStep.Status.REUSED, 0.0)
        row.reused_from_run_id = self.reused_from_run_id
        self._keep(row)

    def attempt_failed(self, run, step, attempt, error, duration, delay) -> None:
        row = self._step
        if row is None:
            return
        started = timezone.now() - timedelta(seconds=duration)
        entry = {"number": attempt, "started_at": started.isoformat(), "duration": duration}
        row.attempt_log = [*row.attempt_log, {**entry, "error": storable_text(error), "delay": delay}]
        row.attempts = attempt + 1
        self._keep(row, "attempts", "attempt_log")

    def step_finished(self, run, step, result, duration) -> None:
        self.record_finished(step, storable_result(result), duration, is_json_native(result))

    def record_finished(self, step, stored, duration: float, exact: bool = True) -> None:
        """A step that succeeded, with its result already made storable (`exact`: in full)."""
        self.results[storable_text(step.name)] = stored
        if self._step is not None and not exact:
            self._step.result_exact = False
            self._keep(self._step, "result_exact")
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
            self._keep(step, "status", "duration", "error")

    def _keep(self, row: _Row, *changed: str) -> None:
        if not changed or row.index in self._unwritten:
            self._unwritten[row.index] = row  # inserted whole, as it is then
        else:
            self._changed.setdefault(row.index, (row, set()))[1].update(changed)
        if self.due is None:
            self.due = time.monotonic() + self.flush_seconds

    def flush(self) -> None:
        """Write what is pending, except the row of a step that started less than
        `flush_seconds` ago (it may well end first: one insert, not an insert and an update).
        A write the database refuses is tried again at the next flush."""
        now = time.monotonic()
        held = self._step if self._step is not None and now - self._step_began < self.flush_seconds else None
        try:
            call_once_more(lambda: self._write(held))
        except DatabaseError as err:
            logger.warning("run %s: step rows not recorded yet (%s)", self.run.pk, err)
            self.due = now + self.flush_seconds
            return
        self.due = self._step_began + self.flush_seconds if held is not None else None

    def save_pending(self) -> None:
        """Write every row still pending: what the run's outcome is saved after."""
        self._write(None)
        self.due = None

    def _write(self, held: _Row | None) -> None:
        rows = [row for row in self._unwritten.values() if row is not held]
        if rows:
            self._insert(rows)
            for row in rows:
                del self._unwritten[row.index]
        for index, (row, changed) in list(self._changed.items()):
            RunStep.objects.filter(run_id=self.run.pk, index=index).update(
                **{name: getattr(row, name) for name in changed}
            )
            del self._changed[index]

    def _insert(self, rows: list[_Row]) -> None:
        connection = connections[RunStep.objects.db]
        adapt = connection.ops.adapt_datetimefield_value
        params = [(self.run.pk, *_values(row, adapt)) for row in rows]
        try:
            with connection.cursor() as cursor:
                cursor.executemany(_insert_sql(connection), params)
        except IntegrityError:
            # An earlier insert went through though its connection failed before saying so:
            # the rows that exist are brought up to date, one by one.
            for row in rows:
                values = {name: getattr(row, name) for name in ROW_FIELDS if name != "index"}
                RunStep.objects.update_or_create(run_id=self.run.pk, index=row.index, defaults=values)


def _values(row: _Row, adapt) -> tuple:
    # In ROW_FIELDS order, as the database takes them (what the fields' own preparation does).
    return (
        row.index,
        row.name,
        adapt(row.started_at),
        row.status,
        row.duration,
        row.error,
        row.attempts,
        json.dumps(row.attempt_log),
        row.reused_from_run_id,
        row.result_exact,
    )


def _insert_sql(connection) -> str:
    # One statement for many rows (the driver sends them together): the model's own columns.
    quote = connection.ops.quote_name
    columns = [RunStep._meta.get_field(name).column for name in ("run", *ROW_FIELDS)]
    placeholders = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {quote(RunStep._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({placeholders})"
    )


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
