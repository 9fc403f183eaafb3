"""The wf_syslog handler: a bounded buffer and a writer thread with its own connection."""

import contextlib
import contextvars
import logging
import os
import sys
import threading
import time
from datetime import datetime

from django.conf import settings
from django.db import connections, transaction

from flows.models import SysLog
from runner.log.formatting import LineFormatter, stored_message

NOTICE_LOGGER = "workflow.log"
# Rows per transaction: enough to make a commit's cost small per row, few enough that
# building them (a few milliseconds) does not hold the interpreter long from the callers.
BATCH_SIZE = 5000
# A multi-row INSERT is cut at about this size: far below max_allowed_packet (4 MB on older
# servers), yet few statements per batch. A longer single row goes alone.
STATEMENT_BYTES = 1 << 20
RETRY_FIRST = 0.25  # seconds; doubled after each failed attempt, up to RETRY_MAX
RETRY_MAX = 30.0
# MEDIUMTEXT holds 16 MB; a message longer than this keeps its head and its tail.
MESSAGE_LIMIT = 1_000_000

Row = tuple[float, str, str, str]  # created (epoch seconds), level, logger name, message


def _notice(message: str) -> Row:
    return (time.time(), "WARNING", NOTICE_LOGGER, message)


class _Rows:
    """Rows as four columns: created (epoch seconds), level, logger name, message. Iterating
    gives each row as a Row.

    A buffered row is no object of its own. As tuples, the rows counted towards the garbage
    collector's next young collection when the listener made them, but mostly not when the
    writer freed them, 5,000 at a time (the count stops at zero): they set off about half of
    the collections (some 70 per 100,000 records, 35 without them), each of which also
    visits the records waiting for the listener.
    """

    __slots__ = ("created", "levels", "messages", "names")

    def __init__(
        self,
        created: list[float] | None = None,
        levels: list[str] | None = None,
        names: list[str] | None = None,
        messages: list[str] | None = None,
    ) -> None:
        self.created = created if created is not None else []
        self.levels = levels if levels is not None else []
        self.names = names if names is not None else []
        self.messages = messages if messages is not None else []

    @classmethod
    def of(cls, rows) -> "_Rows":
        rows = list(rows)
        return cls(
            [row[0] for row in rows],
            [row[1] for row in rows],
            [row[2] for row in rows],
            [row[3] for row in rows],
        )

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self):
        return zip(self.created, self.levels, self.names, self.messages, strict=True)

    def __add__(self, rows) -> "_Rows":
        more = rows if isinstance(rows, _Rows) else _Rows.of(rows)
        return _Rows(
            self.created + more.created,
            self.levels + more.levels,
            self.names + more.names,
            self.messages + more.messages,
        )

    def head(self, count: int) -> "_Rows":
        return _Rows(self.created[:count], self.levels[:count], self.names[:count], self.messages[:count])

    def extend(self, rows: "_Rows") -> None:
        self.created += rows.created
        self.levels += rows.levels
        self.names += rows.names
        self.messages += rows.messages

    def drop_head(self, count: int) -> None:
        del self.created[:count], self.levels[:count], self.names[:count], self.messages[:count]


