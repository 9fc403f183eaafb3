"""The one log line format, the same on the console, in the file and in wf_syslog, and the text a
wf_syslog row keeps."""

import logging
import re
import time

LOG_FORMAT = "%(asctime)s %(levelname)s %(module)s %(funcName)s %(message)s"
MAX_MESSAGE_CHARS = 10_000

# What could end a line or drive a terminal where the console or the file shows it: the C0
# controls but the tab, DEL, the C1 controls, and Unicode's line and paragraph separators.
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code != 0x09}
_ESCAPES.update({0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"})
_IN_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# A traceback or a stack after the line keeps its own line breaks.
_BLOCK_ESCAPES = {code: text for code, text in _ESCAPES.items() if code != 0x0A}
_IN_BLOCK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def cut(text: str, limit: int) -> str:
    """text, or its first `limit` characters and a marker saying how many more there were."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [cut {len(text) - limit:,} characters]"


def one_line(text: str) -> str:
    """text with what could end a line or drive a terminal escaped, as the log file writes it."""
    return _escaped(text, _IN_LINE, _ESCAPES)


def _escaped(text: str, found: re.Pattern, escapes: dict[int, str]) -> str:
    return text.translate(escapes) if found.search(text) else text


# Every ASCII character a line may hold as it is: the printable ones and the tab.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\t"


def _has_controls(text: str) -> bool:
    """Whether one_line() would change text. On ASCII text (the usual case, known without
    reading it) this deletes the allowed bytes in C, some five times faster than the search."""
    if text.isascii():
        return bool(text.encode().translate(None, _PLAIN_ASCII))
    return _IN_LINE.search(text) is not None


class LineFormatter(logging.Formatter):
    """`2025-12-19 08:39:02.002 DEBUG Flow execFlow start`: the framework's line format, local time.

    Control characters are escaped (a newline as `\\n`, a NUL as `\\x00`): a message cannot
    end its line and forge another. A traceback following the line keeps its line breaks.
    The console and the file share one instance and see the same record one after the
    other, so the line is built once and kept on the record (the pipeline's own copy).
    """

    default_msec_format = "%s.%03d"

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        # strftime once per second rather than once per record; one tuple, so that threads
        # sharing the formatter never pair a second with another second's text.
        second = self._second
        if second[0] != int(record.created):
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second = (int(record.created), text)
        return self.default_msec_format % (second[1], record.msecs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return _escaped(super().formatMessage(record), _IN_LINE, _ESCAPES)

    def format(self, record: logging.LogRecord) -> str:
        line = record.__dict__.get("wf_line")
        if line is None:
            if record.exc_info or record.exc_text or record.stack_info:
                line = _escaped(super().format(record), _IN_BLOCK, _BLOCK_ESCAPES)
            else:
                # Formatter.format without the parts a plain record skips: the same line.
                record.message = record.getMessage()
                record.asctime = self.formatTime(record)
                line = self.formatMessage(record)
            record.wf_line = line
        return line

    def lines(self, records: list[logging.LogRecord]) -> list[str]:
        """format() of each record, for the listener's batches: the same lines, with
        Formatter.format's calls inlined for a plain record (no traceback, no stack) and the
        escaping checked once for the batch rather than once per line. A plain record gets
        only `wf_line`, not the `message` and `asctime` that format() also leaves on it."""
        second, stamp = self._second
        lines, plain = [], []
        for record in records:
            line = record.__dict__.get("wf_line")
            if line is None:
                if record.exc_info or record.exc_text or record.stack_info:
                    line = self.format(record)
                else:
                    if int(record.created) != second:
                        self.formatTime(record)
                        second, stamp = self._second
                    millis = _MILLIS.get(record.msecs)
                    if millis is None:
                        millis = (self.default_msec_format % (stamp, record.msecs))[len(stamp) :]
                    # LOG_FORMAT's fields, in its order.
                    message = record.getMessage()
                    line = f"{stamp}{millis} {record.levelname} {record.module} {record.funcName} {message}"
                    record.wf_line = line
                    plain.append(line)
            lines.append(line)
        if plain and _has_controls("\t".join(plain)):  # A tab is allowed: no false alarm.
            for index, record in enumerate(records):
                if not (record.exc_info or record.exc_text or record.stack_info):
                    # one_line() leaves a line it already escaped as it is.
                    record.wf_line = lines[index] = one_line(lines[index])
        return lines


# default_msec_format's text of LogRecord.msecs, a whole number of milliseconds: a lookup is a
# third of the cost of the formatting.
_MILLIS = {float(n): f".{n:03d}" for n in range(1000)}


def stored_message(record: logging.LogRecord, formatter: logging.Formatter) -> str:
    """The message, then the traceback and stack when the record has them."""
    message = record.getMessage()
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    if record.exc_text:
        message = f"{message}\n{record.exc_text}"
    if record.stack_info:
        message = f"{message}\n{formatter.formatStack(record.stack_info)}"
    return message
