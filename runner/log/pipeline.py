"""The Log object, one per process: the caller's thread only enqueues; one listener thread formats
each record and hands it to the console, the rotating file and the database handler."""

import collections
import contextlib
import logging
import os
import sys
import threading
import time
from logging.handlers import RotatingFileHandler

from runner.log.db_handler import NOTICE_LOGGER, DatabaseHandler
from runner.log.formatting import MAX_MESSAGE_CHARS, LineFormatter, cut

# Records the listener takes at a time: one write per output and one hand-over to the
# database handler for each batch.
LISTENER_BATCH = 2000
_TRACEBACKS = logging.Formatter()


class _BatchOutput:
    """An output written a batch of records at a time: one write and one flush per batch."""

    def emit_batch(self, records: list[logging.LogRecord]) -> None:
        try:
            formatter = self.formatter
            if isinstance(formatter, LineFormatter):
                # Formatted once for the console and the file (kept on the pipeline's copy).
                lines = formatter.lines(records)
            else:
                lines = [self.format(record) for record in records]
            self.write_lines(lines)
        except Exception:
            # Record by record, so that each failure is reported as the standard library does.
            for record in records:
                self.handle(record)


# On a terminal: back to the start of the line and clear it (ANSI "erase in line").
CLEAR_LINE = "\r\x1b[K"


