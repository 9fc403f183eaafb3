"""The one log line format (SPEC L-2) and the text a wf_syslog row keeps."""

import logging
import time

LOG_FORMAT = "%(asctime)s %(levelname)s %(module)s %(funcName)s %(message)s"


class LineFormatter(logging.Formatter):
    """`2025-12-19 08:39:02.002 DEBUG Flow execFlow start`: the seed's format, local time.

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

    def format(self, record: logging.LogRecord) -> str:
        line = record.__dict__.get("wf_line")
        if line is None:
            line = record.wf_line = super().format(record)
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
