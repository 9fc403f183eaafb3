"""The log viewer on a wf_syslog of 5,000,000 rows, on MariaDB/MySQL: each page against COUNT(*).

    .venv/bin/python benchmarks/logviewer.py [--repeat 7]

Uses DATABASE_URL (default mysql://root@127.0.0.1:3306/workflow_bench, created when
missing). The first run fills wf_syslog with 5,000,000 generated lines (1% ERROR, the rest
DEBUG/INFO/WARNING, loggers workflow.run.<n>, workflow.worker, ...; one line in the middle
says "needle-42"); later runs find them and skip the fill. Then, through Django's test
Client logged in as a superuser, it times the server side of each page (median of --repeat
requests after one warm-up) against a plain SELECT COUNT(*) of the table, in the same run.
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

# benchmarks/logging.py would shadow the standard library's logging module.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DATABASE_URL", "mysql://root@127.0.0.1:3306/workflow_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflow_site.settings")
os.environ.setdefault("WORKFLOW_LOG_FILE", "/tmp/workflow-bench.log")
# Time the pages as production serves them: DEBUG off (no query log, no template debug).
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import dj_database_url
import MySQLdb

cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
if cfg["ENGINE"] != "django.db.backends.mysql":
    sys.exit(f"benchmarks/logviewer.py needs MariaDB/MySQL; DATABASE_URL is {os.environ['DATABASE_URL']}")
MySQLdb.connect(
    host=cfg["HOST"] or "127.0.0.1", port=int(cfg["PORT"] or 3306), user=cfg["USER"], password=cfg["PASSWORD"]
).cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{cfg['NAME']}` CHARACTER SET utf8mb4")

import django

django.setup()

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client

from flows.models import Flow, SysLog
from runner.models import Run

ROWS = 5_000_000
CHUNK = 500_000  # rows per INSERT ... SELECT; each chunk commits on its own
START = datetime(2025, 1, 1, tzinfo=UTC)
SPACING_US = 500_000  # generated line s is stamped START + s * 0.5 s
RUN_BASE = 1_000_000  # generated line s belongs to run RUN_BASE + s // 100 (when it is a run's)
BENCH_RUN = RUN_BASE + ROWS // 200  # a run in the middle of the table
NEEDLE = "needle-42"
FLOW = '{"procedures": [{"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}}]}'


def digits(count: int) -> str:
    return "(" + " UNION ALL ".join(["SELECT 0 d", *(f"SELECT {d}" for d in range(1, count))]) + ")"


# One chunk of generated lines: s runs over [%(first)s, %(first)s + CHUNK), from a cross join
# of digit tables (MySQL 8 has no sequence engine, MariaDB no deep recursive CTE by default).
FILL = f"""
INSERT INTO wf_syslog (created_at, level, logger_name, message)
SELECT TIMESTAMPADD(MICROSECOND, s * {SPACING_US}, %(start)s),
  CASE WHEN MOD(s, 100) = 37 THEN 'ERROR' WHEN MOD(s, 10) < 3 THEN 'DEBUG'
       WHEN MOD(s, 10) = 9 THEN 'WARNING' ELSE 'INFO' END,
  CASE WHEN MOD(s, 7) < 4 THEN CONCAT('workflow.run.', {RUN_BASE} + s DIV 100)
       WHEN MOD(s, 7) = 4 THEN 'workflow.worker' WHEN MOD(s, 7) = 5 THEN 'workflow.queue'
       ELSE 'workflow.heartbeat' END,
  CASE WHEN MOD(s, 100) = 37 THEN CONCAT('step parse (csv.Reader) failed: ValueError: row ', MOD(s, 5000),
                                     ' has ', MOD(s, 9), ' columns, expected 7')
       WHEN MOD(s, 1000) = 500 THEN CONCAT('payload of line ', s, ': ', REPEAT('abcdefghij ', 40))
       WHEN MOD(s, 10) < 3 THEN CONCAT('step s', MOD(s, 13), ' (common.Kt.prt) finished in ',
                                       MOD(s, 997), '.', MOD(s, 10), ' ms')
       WHEN MOD(s, 10) = 9 THEN CONCAT('heartbeat of run ', {RUN_BASE} + s DIV 100,
                                       ' late by ', MOD(s, 60), ' s')
       ELSE CONCAT('msg=order ', s, ' processed for customer ', MOD(s, 4999)) END
FROM (SELECT %(first)s + a.d * 100000 + b.d * 10000 + c.d * 1000 + e.d * 100 + f.d * 10 + g.d AS s
      FROM {digits(5)} a, {digits(10)} b, {digits(10)} c, {digits(10)} e, {digits(10)} f, {digits(10)} g) n
