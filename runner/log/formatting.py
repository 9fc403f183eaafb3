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
