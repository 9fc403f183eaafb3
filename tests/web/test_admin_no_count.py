"""The changelists of the big tables (runs, revisions, log lines) never COUNT(*) them: they
count at most 100 pages' rows plus one, and say "more than" when there are more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows.admin import SysLogAdmin
from flows.models import FlowRevision
from runner.admin import RunAdmin
from tests.factories import log, make_run

pytestmark = pytest.mark.django_db

BIG_TABLES = [
    "/admin/django_tasks_database/dbtaskresult/",
    "/admin/runner/run/",
    "/admin/flows/flowrevision/",
    "/admin/flows/syslog/",
    "/admin/runner/run/?status__exact=failed",
    "/admin/runner/run/?q=example",
    "/admin/flows/syslog/?_facets=True&level=ERROR",
]


@pytest.mark.parametrize("url", BIG_TABLES)
def test_a_big_table_changelist_counts_only_a_bounded_number_of_rows(admin_client, url):
    make_run(status="failed")
    FlowRevision.objects.create(flow_id=1, number=1, flow_name="example", flow_json="{}")
    log("a line")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)

    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 10001" in counts[0]


def test_a_small_table_shows_its_real_count(admin_client):
    for i in range(3):
        log(f"line {i}")

    html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert '<span id="result-count">\n3 log lines</span>' in html


def test_a_table_over_the_cap_says_more_than_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(SysLogAdmin, "list_per_page", 2)
    monkeypatch.setattr("workflow_site.admin_base.CappedCountPaginator.max_pages", 2)
    for i in range(5):
        log(f"line {i}")

    with CaptureQueriesContext(connection) as queries:
        html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert '<span id="result-count">more than 4 log lines</span>' in html
    assert 'href="?p=2"' in html and 'href="?p=3"' not in html
    # One row past the cap says it all: nothing is counted.
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    assert [q for q in queries if "LIMIT 1 OFFSET 4" in q["sql"]]


def test_a_table_at_the_cap_shows_its_real_count(admin_client, monkeypatch):
    monkeypatch.setattr(SysLogAdmin, "list_per_page", 2)
    monkeypatch.setattr("workflow_site.admin_base.CappedCountPaginator.max_pages", 2)
    for i in range(4):
        log(f"line {i}")

    html = admin_client.get("/admin/flows/syslog/").content.decode()

    assert '<span id="result-count">\n4 log lines</span>' in html


def test_a_search_over_the_cap_says_more_than_the_cap(admin_client, monkeypatch):
    monkeypatch.setattr(RunAdmin, "list_per_page", 1)
    monkeypatch.setattr("workflow_site.admin_base.CappedCountPaginator.max_pages", 2)
    for _ in range(3):
        make_run()

    html = admin_client.get("/admin/runner/run/?q=example").content.decode()

    assert "more than 2 results" in html
