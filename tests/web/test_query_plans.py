"""The hot reads of the pages use their indexes (MariaDB/MySQL: EXPLAIN of the very queries
the views' functions send, over enough rows that a full scan would look cheaper to no one)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.slowness import usual_duration
from flows.logsearch import LogFilters, recent_errors, run_lines, search
from flows.models import Flow, SysLog
from flows.views.overview import recent_runs_by_flow
from runner.models import Run
from tests.factories import EXAMPLE_JSON

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "mysql", reason="query plans are checked on MySQL/MariaDB"),
]
LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARNING", "ERROR", "CRITICAL", "INFO")


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """Built once for the module, committed (ANALYZE TABLE commits anyway), removed after."""
    with django_db_blocker.unblock():
        yield build_history()
        Run.objects.all().delete()
        SysLog.objects.all().delete()
        Flow.all_objects.all().delete()


def build_history() -> list[Flow]:
    flows = [Flow.objects.create(flow_name=f"flow-{i}", flow_json=EXAMPLE_JSON) for i in range(20)]
    Run.objects.bulk_create(
        Run(flow_id=flow.pk, flow_name=flow.flow_name, definition="{}", trigger="cli", status="succeeded")
        for _ in range(100)
        for flow in flows
    )
    start = timezone.now() - timedelta(days=30)
    SysLog.objects.bulk_create(
        SysLog(
            created_at=start + timedelta(minutes=i),
            level=LEVELS[i % len(LEVELS)],
            logger_name=f"workflow.run.{i % 500}",
            message=f"line {i}",
        )
        for i in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE wf_syslog, runner_run")
    return flows


def indexes_used(call) -> set[str]:
    """The indexes in the plans of every query that `call` sends."""
    with CaptureQueriesContext(connection) as captured:
        call()
    used = set()
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            names = [column[0] for column in cursor.description]
            used |= {row[names.index("key")] for row in cursor.fetchall()}
    return used - {None}


def test_the_recent_runs_of_each_flow_read_the_flow_id_index(history):
    assert indexes_used(lambda: recent_runs_by_flow([flow.pk for flow in history])) == {"run_flow_id_recent"}


def test_a_flows_usual_duration_reads_the_flow_id_index(history):
    # The slow flag of every poll of a running run's page.
    assert indexes_used(lambda: usual_duration(history[0].pk)) == {"run_flow_id_recent"}


def test_the_runs_of_a_flow_by_name_read_the_flow_name_index(history):
    plan = Run.objects.listing().filter(flow_name="flow-3")[:10].explain()

    assert "run_flow_recent" in plan


def test_the_recent_errors_read_the_level_index(history):
    assert indexes_used(recent_errors) == {"ix_wf_syslog_level_id"}


def test_the_lines_of_a_run_read_the_logger_index(history):
    run = Run(pk=7, flow_name="flow-1", status="running")  # its lines are among the history's

    assert "ix_wf_syslog_logger_id" in indexes_used(lambda: run_lines(run))


def test_a_time_filter_reads_the_created_index(history):
    since = timezone.now() - timedelta(days=20)
    filters = LogFilters(since=since, until=since + timedelta(hours=1))

    assert "ix_wf_syslog_created" in indexes_used(lambda: search(filters))
