"""Workflow logging: one Log object writing to the console, a rotating file and wf_syslog.

In the order of a process's and a run's life:

    setup_logging()              # at start-up, before the database is needed
    attach_database_handler()    # once the database is configured
    logs = SysLog.objects.using(log_database())
    since = logs.newest_id()
    logger = run_logger(run.pk)  # the engine and the procedures log through it
    ...
    flush_logs()
    first_id, last_id = logs.id_range(run_logger_name(run.pk), since)

This package only writes wf_syslog; every read goes through SysLog.objects (flows.models).

Only the "workflow" logger hierarchy goes through the Log object; docs/logging.md has the
decisions (what reaches wf_syslog, a full queue, a database that is down).
"""

import atexit
import contextlib
import logging
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections

from runner.log.db_handler import DatabaseHandler
from runner.log.formatting import LOG_FORMAT, LineFormatter
from runner.log.pipeline import ConsoleHandler, LogPipeline, SharedRotatingFileHandler

__all__ = [
    "LOG_FORMAT",
    "attach_database_handler",
    "console_threshold",
    "dropped_records",
    "flush_logs",
    "log_database",
    "run_logger",
    "run_logger_name",
    "setup_logging",
    "shutdown_logging",
]

ROOT_LOGGER = "workflow"
RUN_LOGGER = "workflow.run"
SHUTDOWN_TIMEOUT = 10.0

_lock = threading.Lock()
_pipeline: LogPipeline | None = None
_atexit_registered = False


def setup_logging() -> None:
    """Build the Log object (console and rotating file) on the "workflow" logger, once per
    process; later calls do nothing. Its threads start in whichever process first logs."""
    global _atexit_registered
    with _lock:
        _setup()
        if not _atexit_registered:
            atexit.register(shutdown_logging)
            _atexit_registered = True


def attach_database_handler() -> None:
    """Also write the "workflow" records to wf_syslog, from now on; once per process.

    The writer connects on its own, in its own thread: if the database does not answer,
    it says so on stderr and keeps retrying, and the console and file go on regardless.
    """
    setup_logging()
    using = log_database()
    if using not in connections:
        raise ImproperlyConfigured(f"WORKFLOW_LOG_DATABASE is {using!r}, which is not in DATABASES.")
    with _lock:
        pipeline = _setup()
        if pipeline.database is None:
            pipeline.attach_database(DatabaseHandler(using=using, capacity=settings.WORKFLOW_LOG_QUEUE_SIZE))


def run_logger_name(run_id: object) -> str:
    return f"{RUN_LOGGER}.{run_id}"


class _RunLogger(logging.Logger):
    def getChild(self, suffix: str) -> logging.Logger:
        # Logger.getChild would register the child, and a placeholder for this run, with
        # the logging manager for the life of the process.
        child = _RunLogger(f"{self.name}.{suffix}")
        child.parent = self
        return child


def run_logger(run_id: object) -> logging.Logger:
    """The logger of one run, `workflow.run.<run_id>`, propagating to "workflow".

    It is not registered with the logging manager (logging.getLogger keeps every logger
    forever), so a worker that runs millions of flows keeps none of them.
    """
    logger = _RunLogger(run_logger_name(run_id))
    logger.parent = logging.getLogger(RUN_LOGGER)
    return logger


def flush_logs(timeout: float = 10.0) -> bool:
    """Block until every record logged so far is on the console, in the file and in
    wf_syslog. False at the timeout, or at once while the database is unreachable."""
    pipeline = _pipeline
    return True if pipeline is None else pipeline.drain(timeout)


@contextlib.contextmanager
def console_threshold(level: int):
    """While the block runs, the console writes only records at `level` and above; the file
    and wf_syslog still get every record at its level.

    For a command that shows its own progress on a terminal (runflow), which the per-step
    lines of the log would repeat. The level applies when the listener thread writes a record:
    flush_logs() before the block ends keeps the block's records under it.
    """
    with _lock:
        console = next(output for output in _setup().outputs if isinstance(output, ConsoleHandler))
    previous = console.level
    console.setLevel(level)
    try:
        yield
    finally:
        console.setLevel(previous)


def dropped_records() -> int:
    """The log records this process has dropped so far (a full queue or buffer)."""
    pipeline = _pipeline
    if pipeline is None:
        return 0
    return pipeline.dropped_total + (pipeline.database.dropped_total if pipeline.database else 0)


def log_database() -> str:
    """The DATABASES alias of wf_syslog: the writer's, and the one a run's id range is read from."""
    return getattr(settings, "WORKFLOW_LOG_DATABASE", DEFAULT_DB_ALIAS)


def shutdown_logging() -> None:
    """Flush, stop the threads and remove the Log object; also run at process exit."""
    global _pipeline
    with _lock:
        pipeline, _pipeline = _pipeline, None
    if pipeline is not None:
        logging.getLogger(ROOT_LOGGER).removeHandler(pipeline)
        pipeline.shutdown(SHUTDOWN_TIMEOUT)


def _setup() -> LogPipeline:
    global _pipeline
    if _pipeline is None:
        formatter = LineFormatter()
        outputs: list[logging.Handler] = [ConsoleHandler()]
        file_handler = _open_log_file()
        if file_handler is not None:
            outputs.append(file_handler)
        for handler in outputs:
            handler.setFormatter(formatter)
        _pipeline = LogPipeline(
            outputs,
            queue_size=settings.WORKFLOW_LOG_QUEUE_SIZE,
            max_message_chars=settings.WORKFLOW_LOG_MAX_MESSAGE_CHARS,
        )
        logger = logging.getLogger(ROOT_LOGGER)
        logger.setLevel(settings.WORKFLOW_LOG_LEVEL.upper())
        logger.addHandler(_pipeline)
    return _pipeline


def _open_log_file() -> logging.Handler | None:
    path = Path(settings.WORKFLOW_LOG_FILE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return SharedRotatingFileHandler(
            path,
            maxBytes=settings.WORKFLOW_LOG_MAX_BYTES,
            backupCount=settings.WORKFLOW_LOG_BACKUP_COUNT,
            encoding="utf-8",
            errors="backslashreplace",
        )
    except OSError as err:
        # A log file that cannot be opened must not stop a workflow: say why and keep the console.
        print(f"workflow logging: cannot open {path} ({err}); logging to the console only", file=sys.stderr)
        return None