class ConsoleHandler(_BatchOutput, logging.StreamHandler):
    """Writes to whatever sys.stderr is when the records arrive (as the standard library's
    last-resort handler does), so a redirected or captured stderr is honoured.

    Its level is 0 (every record) unless a command showing its own progress raises it
    (runner.log.console_threshold); the file and wf_syslog never depend on it.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr

    def emit_batch(self, records: list[logging.LogRecord]) -> None:
        # The pipeline hands whole batches over, past Logger.callHandlers' level check.
        shown = [record for record in records if record.levelno >= self.level] if self.level else records
        if shown:
            super().emit_batch(shown)

    def write_lines(self, lines: list[str]) -> None:
        """Write the lines (without their line ends), each followed by a newline."""
        text = "\n".join(lines) + "\n"
        with self.lock:
            if _is_terminal(self.stream):
                # A progress line left open by a command (runflow's running step) is
                # replaced by the log lines instead of running into them.
                text = CLEAR_LINE + text
            self.stream.write(text)
            self.stream.flush()


def _is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return isatty is not None and isatty()


class SharedRotatingFileHandler(_BatchOutput, RotatingFileHandler):
    """A rotating file several processes append to (runflow from cron, web, workers).

    The size is checked before each record, though a batch is written at once: only a
    single record longer than the limit makes a file pass it. A process that reaches the
    limit after another one already rotated the file reopens the new file instead of
    rotating a second time.
    """

    # Readable by its owner and group only: lines may carry the data flows handle. Set when
    # a file is created (the first one, and each new one after a rotation, which renames the
    # old one with its mode); a file that already exists keeps its mode.
    FILE_MODE = 0o640

    def _open(self):
        return open(
            self.baseFilename,
            self.mode,
            encoding=self.encoding,
            errors=self.errors,
            opener=lambda path, flags: os.open(path, flags, self.FILE_MODE),
        )

    def write_text(self, text: str) -> None:
        """Write text made of whole lines, each ending with a newline."""
        self.write_lines(text.removesuffix("\n").split("\n"))

    def write_lines(self, lines: list[str]) -> None:
        """Write the lines (without their line ends), each followed by a newline."""
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        with self.lock:
            if self.stream is None:
                self.stream = self._open()
            position = self.stream.tell()
            if self.maxBytes > 0 and position + len(text) >= self.maxBytes:
                # Some line reaches the limit: line by line, to rotate before it.
                self._write_rotating(lines, position)
            else:
                self.stream.write(text)
            self.stream.flush()

    def _write_rotating(self, lines: list[str], position: int) -> None:
        first = 0
        for index, line in enumerate(lines):
            if position and position + len(line) + 1 >= self.maxBytes:
                self.stream.write("".join(f"{line}\n" for line in lines[first:index]))
                self._roll_over()
                position, first = self.stream.tell(), index
            position += len(line) + 1
        self.stream.write("".join(f"{line}\n" for line in lines[first:]))

    def _roll_over(self) -> None:
        try:
            ours = os.fstat(self.stream.fileno()).st_ino == os.stat(self.baseFilename).st_ino
        except OSError:
            ours = False
        if ours:
            self.doRollover()
        else:
            self.stream.close()
            self.stream = self._open()


class _Flush:
    __slots__ = ("db_mark", "done")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.db_mark: int | None = None


_STOP = object()


class LogPipeline(logging.Handler):
    """The single handler the "workflow" logger holds.

    In the caller's thread it only renders the message and enqueues a copy of the record
    (a bounded queue: when full the record is dropped and counted, never waited for). A
    listener thread, started lazily in whichever process logs, passes each record to the
    output handlers and then to the database handler, which never blocks it. A message, a
    traceback or a stack longer than `max_message_chars` is cut, once for all outputs.
    """

    def __init__(
        self, outputs: list[logging.Handler], *, queue_size: int, max_message_chars: int = MAX_MESSAGE_CHARS
    ) -> None:
        super().__init__()
        self.outputs = tuple(outputs)
        self.database: DatabaseHandler | None = None
        self.queue_size = queue_size
        self.max_message_chars = max_message_chars
        self._pid: int | None = None
        self._stopped = False
        # Every record this process dropped, never reset (the notices' count is): for /metrics.
        self.dropped_total = 0

    def attach_database(self, handler: DatabaseHandler) -> None:
        self.database = handler

    def handle(self, record: logging.LogRecord) -> logging.LogRecord | bool:
        # Handler.handle would take self.lock around every emit; the deque is thread-safe,
        # and emit takes the lock only on the rare paths that need it.
        if self.filters:
            return super().handle(record)
        self.emit(record)
        return record

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._stopped:
                return
            # The record already knows its process (os.getpid() costs a system call).
            if self._pid != (record.process or os.getpid()):
                self._start()
            if len(self._queue) >= self.queue_size:
                with self.lock:
                    self._dropped += 1
                    self.dropped_total += 1
                return
            if self._dropped:
                with self.lock:
                    if self._dropped:
                        self._put(self._drop_notice())
            self._queue.append(self.prepare(record))  # _put, inlined: this is every log call.
            if self._idle:
                self._idle = False
                self._wake.set()
        except Exception:
            self.handleError(record)

    def _put(self, item: object) -> None:
        self._queue.append(item)
        if self._idle:
            # Once: the listener may need a while to get the interpreter back, and every
            # record logged meanwhile would set the event again (a few microseconds each).
            self._idle = False
            self._wake.set()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # A copy, so handlers further up the hierarchy (pytest's, a site's root handler) see
        # the record untouched. The message is rendered now, while its arguments are as the
        # caller passed them, and cut now, so that the queue never holds a huge one. exc_info
        # stays for the listener to format: a traceback is fixed once raised (frames and line
        # numbers are recorded in it), so its text is the same there, and its cost (tens of
        # microseconds) stays out of the step.
        fields = record.__dict__.copy()
        fields["msg"] = cut(record.getMessage(), self.max_message_chars)
        fields["args"] = None
        copy = type(record).__new__(type(record))
        copy.__dict__ = fields
        return copy

    def drain(self, timeout: float) -> bool:
        """Wait until every record enqueued so far is written everywhere; False on timeout or
        while the database is unreachable."""
        deadline = time.monotonic() + timeout
        with self.lock:
            if self._stopped or self._pid != os.getpid():
                return True  # Nothing was logged in this process, or all of it is written.
            if self._dropped:
                self._put(self._drop_notice())
            marker = _Flush()
            self._markers += 1
            self._put(marker)
        if not marker.done.wait(timeout):
            return False
        if marker.db_mark is None:
            return True
        return self.database.wait_written(marker.db_mark, deadline - time.monotonic())

    def shutdown(self, timeout: float) -> bool:
        """Drain, then stop the listener and the database writer and close the outputs."""
        written = self.drain(timeout)
        with self.lock:
            self._stopped = True
            thread = self._thread if self._pid == os.getpid() else None
            if thread is not None:
                self._markers += 1
                self._put(_STOP)
        if thread is not None:
            thread.join(timeout)
        if self.database is not None:
            self.database.close(timeout)
        for handler in self.outputs:
            handler.close()
        self.close()
        return written

    def _start(self) -> None:
        # First record in this process: a forked child inherits the parent's queue but not
        # its thread, so it gets its own of both.
        with self.lock:
            if self._pid == os.getpid():
                return  # Another thread of this process started them first.
            self._queue: collections.deque = collections.deque()
            self._wake = threading.Event()
            self._idle = False
            self._markers = 0  # Flush markers and _STOP queued and not yet reached (under self.lock).
            self._dropped = self.dropped_total = 0
            self._thread = threading.Thread(target=self._listen, name="workflow-log-listener", daemon=True)
            self._thread.start()
            self._pid = os.getpid()

    def _drop_notice(self) -> logging.LogRecord:
        count, self._dropped = self._dropped, 0
        return logging.LogRecord(
            NOTICE_LOGGER,
            logging.WARNING,
            __file__,
            0,
            f"{count} log records dropped (queue full)",
            None,
            None,
            func="emit",
        )

    def _listen(self) -> None:
        while True:
            items = self._take()
            if not self._markers:
                # Only records: a marker is counted before it is queued.
                self._dispatch(items)
                continue
            records = []
            for item in items:
                if isinstance(item, logging.LogRecord):
                    records.append(item)
                    continue
                with self.lock:
                    self._markers -= 1
                self._dispatch(records)
                records = []
                if item is _STOP:
                    return
                self._reached(item)
            self._dispatch(records)

    def _take(self) -> list:
        """What the callers enqueued, up to LISTENER_BATCH items; waits while there is nothing."""
        queue = self._queue
        while not queue:
            # The callers set the event only while this thread says it is idle, which costs
            # them nothing the rest of the time. The queue is checked again after saying so:
            # a record appended just before must not wait for the next one.
            self._wake.clear()
            self._idle = True
            if not queue:
                self._wake.wait()
            self._idle = False
        popleft = queue.popleft
        return [popleft() for _ in range(min(len(queue), LISTENER_BATCH))]

    def _dispatch(self, records: list[logging.LogRecord]) -> None:
        if not records:
            return
        for record in records:
            if record.exc_info or record.exc_text or record.stack_info:
                self._cut_traceback(record)
        for output in (*self.outputs, self.database):
            # emit_batch reports its own failures; this thread must outlive them all.
            with contextlib.suppress(Exception):
                if output is not None:
                    output.emit_batch(records)

    def _cut_traceback(self, record: logging.LogRecord) -> None:
        # Formatted here, once, so that the console, the file and wf_syslog get the same cut
        # text (formatters use exc_text when it is set).
        with contextlib.suppress(Exception):
            if record.exc_info and not record.exc_text:
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = cut(record.exc_text, self.max_message_chars)
            if record.stack_info:
                record.stack_info = cut(record.stack_info, self.max_message_chars)

    def _reached(self, marker: _Flush) -> None:
        # The records before the marker are on the console and in the file (each batch is
        # flushed as it is written) and in the database handler's buffer.
        if self.database is not None:
            marker.db_mark = self.database.mark()
        marker.done.set()
