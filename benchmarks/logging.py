"""Benchmark of the workflow Log object on MariaDB/MySQL: its wf_syslog writer against a naive handler.

    DATABASE_URL=mysql://root@127.0.0.1:3306/test .venv/bin/python benchmarks/logging.py

Each run logs 100,000 INFO records through the full Log object (console to /dev/null,
rotating file in a temporary directory, wf_syslog) and times the log calls in the caller
and the whole run until the last row is in wf_syslog. In between, a naive Log object does
the same with one autocommit INSERT per record in the caller's thread, on 10,000 records
(its cost is linear; the figures are per record). The rows it writes are deleted.
"""

import os
import sys

if __name__ == "__main__":
    # Run as a script, this file's directory comes first on sys.path, and its name would
    # shadow the standard library's logging for every import below: the root goes there.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection

RECORDS = 100_000
NAIVE_RECORDS = 10_000
RUNS = 5
LOGGER = "workflow.benchmark.logging"
NAIVE_LOGGER = "benchmark.logging.naive"
INSERT = "INSERT INTO wf_syslog (created_at, level, logger_name, message) VALUES (%s, %s, %s, %s)"


class NaiveDatabaseHandler(logging.Handler):
    """What the Log object's database handler replaces: one autocommit INSERT per record,
    in the thread that logs."""

    def __init__(self, connection, created_at_field) -> None:
        super().__init__()
        self.connection = connection
        self.created_at = created_at_field

    def emit(self, record: logging.LogRecord) -> None:
        try:
            created = datetime.fromtimestamp(record.created, UTC)
            row = (self.created_at.get_db_prep_value(created, self.connection), record.levelname, record.name)
            with self.connection.cursor() as cursor:
                cursor.execute(INSERT, (*row, record.getMessage()))
        except Exception:
            self.handleError(record)


def log_records(logger: logging.Logger, count: int) -> float:
    """Seconds spent in the log calls."""
    started = time.perf_counter()
    for n in range(count):
        logger.info("benchmark record %d of %d", n, count)
    return time.perf_counter() - started


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
    django.setup()
    # The project's modules are imported where used: this file may also be imported in
    # place of logging (see the top), before the repository root is on sys.path.
    from flows.models import SysLog

    if connection.vendor != "mysql":
        print("The benchmark is for MariaDB/MySQL: set DATABASE_URL=mysql://user@host/db", file=sys.stderr)
        return 2
    call_command("create_wf_tables", verbosity=0)
    settings.DEBUG = False  # As in production: no query logging on either side.
    start_id = SysLog.objects.newest_id()
    stderr = sys.stderr
    try:
        with (
            tempfile.TemporaryDirectory(prefix="workflow-log-bench-") as log_dir,
            open(os.devnull, "w") as null,
        ):
            sys.stderr = null
            full, slow = measure(Path(log_dir))
    finally:
        sys.stderr = stderr
        SysLog.objects.filter(id__gt=start_id, logger_name__in=[LOGGER, NAIVE_LOGGER]).delete()
    report(connection.mysql_server_info, full, slow)
    return 0


def measure(log_dir: Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(records per second, seconds per log call) of each run: the Log object's, the naive's."""
    from flows.models import SysLog
    from runner.log import attach_database_handler, flush_logs, setup_logging, shutdown_logging

    settings.WORKFLOW_LOG_FILE = str(log_dir / "workflow.log")
    setup_logging()
    attach_database_handler()
    logger = logging.getLogger(LOGGER)
    naive = naive_logger(log_dir, SysLog)
    full, slow = [], []
    for _ in range(RUNS):
        since = run_start = SysLog.objects.newest_id()
        started = time.perf_counter()
        in_calls = log_records(logger, RECORDS)
        assert flush_logs(timeout=600), "the Log object did not finish writing"
        total = time.perf_counter() - started
        written = SysLog.objects.filter(id__gt=since, logger_name=LOGGER).count()
        assert written == RECORDS, f"{written} of {RECORDS} records reached wf_syslog"
        full.append((RECORDS / total, in_calls / RECORDS))

        since = SysLog.objects.newest_id()
        in_calls = log_records(naive, NAIVE_RECORDS)
        written = SysLog.objects.filter(id__gt=since, logger_name=NAIVE_LOGGER).count()
        assert written == NAIVE_RECORDS, f"{written} of {NAIVE_RECORDS} naive records reached wf_syslog"
        slow.append((NAIVE_RECORDS / in_calls, in_calls / NAIVE_RECORDS))
        SysLog.objects.filter(id__gt=run_start, logger_name__in=[LOGGER, NAIVE_LOGGER]).delete()
    shutdown_logging()
    for handler in naive.handlers:
        handler.close()
    lines = sum(len(path.read_text().splitlines()) for path in log_dir.glob("workflow.log*"))
    assert lines == RUNS * RECORDS, f"{lines} of {RUNS * RECORDS} lines reached the log file"
    return full, slow


def naive_logger(log_dir: Path, syslog) -> logging.Logger:
    from runner.log.formatting import LineFormatter

    naive = logging.getLogger(NAIVE_LOGGER)
    naive.propagate = False
    naive.setLevel(logging.INFO)
    file = RotatingFileHandler(
        log_dir / "naive.log",
        maxBytes=settings.WORKFLOW_LOG_MAX_BYTES,
        backupCount=settings.WORKFLOW_LOG_BACKUP_COUNT,
        encoding="utf-8",
    )
    database = NaiveDatabaseHandler(connection, syslog._meta.get_field("created_at"))
    for handler in (logging.StreamHandler(sys.stderr), file, database):
        handler.setFormatter(LineFormatter())
        naive.addHandler(handler)
    return naive


def report(server: str, full: list[tuple[float, float]], slow: list[tuple[float, float]]) -> None:
    print(f"Workflow logging benchmark on {server}: {RUNS} runs, INFO records, console to /dev/null")
    print(f"Log object (console, file, wf_syslog; the caller only enqueues), {RECORDS:,} records a run:")
    for n, (rate, per_call) in enumerate(full, 1):
        print(f"  run {n}: {rate:9,.0f} records/s end to end, {per_call * 1e6:6.1f} us per log call")
    print(f"Naive (console, file, an autocommit INSERT per record by the caller), {NAIVE_RECORDS:,} a run:")
    for n, (rate, per_call) in enumerate(slow, 1):
        print(f"  run {n}: {rate:9,.0f} records/s end to end, {per_call * 1e6:6.1f} us per log call")
    rate, per_call = (statistics.median(values) for values in zip(*full, strict=True))
    naive_rate, naive_per_call = (statistics.median(values) for values in zip(*slow, strict=True))
    print(f"Medians: Log object {rate:,.0f} records/s and {per_call * 1e6:.1f} us per call;")
    print(f"         naive      {naive_rate:,.0f} records/s and {naive_per_call * 1e6:.1f} us per call")
    speedup = rate / naive_rate
    print(f"Throughput: {speedup:.1f}x the naive handler (target >= 10x): {verdict(speedup >= 10)}")
    print(f"Per log call: {per_call * 1e6:.1f} us (target < 30 us): {verdict(per_call < 30e-6)}")
    print(f"Every record arrived: {RUNS * RECORDS:,} + {RUNS * NAIVE_RECORDS:,} rows counted, then deleted.")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
