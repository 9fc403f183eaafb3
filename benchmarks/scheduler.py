"""The scheduler's pass over 10,000 schedules: an idle pass, and 1,000 ticks due at once.

    BENCH_DATABASE_URL=... .venv/bin/python benchmarks/scheduler.py [--schedules 10000] [--due 1000]

Uses BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306/bench_sched, created when
missing; sqlite:////tmp/bench_sched.sqlite3 for SQLite), a database of its own: it refuses
one holding schedules of other flows. It creates --schedules schedules of 20 flows with
mixed expressions and zones, then measures
(a) one pass that finds nothing due (`ticking.run_pass(now)`, median of --repeat), against
    two baselines timed in the same run: a `SELECT 1` round trip (the floor of any query),
    and the same "first batch of due schedules" query on a column without an index
    (`updated_at`), i.e. the scan that the next_due index saves;
(b) the lag from due time to run created for --due schedules due at the same instant: their
    next_due is set to a moment T just ahead; at T one pass runs with the real clock and
    hands each run to the database queue, as `manage.py scheduler` does. Lag = the run's
    created_at - T for each fired tick: median and p95 over the ticks, median of --rounds.
    Baseline, in the same rounds: creating and queueing as many runs with services.create_run
    and no scheduler (the work the pass cannot avoid).
Targets (the issue): (a) under 5 ms on MariaDB, (b) p95 under 2 s.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

# benchmarks/logging.py would shadow the standard library's logging module.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "mysql://root@127.0.0.1:3306/bench_sched")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
os.environ.setdefault("WORKFLOW_LOG_FILE", "/tmp/workflow-bench.log")
os.environ.setdefault("WORKFLOW_QUEUE", "db")
# As production runs it: DEBUG off (no query log).
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")

import dj_database_url

cfg = dj_database_url.parse(DATABASE_URL)
if cfg["ENGINE"] == "django.db.backends.mysql":
    import MySQLdb

    MySQLdb.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=int(cfg["PORT"] or 3306),
        user=cfg["USER"],
        password=cfg["PASSWORD"],
    ).cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{cfg['NAME']}` CHARACTER SET utf8mb4")

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from flows.models import Flow
from runner import dispatch, services
from runner.models import Run
from schedules import editing, ticking
from schedules.models import Schedule, Tick

FLOWS = [f"bench-sched-{n}" for n in range(20)]
FLOW = (
    '{"procedures": [{"name": "fetch", "mod": "common.Kt", "method": "prt", "params": {"msg": "hi"}},'
    ' {"name": "report", "mod": "common.Kt", "method": "prt", "params": {"msg": "@fetch.msg"}}]}'
)
EXPRESSIONS = [
    "*/5 * * * *",
    "0 * * * *",
    "30 2 * * *",
    "@daily",
    "15 14 1 * *",
    "0 9 * * 1-5",
    "@hourly",
    "45 23 * * 0",
]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def prepare(count: int, now: datetime) -> None:
    """`count` schedules due from a day after `now` on: none is due in (a), and in (b) only
    the ones the benchmark makes due."""
    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)
    flow_ids = []
    for name in FLOWS:
        flow, _ = Flow.all_objects.update_or_create(
            flow_name=name, defaults={"flow_json": FLOW, "enabled": True, "deleted": False}
        )
        flow_ids.append(flow.pk)
    if Schedule.objects.exclude(flow_id__in=flow_ids).exists():
        sys.exit("this database holds schedules of other flows: give the benchmark a database of its own")
    Schedule.objects.all().delete()
    reset()
    schedules = []
    for n in range(count):
        expression, zone = EXPRESSIONS[n % len(EXPRESSIONS)], ZONES[n % len(ZONES)]
        schedules.append(
            Schedule(
                flow_id=flow_ids[n % len(flow_ids)],
                cron=expression,
                timezone=zone,
                input={"n": n},
                next_due=editing.first_due(expression, zone, now + timedelta(days=1)),
            )
        )
    Schedule.objects.bulk_create(schedules, batch_size=1000)


def reset() -> None:
    Tick.objects.all().delete()
    Run.objects.filter(flow_name__in=FLOWS).delete()
    DBTaskResult.objects.all().delete()


def median_ms(action, repeat: int) -> float:
    action()  # warm-up: connection, query compilation, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def unindexed_due_query(now: datetime):
    # The due query's shape on a column without an index: every row is read.
    return lambda: list(Schedule.objects.filter(updated_at__lte=now - timedelta(days=3650))[: ticking.BATCH])


def idle_pass(now: datetime):
    def run() -> None:
        result = ticking.run_pass(now)
        assert not result.ticks, "the idle pass found ticks due"

    return run


def measure_idle(now: datetime, repeat: int) -> None:
    with CaptureQueriesContext(connection) as queries:
        idle_pass(now)()
    pass_ms = median_ms(idle_pass(now), repeat)
    floor_ms = median_ms(select_one, repeat)
    scan_ms = median_ms(unindexed_due_query(now), repeat)
    print(f"(a) a pass with nothing due, median of {repeat} ({len(queries)} queries):")
    print(f"    {'run_pass(now)':34} {pass_ms:8.2f} ms   target < 5 ms")
    print(
        f"    {'baseline: SELECT 1 round trip':34} {floor_ms:8.2f} ms   the pass: {pass_ms / floor_ms:.1f} x"
    )
    print(f"    {'baseline: due query, no index':34} {scan_ms:8.2f} ms   {scan_ms / pass_ms:.1f} x the pass")


def due_together(count: int, lead: float = 2.0) -> datetime:
    """`count` schedules (every tenth-ish, all expressions and zones) due at one moment ahead."""
    due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
    step = max(1, Schedule.objects.count() // count)
    ids = list(Schedule.objects.order_by("pk").values_list("pk", flat=True)[::step][:count])
    Schedule.objects.filter(pk__in=ids).update(next_due=due)
    return due


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def one_round(count: int) -> tuple[float, float, float, int]:
    """(median lag, p95 lag, pass seconds, ticks fired) of one pass over `count` due ticks."""
    due = due_together(count)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
    start = time.perf_counter()
    result = ticking.run_pass(datetime.now(UTC), on_created=dispatch.hand_over)
    elapsed = time.perf_counter() - start
    run_ids = [tick.run_id for tick in result.ticks if tick.outcome == Tick.Outcome.FIRED]
    created = Run.objects.filter(pk__in=run_ids).values_list("created_at", flat=True)
    lags = [(at - due).total_seconds() for at in created]
    return statistics.median(lags), percentile(lags, 0.95), elapsed, len(lags)


def runs_alone(count: int) -> float:
    """Seconds to create and queue `count` runs of the schedules' flows with no scheduler:
    the same work as the pass minus the ledger, each run in its own transaction."""
    flows = list(Flow.objects.filter(flow_name__in=FLOWS))
    start = time.perf_counter()
    for n in range(count):
        services.create_run(
            flows[n % len(flows)],
            input={"n": n},
            trigger="bench",
            triggered_by="bench",
            on_created=dispatch.hand_over,
        )
    return time.perf_counter() - start


def measure_lag(count: int, rounds: int) -> None:
    results, baselines = [], []
    for _ in range(rounds):
        reset()
        baselines.append(runs_alone(count))
        reset()
        results.append(one_round(count))
    fired = {r[3] for r in results}
    median_lag = statistics.median(r[0] for r in results)
    p95_lag = statistics.median(r[1] for r in results)
    pass_s = statistics.median(r[2] for r in results)
    print(
        f"(b) {count} schedules due at the same instant, median of {rounds} rounds (fired: {sorted(fired)}):"
    )
    print(f"    lag due -> run created: median {median_lag:.3f} s, p95 {p95_lag:.3f} s   target p95 < 2 s")
    baseline = statistics.median(baselines)
    print(f"    the pass: {pass_s:.2f} s, {pass_s / count * 1000:.2f} ms per tick")
    print(f"    baseline: {count} runs, no ledger: {baseline:.2f} s; the pass is {pass_s / baseline:.2f} x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    now = datetime.now(UTC)
    prepare(args.schedules, now)
    server = f" {connection.mysql_server_info}" if connection.vendor == "mysql" else ""
    print(f"scheduler benchmark on {connection.vendor}{server}: {args.schedules} schedules")
    measure_idle(now, args.repeat)
    measure_lag(args.due, args.rounds)
    reset()


if __name__ == "__main__":
    main()
