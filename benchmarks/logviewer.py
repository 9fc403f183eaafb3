"""The log viewer on a wf_syslog of 5,000,000 rows, on MariaDB/MySQL: each page against COUNT(*).

    .venv/bin/python benchmarks/logviewer.py [--repeat 7] [--rows 20000000]

Uses DATABASE_URL (default mysql://root@127.0.0.1:3306/workflow_bench, or workflow_bench_<rows>
with --rows; created when missing). The first run fills wf_syslog with --rows generated lines
(default 5,000,000: 1% ERROR, the rest DEBUG/INFO/WARNING, loggers workflow.run.<n>,
workflow.worker, ...; one line in the middle says "needle-42"); later runs find them and skip
the fill. Then, through Django's test Client logged in as a superuser (no permission
queries) and then as a staff user with the log permission through a group (one), it times
the server side of each page (median of --repeat requests after one warm-up) against a plain
SELECT COUNT(*) of the table, in the same run: each page must take less than 1/100 of it.
The SQL column is the time spent in the page's queries, the rest is Python: middleware,
view, template. Drop the database afterwards; 20,000,000 rows take about 4 GB.
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
DEFAULT_ROWS = 5_000_000
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeat", type=int, default=7)
parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="a multiple of 500,000")
args = parser.parse_args()
if args.rows < 500_000 or args.rows % 500_000:
    parser.error("--rows must be a multiple of 500,000")
database = "workflow_bench" if args.rows == DEFAULT_ROWS else f"workflow_bench_{args.rows}"
os.environ.setdefault("DATABASE_URL", f"mysql://root@127.0.0.1:3306/{database}")
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

from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.db import connection
from django.test import Client

from flows.logsearch import TEXT_WINDOW
from flows.models import Flow, SysLog
from runner.models import Run

ROWS = args.rows
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
    began = time.perf_counter()
    inserted = 0
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
        chunk_began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FILL, {"first": first, "start": START.replace(tzinfo=None)})
        inserted += CHUNK
        print(
            f"  inserted lines {first:,}-{first + CHUNK - 1:,} in {time.perf_counter() - chunk_began:.1f} s",
            flush=True,
        )
    if inserted:
        print(f"  filled {inserted:,} lines in {time.perf_counter() - began:.0f} s", flush=True)


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


def operator_client() -> Client:
    """A staff user who may read the logs through a group, as operators do: the pages read
    the user's and the groups' permissions (one query, once per request)."""
    group, _ = Group.objects.get_or_create(name="bench-log-readers")
    group.permissions.set(Permission.objects.filter(codename__in=["view_syslog", "view_flow"]))
    user, _ = User.objects.get_or_create(username="bench-operator", defaults={"is_staff": True})
    user.groups.set([group])
    client = Client()
    client.force_login(user)
    return client


class SqlTimer:
    """Counts the queries of a request and the time spent in them."""

    def __init__(self) -> None:
        self.queries, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries += 1
            self.seconds += time.perf_counter() - began


def timed(call, repeat: int) -> tuple[float, float, int, object]:
    """Median ms of call, median ms of its queries, its number of queries, its last result."""
    result = call()  # warm-up: caches, connection, template loading
    times, sql = [], []
    for _ in range(repeat):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            began = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - began)
        sql.append(timer.seconds)
    return statistics.median(times) * 1000, statistics.median(sql) * 1000, timer.queries, result


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


def continue_search(client: Client, url: str, needle_id: int) -> tuple[int, float, bool]:
    """Follow "Continue searching" from url until the needle shows: (requests, slowest ms, found)."""
    slowest = 0.0
    limit = (SysLog.objects.newest_id() - needle_id) // TEXT_WINDOW + 20
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
    print(
        f"wf_syslog in {connection.settings_dict['NAME']}: filling to {ROWS:,} generated lines if needed",
        flush=True,
    )
    run = prepare()
    clients = [("superuser", superuser_client()), ("operator", operator_client())]
    deep = (
        SysLog.objects.filter(id__lte=100_000).order_by("-id").values_list("id", flat=True).first() or 100_000
    )
    newest = SysLog.objects.newest_id()
    pages = [
        ("/logs/ first page", "/logs/"),
        (f"/logs/?before={deep}", f"/logs/?before={deep}"),
        ("/logs/?level=ERROR", "/logs/?level=ERROR"),
        (f"/logs/?q={NEEDLE}", f"/logs/?q={NEEDLE}"),
        # A window of generated lines, whatever other benchmarks left at the table's end.
        (f"/logs/?q={NEEDLE}&before={deep}", f"/logs/?q={NEEDLE}&before={deep}"),
        ("/logs/tail/ (50 new lines)", f"/logs/tail/?after={newest - 50}"),
        (f"/runs/{run.pk}/ (log ids {run.log_first_id}-{run.log_last_id})", f"/runs/{run.pk}/"),
        ("/admin/flows/syslog/", "/admin/flows/syslog/"),
        ("/admin/flows/syslog/?level=ERROR", "/admin/flows/syslog/?level=ERROR"),
    ]
    count_ms, _, _, rows = timed(count_rows, args.repeat)
    budget = count_ms / 100
    print(f"{rows:,} rows; medians of {args.repeat} requests after one warm-up\n")
    print(
        f"SELECT COUNT(*) FROM wf_syslog: {count_ms:.0f} ms; a page's budget, 1/100 of it: {budget:.1f} ms\n"
    )
    print(f"{'what':<50} {'user':<9} {'median ms':>9} {'SQL ms':>7} {'queries':>7} {'÷ COUNT(*)':>10}  ok")
    failures = 0
    for label, url in pages:
        for who, client in clients:
            if who == "operator" and url.startswith("/admin/"):
                continue  # the admin is for superusers here
            ms, sql_ms, queries, _ = timed(get(client, url), args.repeat)
            ok = ms < budget
            failures += not ok
            print(
                f"{label:<50} {who:<9} {ms:>9.2f} {sql_ms:>7.2f} {queries:>7} {ms / count_ms:>10.4f}"
                f"  {'yes' if ok else 'NO'}",
                flush=True,
            )
    client = clients[0][1]
    window = re.search(r'id="search-window">([^<]*)<', client.get(f"/logs/?q={NEEDLE}").content.decode())
    print(f"\n?q={NEEDLE}, first page: {window.group(1) if window else '(no search window shown)'}")
    needle_id = SysLog.objects.filter(logger_name="bench.needle").values_list("id", flat=True).first()
    requests, slowest, found = continue_search(client, f"/logs/?q={NEEDLE}", needle_id)
    print(
        f"following 'Continue searching' to the needle (id {needle_id}): "
        f"{'found' if found else 'NOT found'} after {requests} requests, slowest {slowest:.1f} ms"
    )
    sys.exit(1 if failures or not found else 0)


if __name__ == "__main__":
    main()