def _describe(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _storable(message: str) -> bytes:
    """The message as UTF-8, its head and tail only when it is over MESSAGE_LIMIT."""
    if len(message) > MESSAGE_LIMIT:
        half = MESSAGE_LIMIT // 2
        cut = len(message) - 2 * half
        message = f"{message[:half]}\n[... {cut} characters cut ...]\n{message[-half:]}"
    try:
        return message.encode()
    except UnicodeEncodeError:
        # Lone surrogates (bytes decoded with surrogateescape) cannot be sent to the database.
        return message.encode(errors="backslashreplace")


def _storable_all(messages: list[str]) -> list[bytes]:
    """_storable() of each message; checked for the whole batch, in C, and message by
    message only when one of them needs it."""
    if max(map(len, messages), default=0) <= MESSAGE_LIMIT:
        with contextlib.suppress(UnicodeEncodeError):
            return [message.encode() for message in messages]
    return [_storable(message) for message in messages]


def _storable_texts(messages: list[str]) -> list[str]:
    """The text of _storable() of each message, the messages themselves when none needs a
    change (as usual: that is one check of the whole batch, in C)."""
    if max(map(len, messages), default=0) <= MESSAGE_LIMIT:
        text = "".join(messages)
        if text.isascii():  # Known without reading the text.
            return messages
        with contextlib.suppress(UnicodeEncodeError):
            text.encode()
            return messages
    return [_storable(message).decode() for message in messages]


def _second_and_micro(created: float) -> tuple[int, int]:
    """datetime.fromtimestamp's split of a time: its second, and its microseconds rounded half
    to even (a fraction that rounds up to a whole second moves to the next second)."""
    second = int(created)
    micro = round((created - second) * 1e6)
    if micro >= 1_000_000:
        return second + 1, micro - 1_000_000
    return second, micro


class _Seconds(dict):
    """created_at's text for each second of a time, computed on first use."""

    def __init__(self, text) -> None:
        super().__init__()
        self._text = text

    def __missing__(self, second: int):
        if len(self) > 1000:
            self.clear()
        text = self[second] = self._text(second)
        return text


class _Columns(dict):
    """The level and logger name of a row as an SQL fragment, once per (level, name)."""

    def __init__(self, literal) -> None:
        super().__init__()
        self._literal = literal

    def __missing__(self, key: tuple[str, str]) -> bytes:
        if len(self) > 10_000:  # Run loggers' names come and go.
            self.clear()
        level, name = key
        literal = self._literal
        text = self[key] = b"%s,%s" % (
            literal(level[:16].encode()),
            literal(name[:255].encode(errors="backslashreplace")),
        )
        return text


class _Values:
    """What the database takes for the rows, with the costly parts done once per second of
    created_at and once per level and logger name rather than once per row, and the rest
    of a row's work in one comprehension over the batch (the writer holds the interpreter,
    which the callers need, while it builds them)."""

    def __init__(self, connection) -> None:
        self._tz = connection.timezone if settings.USE_TZ else None
        self._adapt = connection.ops.adapt_datetimefield_value
        self._seconds = _Seconds(self._second_text)
        self._second_bytes = _Seconds(lambda second: self._seconds[second].encode())
        self._columns: _Columns | None = None

    def _second_text(self, second: int) -> str:
        # Both backends (MySQL, SQLite) take datetimes as text, as DateTimeField.get_db_prep_value
        # makes them: naive, in the connection's time zone.
        return self._adapt(datetime.fromtimestamp(second, self._tz).replace(tzinfo=None))

    def created_at(self, created: float) -> str:
        """What DateTimeField.get_db_prep_value makes of the time: datetime.fromtimestamp's
        rounding, the date and time text once per second."""
        second, micro = _second_and_micro(created)
        return f"{self._seconds[second]}.{micro:06d}"

    def params(self, rows: _Rows):
        """The rows' values for executemany(): an iterator of tuples (which zip reuses, when
        executemany lets go of each before the next)."""
        seconds = self._seconds
        stamps = [
            f"{seconds[second]}.{micro:06d}"
            for created in rows.created
            for second, micro in (_second_and_micro(created),)
        ]
        levels = [level[:16] for level in rows.levels]
        names = [name[:255] for name in rows.names]
        return zip(stamps, levels, names, _storable_texts(rows.messages), strict=True)

    def mysql_statements(self, db, sql: str, rows: _Rows):
        """`sql` with its VALUES filled by the rows, as statements of about STATEMENT_BYTES."""
        literal = db.string_literal
        if self._columns is None:
            self._columns = _Columns(literal)
        columns, seconds = self._columns, self._second_bytes
        values = [
            b"('%s.%06d',%s,%s)" % (seconds[second], micro, columns[level, name], literal(message))
            for created, level, name, message in zip(
                rows.created, rows.levels, rows.names, _storable_all(rows.messages), strict=True
            )
            for second, micro in (_second_and_micro(created),)
        ]
        head = sql.partition(" VALUES ")[0].encode() + b" VALUES "
        if sum(map(len, values)) + len(values) <= STATEMENT_BYTES:
            yield head + b",".join(values)
            return
        chunk, size = [], 0
        for value in values:
            if chunk and size + len(value) > STATEMENT_BYTES:
                yield head + b",".join(chunk)
                chunk, size = [], 0
            chunk.append(value)
            size += len(value) + 1
        if chunk:
            yield head + b",".join(chunk)


def _database_layer(logger_name: str) -> bool:
    return logger_name == "django.db" or logger_name.startswith("django.db.")


def _say(line: str) -> None:
    with contextlib.suppress(Exception):  # No stderr left to complain to.
        print(f"workflow logging: {line}", file=sys.stderr, flush=True)


class DatabaseHandler(logging.Handler):
    """Buffers rows (at most `capacity`) for a writer thread that inserts them in batches,
    each batch one transaction on the writer's own connection to `using`.

    emit never waits for the database: a full buffer drops the record and counts it, and
    the count is written later as one WARNING row. When the database does not answer, the
    writer says so once on stderr, keeps the buffered rows and retries with a bounded
    backoff; on success it writes them and says it resumed.
    """

    def __init__(self, *, using: str = "default", capacity: int = 100_000) -> None:
        super().__init__()
        self.using = using
        self.capacity = capacity
        self.setFormatter(LineFormatter())
        self._pid: int | None = None
        self._writer_ident: int | None = None
        self._stopped = False
        # Every row this process dropped, never reset (the notices' count is): for /metrics.
        self.dropped_total = 0

    def filter(self, record: logging.LogRecord) -> bool:
        # The database layer's own records, and anything logged while writing, would feed
        # back into the writer.
        if _database_layer(record.name):
            return False
        if self._writer_ident is not None and record.thread == self._writer_ident:
            return False
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        self.emit_batch([record])

    def emit_batch(self, records: list[logging.LogRecord]) -> None:
        """Buffer the rows of these records; called from one thread (the listener)."""
        try:
            if self._stopped:
                return
            if self._pid != os.getpid():
                self._start()
            if self.filters:
                records = [record for record in records if self.filter(record)]
            # self.filter() inlined, and stored_message() for the records that have more
            # than their message: this runs for every record, on the listener's thread.
            writer, formatter = self._writer_ident, self.formatter
            records = [
                record
                for record in records
                if record.thread != writer
                if not record.name.startswith("django.db") or not _database_layer(record.name)
            ]
            rows = _Rows(
                [record.created for record in records],
                [record.levelname for record in records],
                [record.name for record in records],
                [
                    stored_message(record, formatter)
                    if record.exc_info or record.exc_text or record.stack_info
                    else record.getMessage()
                    for record in records
                ],
            )
            with self._lock:
                room = max(self.capacity - len(self._buffer), 0)
                if len(rows) > room:
                    self._dropped += len(rows) - room
                    self.dropped_total += len(rows) - room
                    rows = rows.head(room)
                was_empty = not self._buffer
                self._buffer.extend(rows)
                self._enqueued += len(rows)
                if was_empty and rows:
                    self._rows_ready.notify()
        except Exception:
            self.handleError(records[0])

    def mark(self) -> int | None:
        """A position to wait_written() for: every row buffered so far. None when this
        process has buffered nothing."""
        if self._pid != os.getpid():
            return None
        with self._lock:
            return self._enqueued

    def wait_written(self, mark: int, timeout: float) -> bool:
        """True once the rows up to `mark` are written; False at the timeout, or at once
        while the database is unreachable."""
        with self._lock:
            self._progress.wait_for(
                lambda: self._done >= mark or self._down_since is not None, max(timeout, 0)
            )
            return self._done >= mark

    def wait_writing(self, timeout: float) -> bool:
        """True once the database takes rows again (at once if it never stopped)."""
        with self._lock:
            return self._progress.wait_for(lambda: self._down_since is None, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is buffered (one last attempt if the database is down), then stop."""
        self._stopped = True
        if self._pid == os.getpid():
            with self._lock:
                self._stopping = True
                self._rows_ready.notify_all()
            self._thread.join(timeout)
            self._pid = None
        super().close()

    def _start(self) -> None:
        # First record in this process (a forked child inherits the parent's buffer and
        # locks, possibly held, but not its writer): start afresh.
        self._lock = threading.Lock()
        self._rows_ready = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._buffer = _Rows()  # Its head is the batch being written.
        self._enqueued = self._done = self._dropped = self.dropped_total = 0
        self._down_since: float | None = None
        self._stopping = False
        self._values: _Values | None = None
        # A fresh context: Django keeps connections per thread and per context, and the
        # writer must never share the caller's connection (nor its transaction).
        self._thread = threading.Thread(
            target=contextvars.Context().run,
            args=(self._write_loop,),
            name="workflow-log-writer",
            daemon=True,
        )
        self._thread.start()
        self._writer_ident = self._thread.ident
        self._pid = os.getpid()

    def _write_loop(self) -> None:
        self._sql = (
            f"INSERT INTO {SysLog._meta.db_table} (created_at, level, logger_name, message) "
            "VALUES (%s, %s, %s, %s)"
        )
        retry_in = RETRY_FIRST
        try:
            while True:
                rows, dropped, stopping = self._next_batch()
                notices = [_notice(f"{dropped} log records dropped (queue full)")] if dropped else []
                if self._down_since is not None:
                    notices.append(_notice(self._outage_notice()))
                if not rows and not notices:
                    return
                error = self._insert(rows + notices)
                if error is None:
                    self._written(len(rows))
                    retry_in = RETRY_FIRST
                    continue
                with self._lock:
                    self._dropped += dropped
                self._went_down(error)
                if stopping:
                    self._abandon()
                    return
                with self._lock:
                    if not self._stopping:
                        self._rows_ready.wait(retry_in)
                retry_in = min(retry_in * 2, RETRY_MAX)
        finally:
            self._disconnect()

    def _next_batch(self) -> tuple[_Rows, int, bool]:
        with self._lock:
            while not (self._buffer or self._dropped or self._stopping):
                self._rows_ready.wait()
            rows = self._buffer.head(BATCH_SIZE)
            dropped, self._dropped = self._dropped, 0
            return rows, dropped, self._stopping

    def _insert(self, rows: _Rows) -> BaseException | None:
        """Write the rows; the error when the database takes no row at all."""
        try:
            self._execute(rows)
            return None
        except Exception as err:
            error = err
        self._disconnect()
        try:
            # A plain row, rolled back: does the database take any row at the moment?
            self._execute([_notice("probe")], probe=True)
        except Exception:
            self._disconnect()
            return error
        try:
            # It does, on a fresh connection (the server may have closed an idle one).
            self._execute(rows)
            return None
        except Exception as err:
            error = err
        # Some rows themselves are refused (a legacy column too short, say): write the
        # others one by one and report the count, rather than retry them forever.
        refused = 0
        for row in rows:
            try:
                self._execute([row])
            except Exception:
                refused += 1
        message = f"{refused} log records could not be written to wf_syslog ({_describe(error)})"
        _say(message)
        with contextlib.suppress(Exception):
            self._execute([_notice(message)])
        return None

    def _execute(self, rows, *, probe: bool = False) -> None:
        """Insert the rows (a _Rows, or Row tuples) in one transaction."""
        if not isinstance(rows, _Rows):
            rows = _Rows.of(rows)
        connection = connections[self.using]
        with transaction.atomic(using=self.using), connection.cursor() as cursor:
            if self._values is None:
                self._values = _Values(connection)
            if connection.vendor == "mysql":
                # One multi-row INSERT per STATEMENT_BYTES, built here: executemany would
                # quote each of the four values of every row in Python.
                for statement in self._values.mysql_statements(connection.connection, self._sql, rows):
                    cursor.execute(statement)
            else:
                # On the DB-API connection (the same transaction): Django's executemany keeps
                # every row's parameters at once (itertools.tee), as many objects to count.
                connection.connection.executemany(self._sql.replace("%s", "?"), self._values.params(rows))
            transaction.set_rollback(probe, using=self.using)

    def _disconnect(self) -> None:
        # Broken or gone already, maybe; either way the next attempt opens a new connection.
        self._values = None
        with contextlib.suppress(Exception):
            connections[self.using].close()

    def _written(self, count: int) -> None:
        with self._lock:
            self._buffer.drop_head(count)
            self._done += count
            resumed = self._down_since is not None
            self._down_since = None
            self._progress.notify_all()
        if resumed:
            _say("writing to wf_syslog again; the records kept meanwhile are written")

    def _went_down(self, error: BaseException) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = time.time()
                self._down_error = _describe(error)
            self._progress.notify_all()
        if first:
            _say(
                f"cannot write to wf_syslog ({self._down_error}); logging to console and file only, "
                f"keeping up to {self.capacity} records to write when the database answers"
            )

    def _outage_notice(self) -> str:
        return (
            f"wf_syslog was unreachable for {time.time() - self._down_since:.1f} s ({self._down_error}); "
            "the records logged meanwhile were kept and written late"
        )

    def _abandon(self) -> None:
        with self._lock:
            lost = len(self._buffer)
            self._buffer = _Rows()
            self._done += lost
            self._progress.notify_all()
        if lost:
            _say(f"{lost} records could not be written to wf_syslog before stopping; the log file has them")
