"""A prune of half of 5,000,000 log lines and 200,000 runs on MariaDB/MySQL, while a writer
logs 1,000 lines a second and a reader loads /logs/.

    .venv/bin/python benchmarks/prune.py [--logs 5000000] [--runs 200000] [--rate 1000]
                                         [--batch 5000] [--writer pipeline|direct] [--keep]

Uses BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306/workflow_bench_prune), which it
drops and fills again on every run (multi-row INSERT ... SELECT, doubling the rows each
time) and drops at the end unless --keep. Line i is stamped i seconds after the start and
belongs to run i // 25 + 1 (25 lines a run, two steps each), so the cutoff in the middle
makes the older half of every table go.

runner.retention.Pruner then prunes runs and log lines older than the cutoff in this
process, while two other processes work: the writer logs --rate lines a second through the
product's log pipeline (the "workflow" logger, as a worker does; --writer direct inserts
the rows itself instead, 50 ms at a time), and the reader requests /logs/ through Django's
test Client, one request after the other. It prints the rows deleted per second, the
longest statement of the prune (any statement, its reads too), /logs/ latencies before and
during the prune, and whether every line the writer logged is in wf_syslog.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

# benchmarks/logging.py would shadow the standard library's logging module.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/workflow_bench_prune")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
os.environ.setdefault("WORKFLOW_LOG_FILE", "/tmp/workflow-bench-prune.log")
# Time the reader's page as production serves it: DEBUG off (no query log, no template debug).
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import dj_database_url
import MySQLdb

cfg = dj_database_url.parse(DATABASE_URL)
if cfg["ENGINE"] != "django.db.backends.mysql":
    sys.exit(f"benchmarks/prune.py needs MariaDB/MySQL; BENCH_DATABASE_URL is {DATABASE_URL}")

import django

django.setup()

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client

from flows.models import SysLog
from runner.models import Run, RunStep
from runner.retention import DEFAULT_BATCH, Pruner

LINES_PER_RUN = 25
STEPS_PER_RUN = 2
FLOWS = 20
CHUNK = 500_000  # rows per INSERT ... SELECT
WRITER_LOGGER = "workflow.benchwriter"


def server():
    return MySQLdb.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=int(cfg["PORT"] or 3306),
        user=cfg["USER"],
        password=cfg["PASSWORD"],
    )


def recreate_database() -> None:
    cursor = server().cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS `{cfg['NAME']}`")
    cursor.execute(f"CREATE DATABASE `{cfg['NAME']}` CHARACTER SET utf8mb4")


def drop_database() -> None:
    server().cursor().execute(f"DROP DATABASE IF EXISTS `{cfg['NAME']}`")


# Each statement copies rows (a, b] to (a + n, b + n), every column computed from the new id
# (`id + n`): the rows double until there are enough.
LOG_COPY = f"""
INSERT INTO wf_syslog (id, created_at, level, logger_name, message)
SELECT id + %(n)s, TIMESTAMPADD(SECOND, %(n)s, created_at),
  CASE WHEN MOD(id + %(n)s, 100) = 37 THEN 'ERROR' WHEN MOD(id + %(n)s, 10) < 3 THEN 'DEBUG' ELSE 'INFO' END,
  CONCAT('workflow.run.', (id + %(n)s - 1) DIV {LINES_PER_RUN} + 1),
  CONCAT('step s', MOD(id + %(n)s, 7), ' (common.Kt.prt) finished in ', MOD(id + %(n)s, 997), ' ms')
FROM wf_syslog WHERE id > %(a)s AND id <= %(b)s ORDER BY id
"""
RUN_COPY = f"""
INSERT INTO runner_run (id, flow_id, flow_name, definition, input, `trigger`, triggered_by, status,
  created_at, started_at, finished_at, error, traceback, failed_step, cancel_requested, cancel_now,
  worker, log_first_id, log_last_id)
SELECT id + %(n)s, NULL, CONCAT('flow-', MOD(id + %(n)s, {FLOWS})), definition, input, `trigger`,
  triggered_by, IF(MOD(id + %(n)s, 10) = 3, 'failed', 'succeeded'),
  TIMESTAMPADD(SECOND, %(n)s * {LINES_PER_RUN}, created_at),
  TIMESTAMPADD(SECOND, %(n)s * {LINES_PER_RUN}, started_at),
  TIMESTAMPADD(SECOND, %(n)s * {LINES_PER_RUN}, finished_at), error, traceback, failed_step, 0, 0, worker,
  log_first_id + %(n)s * {LINES_PER_RUN}, log_last_id + %(n)s * {LINES_PER_RUN}
FROM runner_run WHERE id > %(a)s AND id <= %(b)s ORDER BY id
"""
STEP_COPY = f"""
INSERT INTO runner_runstep (id, `index`, name, status, started_at, duration, error, run_id, attempt_log,
  attempts, result_exact)
