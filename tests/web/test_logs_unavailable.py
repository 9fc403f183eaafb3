"""Pages that read wf_syslog degrade to a notice when the table is unavailable (renamed,
locked, lost): runs go on writing their records, and the operator must still see them."""

import pytest
from django.db import connection

from flows.models import Flow
from tests.factories import EXAMPLE_JSON, make_run

# Renaming a table commits on MySQL/MariaDB: these tests cannot run inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)

NOTICE = "the log table is unavailable: "


@pytest.fixture
def log_table_gone():
    """wf_syslog renamed away for the test, and back afterwards (on SQLite and MariaDB)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wf_syslog RENAME TO wf_syslog_away")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wf_syslog_away RENAME TO wf_syslog")


def test_the_overview_says_the_log_table_is_unavailable_and_shows_the_rest(client, log_table_gone):
    Flow.objects.create(flow_name="example", flow_json=EXAMPLE_JSON)
    run = make_run()

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="logs-unavailable"' in html and NOTICE in html
    assert "wf_syslog" in html  # the reason names the missing table
    assert 'data-flow="example"' in html
    assert f'data-run="{run.pk}"' in html


def test_the_run_page_says_the_log_table_is_unavailable_and_shows_the_rest(client, log_table_gone):
    run = make_run(context={"step1": {"msg": "hello"}})

    response = client.get(f"/runs/{run.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert NOTICE in html
    assert 'id="run-status" data-status="succeeded"' in html
    assert 'id="run-context"' in html and 'id="run-definition"' in html


def test_the_run_pages_log_poll_says_the_log_table_is_unavailable_and_keeps_its_cursor(
    client, log_table_gone
):
    run = make_run(status="succeeded")

    response = client.get(f"/runs/{run.pk}/logs/?after=42", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert NOTICE in html
    assert f'hx-get="/runs/{run.pk}/logs/?after=42"' in html


def test_the_run_pages_status_poll_reads_no_logs_while_the_table_is_unavailable(client, log_table_gone):
    run = make_run(status="running")

    response = client.get(f"/runs/{run.pk}/status/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert f'hx-get="/runs/{run.pk}/status/"' in response.content.decode()


def test_the_log_viewer_answers_with_an_error_page_naming_the_reason(client, log_table_gone):
    response = client.get("/logs/?level=ERROR")

    assert response.status_code == 503
    html = response.content.decode()
    assert NOTICE in html and "wf_syslog" in html
    assert 'id="log-filters"' in html  # the page, not a bare error


def test_the_live_tail_says_the_log_table_is_unavailable_and_keeps_its_cursor(client, log_table_gone):
    response = client.get("/logs/tail/?after=42&level=ERROR", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<tr id="log-tail"')
    assert NOTICE in html
    assert "after=42" in html and 'hx-trigger="every 2s"' in html
