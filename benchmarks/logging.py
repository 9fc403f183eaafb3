"""Benchmark of the workflow Log object: its wf_syslog writer against a naive handler.

    .venv/bin/python benchmarks/logging.py [--load] [--sqlite] [--runs 5]

Uses MariaDB/MySQL (BENCH_DATABASE_URL, default mysql://root@127.0.0.1:3306/workflow_bench,
created when missing), or with --sqlite a temporary SQLite file. Each run logs 100,000 INFO
records through the full Log object (console to /dev/null, rotating file in a temporary
directory, wf_syslog) and times the log calls in the caller and the whole run until the last
row is in wf_syslog. Then, in the same run, a naive Log object does the same with one
autocommit INSERT per record in the caller's thread, on 5,000 records (its cost is linear; the
figures are per record). It prints records per second end to end, the ratio of the two, the
time per log call in the caller and the records lost (counted in wf_syslog and in the file).
With --load a second process spins on the CPU during the whole measurement. The rows it
writes are deleted after each run; on MariaDB/MySQL the next run starts once InnoDB has purged
them (at most PURGE_WAIT seconds, not measured), so that one run's clean-up does not load the
server during the next.
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if __name__ == "__main__":
    # Run as a script, this file's directory comes first on sys.path, and its name would
    # shadow the standard library's logging for every import below: the root goes there.
    sys.path[0] = ROOT

import logging
import statistics
import time
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connection

RECORDS = 100_000
NAIVE_RECORDS = 5_000
RUNS = 5
MYSQL_DEFAULT = "mysql://root@127.0.0.1:3306/workflow_bench"
LOGGER = "workflow.benchmark.logging"
NAIVE_LOGGER = "benchmark.logging.naive"
INSERT = "INSERT INTO wf_syslog (created_at, level, logger_name, message) VALUES (%s, %s, %s, %s)"
# Targets (issue "Scale"), each against the naive handler measured in the same run.
TARGET_RATE = 50_000
TARGET_RATIO = 20
TARGET_PER_CALL = 20e-6
PURGE_WAIT = 30.0


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
    parser = argparse.ArgumentParser()
    parser.add_argument("--load", action="store_true", help="a second process spins on the CPU meanwhile")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of MySQL")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workflow-log-bench-") as scratch:
        url = f"sqlite:///{scratch}/bench.sqlite3" if args.sqlite else None
        os.environ["DATABASE_URL"] = url or os.environ.get("BENCH_DATABASE_URL") or MYSQL_DEFAULT
        return bench(Path(scratch), args.runs, args.load)


def bench(scratch: Path, runs: int, load: bool) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
    if os.environ["DATABASE_URL"].startswith("mysql"):
        create_mysql_database(os.environ["DATABASE_URL"])
    django.setup()
    # The project's modules are imported where used: this file may also be imported in
    # place of logging (see the top), before the repository root is on sys.path.
    from flows.models import SysLog

    call_command("create_wf_tables", verbosity=0)
    settings.DEBUG = False  # As in production: no query logging on either side.
    start_id = SysLog.objects.newest_id()
    stderr = sys.stderr
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load else None
    try:
        with open(os.devnull, "w") as null:
            sys.stderr = null
            full, slow, lost = measure(scratch, runs)
    finally:
        sys.stderr = stderr
        if spinner is not None:
            spinner.kill()
            spinner.wait()
        SysLog.objects.filter(id__gt=start_id, logger_name__in=[LOGGER, NAIVE_LOGGER]).delete()
    if connection.vendor == "mysql":
        server = f"MariaDB/MySQL {connection.mysql_server_info}"
    else:
        server = f"SQLite {connection.Database.sqlite_version}"
    report(server, load, full, slow, lost)
    return 0 if lost == 0 else 1


def create_mysql_database(url: str) -> None:
    import dj_database_url
    import MySQLdb

    cfg = dj_database_url.parse(url)
    MySQLdb.connect(
        host=cfg["HOST"], port=int(cfg["PORT"] or 3306), user=cfg["USER"], password=cfg["PASSWORD"]
    ).cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{cfg['NAME']}` CHARACTER SET utf8mb4")


Figures = list[tuple[float, float]]  # (records per second, seconds per log call) of each run


def measure(scratch: Path, runs: int) -> tuple[Figures, Figures, int]:
    """The Log object's figures, the naive handler's, and the records that went missing
    (from wf_syslog or from the file, whichever misses more)."""
    from flows.models import SysLog
    from runner.log import attach_database_handler, flush_logs, setup_logging, shutdown_logging

    settings.WORKFLOW_LOG_FILE = str(scratch / "workflow.log")
    setup_logging()
    attach_database_handler()
    logger = logging.getLogger(LOGGER)
    naive = naive_logger(scratch, SysLog)
    full, slow, lost = [], [], 0
    for _ in range(runs):
        since = run_start = SysLog.objects.newest_id()
        started = time.perf_counter()
        in_calls = log_records(logger, RECORDS)
        flush_logs(timeout=600)
        total = time.perf_counter() - started
        lost += RECORDS - SysLog.objects.filter(id__gt=since, logger_name=LOGGER).count()
        full.append((RECORDS / total, in_calls / RECORDS))

        since = SysLog.objects.newest_id()
        in_calls = log_records(naive, NAIVE_RECORDS)
        written = SysLog.objects.filter(id__gt=since, logger_name=NAIVE_LOGGER).count()
        assert written == NAIVE_RECORDS, f"{written} of {NAIVE_RECORDS} naive records reached wf_syslog"
        slow.append((NAIVE_RECORDS / in_calls, in_calls / NAIVE_RECORDS))
        history = history_length()
        SysLog.objects.filter(id__gt=run_start, logger_name__in=[LOGGER, NAIVE_LOGGER]).delete()
        wait_for_purge(history)
    shutdown_logging()
    for handler in naive.handlers:
        handler.close()
    lines = sum(len(path.read_text().splitlines()) for path in scratch.glob("workflow.log*"))
    return full, slow, max(lost, runs * RECORDS - lines)


def history_length() -> int | None:
    """MariaDB/MySQL: the length of InnoDB's history list (the transactions whose deleted rows
    the purge has yet to remove); None elsewhere, or when it cannot be read."""
    if connection.vendor != "mysql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT `COUNT` FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'"
            )
            row = cursor.fetchone()
    except Exception:
        return None
    return None if row is None else row[0]


def wait_for_purge(before: int | None) -> None:
    """Wait (at most PURGE_WAIT seconds) until the history list is back to its length `before`
    a deletion: the purge of 100,000 deleted rows takes the server a second or two of CPU,
    which would otherwise fall on the next run."""
    deadline = time.monotonic() + PURGE_WAIT
    while before is not None and time.monotonic() < deadline:
        length = history_length()
        if length is None or length <= before:
            return
        time.sleep(0.1)


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


def report(server: str, load: bool, full: Figures, slow: Figures, lost: int) -> None:
    machine = "a second process spinning on the CPU" if load else "no added load"
    print(f"Workflow logging benchmark on {server}, {len(full)} runs, console to /dev/null, {machine}")
    print(f"Log object (console, file, wf_syslog; the caller only enqueues), {RECORDS:,} records a run:")
    for n, (rate, per_call) in enumerate(full, 1):
        print(f"  run {n}: {rate:9,.0f} records/s end to end, {per_call * 1e6:6.1f} us per log call")
    print(f"Naive (console, file, an autocommit INSERT per record by the caller), {NAIVE_RECORDS:,} a run:")
    for n, (rate, per_call) in enumerate(slow, 1):
        print(f"  run {n}: {rate:9,.0f} records/s end to end, {per_call * 1e6:6.1f} us per log call")
    rate, per_call = (statistics.median(values) for values in zip(*full, strict=True))
    naive_rate, naive_per_call = (statistics.median(values) for values in zip(*slow, strict=True))
    # Each run's ratio is taken against the naive handler of the same run (same load).
    ratio = statistics.median(run[0] / naive[0] for run, naive in zip(full, slow, strict=True))
    print(f"Medians: Log object {rate:,.0f} records/s and {per_call * 1e6:.1f} us per call;")
    print(f"         naive      {naive_rate:,.0f} records/s and {naive_per_call * 1e6:.1f} us per call")
    print(f"End to end: {rate:,.0f} records/s (target >= {TARGET_RATE:,}): {verdict(rate >= TARGET_RATE)}")
    met = ratio >= TARGET_RATIO
    print(f"Throughput: {ratio:.1f}x the naive handler (target >= {TARGET_RATIO}x): {verdict(met)}")
    met = per_call <= TARGET_PER_CALL
    print(f"Per log call: {per_call * 1e6:.1f} us (target <= {TARGET_PER_CALL * 1e6:.0f} us): {verdict(met)}")
    print(f"Records lost: {lost} of {len(full) * RECORDS:,} (target 0): {verdict(lost == 0)}")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