SELECT id + %(n)s, 1 - MOD(id + %(n)s, 2), name, status,
  TIMESTAMPADD(SECOND, (%(n)s DIV 2) * {LINES_PER_RUN}, started_at), duration, error,
  (id + %(n)s + 1) DIV 2, attempt_log, attempts, 1
FROM runner_runstep WHERE id > %(a)s AND id <= %(b)s ORDER BY id
"""


def double(sql: str, total: int) -> None:
    n = 1
    while n < total:
        copied = min(n, total - n)
        with connection.cursor() as cursor:
            for a in range(0, copied, CHUNK):
                cursor.execute(sql, {"n": n, "a": a, "b": min(a + CHUNK, copied)})
        n += copied


def fill(logs: int, runs: int, start: datetime) -> None:
    """Line i at start + i s, of run (i - 1) // 25 + 1; run r ends with its last line."""
    began = time.perf_counter()
    stamp = start.replace(tzinfo=None)
    SysLog.objects.create(
        id=1,
        created_at=start + timedelta(seconds=1),
        level="INFO",
        logger_name="workflow.run.1",
        message="first",
    )
    double(LOG_COPY, logs)
    print(f"  {logs:,} log lines in {time.perf_counter() - began:.0f} s", flush=True)
    lap = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO runner_run (id, flow_name, definition, input, `trigger`, triggered_by, status,"
            " created_at, started_at, finished_at, error, traceback, failed_step, cancel_requested,"
            " cancel_now, worker, log_first_id, log_last_id) VALUES (1, 'flow-1', '{}', '{}', 'bench', '',"
            " 'succeeded', %s, %s, %s, '', '', '', 0, 0, 'bench:1', 1, %s)",
            [
                stamp + timedelta(seconds=1),
                stamp + timedelta(seconds=1),
                stamp + timedelta(seconds=LINES_PER_RUN),
                LINES_PER_RUN,
            ],
        )
        cursor.execute(
            "INSERT INTO runner_runstep (id, `index`, name, status, started_at, duration, error, run_id,"
            " attempt_log, attempts, result_exact)"
            " VALUES (1, 0, 's0', 'succeeded', %s, 0.5, '', 1, '[]', 1, 1)",
            [stamp + timedelta(seconds=1)],
        )
    double(RUN_COPY, runs)
    double(STEP_COPY, runs * STEPS_PER_RUN)
    print(
        f"  {runs:,} runs and {runs * STEPS_PER_RUN:,} steps in {time.perf_counter() - lap:.0f} s",
        flush=True,
    )
    with connection.cursor() as cursor:
        for table in ("wf_syslog", "runner_run", "runner_runstep"):
            cursor.execute(f"ANALYZE TABLE {table}")
            cursor.fetchall()
    print(f"filled in {time.perf_counter() - began:.0f} s\n", flush=True)


def writer(stop, ready, results, rate: int, mode: str) -> None:
    """Log `rate` lines a second until stopped; then wait until they are all written."""
    if mode == "pipeline":
        import logging  # not at the top: benchmarks/logging.py is found first until sys.path is fixed

        from runner.log import attach_database_handler, console_threshold, dropped_records, flush_logs

        attach_database_handler()
        log = logging.getLogger(WRITER_LOGGER)
        with console_threshold(logging.CRITICAL):
            sent = _pace(
                stop,
                ready,
                rate,
                lambda first, last: [log.info("writer line %s", i) for i in range(first, last)],
            )
            flushed = flush_logs(timeout=120)
        results.put(("writer", {"sent": sent, "dropped": dropped_records(), "flushed": flushed, "failed": 0}))
        return
    failed = 0

    def insert(first: int, last: int) -> None:
        nonlocal failed
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = [(now, "INFO", WRITER_LOGGER, f"writer line {i}") for i in range(first, last)]
        try:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO wf_syslog (created_at, level, logger_name, message) VALUES (%s, %s, %s, %s)",
                    rows,
                )
        except Exception as err:  # a lock wait timeout, a deadlock: counted, the writer goes on
            failed += len(rows)
            print(f"writer: {err}", file=sys.stderr)

    sent = _pace(stop, ready, rate, insert, every=0.05)
    results.put(("writer", {"sent": sent, "dropped": 0, "flushed": True, "failed": failed}))


def _pace(stop, ready, rate: int, emit, every: float = 0.01) -> int:
    ready.set()
    began, sent = time.monotonic(), 0
    while not stop.is_set():
        due = int((time.monotonic() - began) * rate)
        if due > sent:
            emit(sent, due)
            sent = due
        time.sleep(every)
    return sent


