"""Queue throughput and latency: trivial one-step runs through real workers.

    .venv/bin/python benchmarks/queue.py [--runs 500] [--repeats 3]

Uses MariaDB/MySQL (BENCH_DATABASE_URL, default mysql://root@127.0.0.1:3306/workflow_bench,
created when missing) and Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/0).
For 1, 2 and 4 `db_worker` processes, then 1, 2 and 4 Celery workers, it enqueues --runs
runs of a one-step flow and times enqueue-to-finished for all of them; it prints runs per
second and the median enqueue-to-start latency (median of --repeats batches). The baseline,
measured in the same run, executes the same runs in this process with no queue.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/workflow_bench")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
os.environ.setdefault("WORKFLOW_LOG_FILE", "/tmp/workflow-bench.log")

import dj_database_url
import MySQLdb

cfg = dj_database_url.parse(DATABASE_URL)
MySQLdb.connect(
    host=cfg["HOST"], port=int(cfg["PORT"] or 3306), user=cfg["USER"], password=cfg["PASSWORD"]
).cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{cfg['NAME']}` CHARACTER SET utf8mb4")

import django

django.setup()

from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from flows.models import Flow
from runner import dispatch, services
from runner.models import Run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDLE_SAMPLES = 15
FLOW = '{"procedures": [{"name": "only", "mod": "common.Kt", "method": "prt", "params": {"msg": "hi"}}]}'


def prepare() -> Flow:
    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)
    flow, _ = Flow.all_objects.update_or_create(
        flow_name="bench-queue", defaults={"flow_json": FLOW, "enabled": True, "deleted": False}
    )
    return flow


def reset() -> None:
    Run.objects.filter(flow_name="bench-queue").delete()
    DBTaskResult.objects.all().delete()


def enqueue(flow: Flow, count: int) -> list[int]:
    return [
        dispatch.start_run(flow, input={}, trigger="bench", triggered_by="bench").pk for _ in range(count)
    ]


def wait_finished(run_ids: list[int]) -> None:
    tick = threading.Event()
    while Run.objects.filter(pk__in=run_ids, status__in=Run.ACTIVE).exists():
        tick.wait(0.05)


def latencies(run_ids: list[int]) -> list[float]:
    rows = Run.objects.filter(pk__in=run_ids).values_list("created_at", "started_at")
    return [(started - created).total_seconds() for created, started in rows]


def start_workers(kind: str, count: int, env: dict) -> list[subprocess.Popen]:
    if kind == "db":
        command = [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.05",
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workflow_site",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ]
    processes = []
    for n in range(count):
        extra = ["-n", f"bench{n}-{uuid.uuid4().hex[:6]}@%h"] if kind == "celery" else []
        processes.append(
            subprocess.Popen(
                [*command, *extra], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    return processes


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a worker behind
            process.wait()


def measure_queue(flow, kind: str, workers: int, runs: int, repeats: int) -> tuple[float, float, float]:
    from django.conf import settings

    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "WORKFLOW_QUEUE": kind, "CELERY_TASK_DEFAULT_QUEUE": queue_name}
    settings.WORKFLOW_QUEUE = kind
    if kind == "celery":
        from workflow_site.celery import app

        app.conf.task_default_queue = queue_name
    processes = start_workers(kind, workers, env)
    try:
        rates, lags = [], []
        warm = enqueue(flow, workers * 2)  # workers started and connected before timing
        wait_finished(warm)
        for _ in range(repeats):
            reset()
            start = time.perf_counter()
            run_ids = enqueue(flow, runs)
            wait_finished(run_ids)
            rates.append(runs / (time.perf_counter() - start))
            lags.append(statistics.median(latencies(run_ids)))
        # Pickup latency of an idle queue: one run at a time.
        idle = []
        for _ in range(IDLE_SAMPLES):
            run_ids = enqueue(flow, 1)
            wait_finished(run_ids)
            idle.extend(latencies(run_ids))
        return statistics.median(rates), statistics.median(lags), statistics.median(idle)
    finally:
        stop(processes)


def measure_in_process(flow, runs: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        reset()
        start = time.perf_counter()
        for _ in range(runs):
            run = services.create_run(flow, input={}, trigger="bench", triggered_by="bench")
            services.execute_run(run.pk)
        rates.append(runs / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queues", default="db,celery", help="which queues to measure: db, celery or both")
    args = parser.parse_args()
    flow = prepare()
    from django.db import connection

    print(
        f"queue benchmark on {connection.vendor} {connection.mysql_server_info}: {args.runs} one-step runs, "
        f"median of {args.repeats}"
    )
    baseline = measure_in_process(flow, args.runs, args.repeats)
    print(f"{'in-process, no queue (baseline)':36} {baseline:8.1f} runs/s", flush=True)
    print(
        "enqueue->start: median over the batch (backlog included), and on an idle queue (one run at a time)"
    )
    print(
        f"{'queue':8} {'workers':>7} {'runs/s':>8} {'x baseline':>10} {'batch start':>12} {'idle start':>11}"
    )
    for kind in args.queues.split(","):
        for workers in (1, 2, 4):
            rate, lag, idle = measure_queue(flow, kind, workers, args.runs, args.repeats)
            print(
                f"{kind:8} {workers:7d} {rate:8.1f} {rate / baseline:10.2f} "
                f"{lag * 1000:9.0f} ms {idle * 1000:8.1f} ms",
                flush=True,
            )
    reset()


if __name__ == "__main__":
    main()
