"""Recorded runs against the engine alone: what a run's records and logs cost per step and per run.

    .venv/bin/python benchmarks/runs.py [--repeats 3] [--steps 1,100,10000]

Without BENCH_DATABASE_URL it measures SQLite (a temporary file) and then MariaDB/MySQL
(mysql://root@127.0.0.1:3306/workflow_bench, created when missing), each in a process of its
own; with it, that database only. The flow: N steps of common.Kt prt, each taking the previous
step's msg ("@s<i-1>.msg"), at the default log level (settings.WORKFLOW_LOG_LEVEL).

For each N it prints the median of --repeats runs of:
- recorded: services.create_run + services.execute_run in this process (the child process,
  step rows, log lines on the console, in the file and in wf_syslog, the outcome);
- engine: runner.engine.run_flow on the same definition in this process, no listeners, its
  logger disabled (the baseline, measured in the same run);
- the ratio, the recorded cost per step beyond the engine, this thread's queries (count,
  and milliseconds spent in them, create_run's included) and the milliseconds spent in the
  queries of every thread (the log writer's and the heartbeat's too);
- for the largest N, `manage.py runflow` as a subprocess, end to end, and `runflow --check`
  of the same flow (start-up and validation only) for comparison.
The per-run fixed cost is the 1-step recorded run minus the 1-step engine run, end to end
(the child process's fork and life included) and in the database (every thread's queries).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Run as a script, this directory comes first on sys.path, where benchmarks/logging.py
# would shadow the standard library's logging: the repository root goes there instead.
sys.path[0] = ROOT

MYSQL_DEFAULT = "mysql://root@127.0.0.1:3306/workflow_bench"
FLOW_PREFIX = "bench-runs-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", default="1,100,10000", help="comma-separated step counts")
    parser.add_argument("--database", help=argparse.SUPPRESS)  # one database, in this process
    args = parser.parse_args()
    if args.database:
        measure(args.database, [int(n) for n in args.steps.split(",")], args.repeats)
        return
    urls = [os.environ["BENCH_DATABASE_URL"]] if os.environ.get("BENCH_DATABASE_URL") else None
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as scratch:
        for url in urls or [f"sqlite:///{scratch}/bench.sqlite3", MYSQL_DEFAULT]:
            command = [sys.executable, __file__, "--database", url, "--repeats", str(args.repeats)]
            subprocess.run([*command, "--steps", args.steps], cwd=ROOT, check=True)


def measure(url: str, sizes: list[int], repeats: int) -> None:
    scratch = tempfile.mkdtemp(prefix="bench-runs-")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
    os.environ["WORKFLOW_LOG_FILE"] = os.path.join(scratch, "workflow.log")
    if url.startswith("mysql"):
        create_mysql_database(url)

    from django.db.backends.signals import connection_created

    # Every connection, whichever thread opens it (this one, the log writer's, the
    # heartbeat's): the run's whole time in the database, not only this thread's share.
    def time_queries(sender, connection, **kwargs) -> None:
        connection.execute_wrappers.append(EVERYWHERE)

    connection_created.connect(time_queries, weak=False)

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)
    mysql = connection.vendor == "mysql"
    version = connection.mysql_server_info if mysql else connection.Database.sqlite_version
    print(
        f"recorded runs on {connection.vendor} {version}: median of {repeats}, "
        f"log level {settings.WORKFLOW_LOG_LEVEL}, console and log file in a temporary directory",
        flush=True,
    )
    header = ("N", "recorded s", "engine s", "ratio", "us/step", "queries", "query ms", "all threads")
    print("{:>7} {:>11} {:>10} {:>7} {:>9} {:>8} {:>9} {:>12}".format(*header), flush=True)
    fixed = None
    for n in sizes:
        flow = bench_flow(n)
        recorded_run(flow, n, scratch)  # a warm-up: the first run of a size loads its procedures
        recorded = [recorded_run(flow, n, scratch) for _ in range(repeats)]
        seconds = statistics.median(elapsed for elapsed, *_ in recorded)
        queries = statistics.median(count for _, count, _, _ in recorded)
        in_queries = statistics.median(spent for _, _, spent, _ in recorded)
        everywhere = statistics.median(spent for *_, spent in recorded)
        engine = statistics.median(engine_run(flow) for _ in range(repeats))
        per_step = (seconds - engine) / n * 1e6
        ratio = seconds / engine
        print(
            f"{n:>7,} {seconds:>11.4f} {engine:>10.4f} {ratio:>7.0f} {per_step:>9.1f} {queries:>8.0f}"
            f" {in_queries * 1000:>9.2f} {everywhere * 1000:>12.2f}",
            flush=True,
        )
        if n == 1:
            fixed = (seconds - engine, in_queries, everywhere)
    if fixed is not None:
        print(
            "per-run fixed cost (1-step recorded run minus the engine): "
            f"{fixed[0] * 1000:.1f} ms end to end; "
            f"in the database {fixed[2] * 1000:.2f} ms (every thread's queries), "
            f"{fixed[1] * 1000:.2f} ms of them in this thread's"
        )
    largest = max(sizes)
    flow = bench_flow(largest)
    check = statistics.median(runflow(flow, scratch, "--check") for _ in range(repeats))
    full = statistics.median(runflow(flow, scratch) for _ in range(repeats))
    print(
        f"manage.py runflow, {largest:,} steps, end to end: {full:.3f} s "
        f"(runflow --check, start-up and validation only: {check:.3f} s)",
        flush=True,
    )
    shutil.rmtree(scratch, ignore_errors=True)


def create_mysql_database(url: str) -> None:
    import dj_database_url
    import MySQLdb

    cfg = dj_database_url.parse(url)
    MySQLdb.connect(
        host=cfg["HOST"], port=int(cfg["PORT"] or 3306), user=cfg["USER"], password=cfg["PASSWORD"]
    ).cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{cfg['NAME']}` CHARACTER SET utf8mb4")


def bench_flow(n: int):
    import json

    from flows.models import Flow

    steps = [{"name": "s0", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}}]
    steps += [
        {"name": f"s{i}", "mod": "common.Kt", "method": "prt", "params": {"msg": f"@s{i - 1}.msg"}}
        for i in range(1, n)
    ]
    flow, _ = Flow.all_objects.update_or_create(
        flow_name=f"{FLOW_PREFIX}{n}",
        defaults={"flow_json": json.dumps({"procedures": steps}), "enabled": True, "deleted": False},
    )
    return flow


def recorded_run(flow, n: int, scratch: str) -> tuple[float, int, float]:
    from django.db import connection

    from runner import services
    from runner.models import Run

    Run.objects.filter(flow_name=flow.flow_name).delete()
    queries = QueryTimer()
    with console_to(os.path.join(scratch, "console.log")), connection.execute_wrapper(queries):
        EVERYWHERE.reset()
        start = time.perf_counter()
        run = services.create_run(flow, input={}, trigger="bench", triggered_by="bench")
        run = services.execute_run(run.pk)
        elapsed = time.perf_counter() - start
    everywhere = EVERYWHERE.seconds  # execute_run returns after the run's log lines are written
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.steps.filter(status="succeeded").count() == n, "a step row is missing"
    return elapsed, queries.count, queries.seconds, everywhere


class QueryTimer:
    """This thread's queries and the time spent in them (the log writer and the heartbeat
    have connections of their own)."""

    def __init__(self) -> None:
        self.count, self.seconds = 0, 0.0
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with self.lock:
                self.count += 1
                self.seconds += time.perf_counter() - start


EVERYWHERE = QueryTimer()


def engine_run(flow) -> float:
    import logging

    from django.conf import settings

    from runner import engine

    logger = logging.getLogger("benchmark.runs")
    logger.disabled = True
    packages = settings.WORKFLOW_PROCEDURE_PACKAGES
    definition, _ = engine.validate_flow(flow.flow_json, packages=packages)
    start = time.perf_counter()
    engine.run_flow(definition, logger=logger, packages=packages, input={})
    return time.perf_counter() - start


def runflow(flow, scratch: str, *options: str) -> float:
    env = {**os.environ, "WORKFLOW_LOG_FILE": os.path.join(scratch, "workflow.log")}
    with open(os.path.join(scratch, "runflow.out"), "wb") as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "runflow", flow.flow_name, *options],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            check=True,
        )
        return time.perf_counter() - start


class console_to:
    """sys.stderr, where the log's console lines go, sent to a file while a run is timed."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self):
        self.saved, sys.stderr = sys.stderr, open(self.path, "a", encoding="utf-8")

    def __exit__(self, *exc) -> None:
        from runner.log import flush_logs

        flush_logs()
        sys.stderr.close()
        sys.stderr = self.saved


if __name__ == "__main__":
    main()