def reader(stop, ready, results) -> None:
    """Load /logs/ as the superuser, one request after the other: (start time, ms) each."""
    client = Client()
    client.force_login(User.objects.get(username="bench-admin"))
    client.get("/logs/")
    ready.set()
    times = []
    while not stop.is_set():
        began = time.time()
        response = client.get("/logs/")
        times.append((began, (time.time() - began) * 1000, response.status_code))
    results.put(("reader", times))


class Statements:
    """Every statement of the prune: (seconds, SQL)."""

    def __init__(self) -> None:
        self.timed: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timed.append((time.perf_counter() - began, sql))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else 0.0)


def latencies(label: str, times: list, since: float, until: float) -> None:
    picked = [ms for began, ms, _ in times if since <= began < until]
    if not picked:
        print(f"  {label}: no requests")
        return
    print(
        f"  {label}: {len(picked)} requests, median {statistics.median(picked):.1f} ms,"
        f" p95 {p95(picked):.1f} ms, max {max(picked):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=1000, help="log lines a second from the writer")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    parser.add_argument("--writer", choices=["pipeline", "direct"], default="pipeline")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args()

    print(f"{cfg['NAME']}: {args.logs:,} log lines, {args.runs:,} runs", flush=True)
    recreate_database()
    connection.close()
    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)
    start = (datetime.now(UTC) - timedelta(seconds=args.logs + 3600)).replace(microsecond=0)
    fill(args.logs, args.runs, start)
    cutoff = start + timedelta(seconds=args.logs // 2 + 0.5)
    User.objects.create_superuser("bench-admin", "", None)
    connection.close()  # not inherited by the other processes

    spawn = multiprocessing.get_context("spawn")
    stop, results = spawn.Event(), spawn.Queue()
    ready = [spawn.Event(), spawn.Event()]
    others = [
        spawn.Process(target=writer, args=(stop, ready[0], results, args.rate, args.writer)),
        spawn.Process(target=reader, args=(stop, ready[1], results)),
    ]
    for process in others:
        process.start()
    for event in ready:
        event.wait(120)
    time.sleep(5)  # /logs/ before the prune

    statements = Statements()
    pruner = Pruner(batch=args.batch)
    began = time.time()
    with connection.execute_wrapper(statements):
        pruner.runs(cutoff)
        runs_done = time.time()
        pruner.logs(cutoff)
    ended = time.time()
    time.sleep(3)
    stop.set()
    got = dict(results.get(timeout=300) for _ in others)
    for process in others:
        process.join()

    result = pruner.result
    elapsed = ended - began
    deleted = result.runs + result.steps + result.logs
    print(f"Pruner(batch={args.batch}), cutoff {cutoff:%Y-%m-%d %H:%M:%S} UTC:")
    print(
        f"  runs: {result.runs:,} runs and {result.steps:,} steps in {runs_done - began:.1f} s"
        f" ({(result.runs + result.steps) / max(runs_done - began, 1e-9):,.0f} rows/s)"
    )
    print(
        f"  logs: {result.logs:,} lines in {ended - runs_done:.1f} s"
        f" ({result.logs / max(ended - runs_done, 1e-9):,.0f} rows/s)"
    )
    print(f"  in all {deleted:,} rows in {elapsed:.1f} s: {deleted / elapsed:,.0f} rows deleted per second")
    slowest = max(statements.timed)
    deletes = [seconds for seconds, sql in statements.timed if sql.lstrip().upper().startswith("DELETE")]
    print(
        f"  {len(statements.timed):,} statements ({len(deletes):,} DELETE); the longest"
        f" {slowest[0] * 1000:.0f} ms: {slowest[1][:100]}...;"
        f" the longest DELETE {max(deletes) * 1000:.0f} ms,"
        f" DELETE median {statistics.median(deletes) * 1000:.0f} ms, p95 {p95(deletes) * 1000:.0f} ms"
    )
    print("/logs/ (reader, one request after the other):")
    latencies("before the prune", got["reader"], 0, began)
    latencies("during the prune", got["reader"], began, ended)
    errors = [status for _, _, status in got["reader"] if status != 200]
    print(f"  non-200 answers: {len(errors)}")
    written = SysLog.objects.filter(logger_name=WRITER_LOGGER).count()
    w = got["writer"]
    lost = w["sent"] - written
    print(
        f"writer ({args.writer}, {args.rate}/s): logged {w['sent']:,}, in wf_syslog {written:,},"
        f" lost {lost:,}"
        f" (dropped {w['dropped']}, failed inserts {w['failed']}, flushed {w['flushed']})"
    )
    remaining = (Run.objects.count(), RunStep.objects.count(), SysLog.objects.count() - written)
    print(f"left: {remaining[0]:,} runs, {remaining[1]:,} steps, {remaining[2]:,} generated log lines")
    connection.close()
    if not args.keep:
        drop_database()
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