ORDER BY s
"""


def stamp(s: int) -> datetime:
    return START + timedelta(microseconds=s * SPACING_US)


def fill() -> None:
    """Insert the chunks that are not there yet (found by the stamp of their last line)."""
    for first in range(0, ROWS, CHUNK):
        if first == ROWS // 2 and not SysLog.objects.filter(logger_name="bench.needle").exists():
            SysLog.objects.create(
                created_at=stamp(first),
                level="INFO",
                logger_name="bench.needle",
                message=f"found the {NEEDLE}",
            )
        if SysLog.objects.filter(created_at=stamp(first + CHUNK - 1)).exists():
            continue
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL, {"first": first, "start": START.replace(tzinfo=None)})
        print(
            f"  inserted lines {first:,}-{first + CHUNK - 1:,} in {time.perf_counter() - began:.1f} s",
            flush=True,
        )


def prepare() -> Run:
    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)
    fill()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE wf_syslog")
        cursor.fetchall()
    Flow.all_objects.update_or_create(
        flow_name="bench-logviewer", defaults={"flow_json": FLOW, "deleted": False}
    )
    name = f"workflow.run.{BENCH_RUN}"
    ids = SysLog.objects.filter(logger_name=name).order_by("id").values_list("id", flat=True)
    run, _ = Run.objects.update_or_create(
        pk=BENCH_RUN,
        defaults={
            "flow_name": "bench-logviewer",
            "definition": FLOW,
            "trigger": "bench",
            "status": "succeeded",
            "started_at": stamp((BENCH_RUN - RUN_BASE) * 100),
            "finished_at": stamp((BENCH_RUN - RUN_BASE) * 100 + 99),
            "log_first_id": ids.first(),
            "log_last_id": ids.last(),
        },
    )
    return run


def superuser_client() -> Client:
    user, created = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True})
    if created or not user.is_superuser:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(user)
    return client


def timed(call, repeat: int) -> tuple[float, object]:
    result = call()  # warm-up: caches, connection, template loading
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000, result


def get(client: Client, url: str):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return call


def count_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM wf_syslog")
        return cursor.fetchone()[0]


def continue_search(client: Client, url: str, limit: int = 500) -> tuple[int, float, bool]:
    """Follow "Continue searching" from url until the needle shows: (requests, slowest ms, found)."""
    slowest = 0.0
    for requests in range(1, limit + 1):
        began = time.perf_counter()
        html = client.get(url).content.decode()
        slowest = max(slowest, (time.perf_counter() - began) * 1000)
        if f"found the {NEEDLE}" in html:
            return requests, slowest, True
        resume = re.search(r'href="\?([^"]*)" id="continue-search"', html)
        if resume is None:
            return requests, slowest, False
        url = "/logs/?" + resume.group(1).replace("&amp;", "&")
    return limit, slowest, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    print(
        f"wf_syslog in {connection.settings_dict['NAME']}: filling to {ROWS:,} generated lines if needed",
        flush=True,
    )
    run = prepare()
    client = superuser_client()
    deep = (
        SysLog.objects.filter(id__lte=100_000).order_by("-id").values_list("id", flat=True).first() or 100_000
    )
    pages = [
        ("/logs/ first page", "/logs/", 20),
        (f"/logs/?before={deep}", f"/logs/?before={deep}", 20),
        ("/logs/?level=ERROR", "/logs/?level=ERROR", 20),
        (f"/logs/?q={NEEDLE}", f"/logs/?q={NEEDLE}", 20),
        (f"/runs/{run.pk}/ (log ids {run.log_first_id}-{run.log_last_id})", f"/runs/{run.pk}/", 20),
        ("/admin/flows/syslog/", "/admin/flows/syslog/", 50),
    ]
    count_ms, rows = timed(count_rows, args.repeat)
    print(f"{rows:,} rows; medians of {args.repeat} requests after one warm-up\n")
    print(f"{'what':<58} {'median ms':>10} {'÷ COUNT(*)':>11} {'target':>10}  ok")
    print(f"{'SELECT COUNT(*) FROM wf_syslog':<58} {count_ms:>10.2f} {1:>11.3f}")
    failures = 0
    for label, url, target in pages:
        ms, _ = timed(get(client, url), args.repeat)
        ok = ms < target and ms < count_ms / 10
        failures += not ok
        limit = f"< {target} ms"
        print(f"{label:<58} {ms:>10.2f} {ms / count_ms:>11.3f} {limit:>10}  {'yes' if ok else 'NO'}")
    window = re.search(r'id="search-window">([^<]*)<', client.get(f"/logs/?q={NEEDLE}").content.decode())
    print(f"\n?q={NEEDLE}, first page: {window.group(1) if window else '(no search window shown)'}")
    requests, slowest, found = continue_search(client, f"/logs/?q={NEEDLE}")
    needle_id = SysLog.objects.filter(logger_name="bench.needle").values_list("id", flat=True).first()
    print(
        f"following 'Continue searching' to the needle (id {needle_id}): "
        f"{'found' if found else 'NOT found'} after {requests} requests, slowest {slowest:.1f} ms"
    )
    sys.exit(1 if failures or not found else 0)


if __name__ == "__main__":
    main()
