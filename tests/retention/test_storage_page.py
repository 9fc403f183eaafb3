"""/storage/: table sizes from the database's statistics and the oldest row of each."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from runner.models import Run
from runner.storage import table_sizes
from tests.factories import client_for, log, make_run, make_user

pytestmark = pytest.mark.django_db


def test_the_storage_page_lists_each_table_with_its_oldest_row():
    first = make_run("nightly")
    Run.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=3))
    make_run("nightly")
    log("a line")
    client = client_for(make_user("ops", "view_flow", "view_syslog"))

    response = client.get("/storage/")

    assert response.status_code == 200
    for table in (Run._meta.db_table, "wf_syslog"):
        assert f'id="table-{table}"'.encode() in response.content


def test_the_sizes_never_count_a_table_row_by_row():
    make_run("nightly")
    log("a line")

    with CaptureQueriesContext(connection) as queries:
        sizes = table_sizes()

    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert {size.table: size.oldest is not None for size in sizes}[Run._meta.db_table]


def test_an_empty_table_says_so():
    runs = {size.table: size for size in table_sizes()}[Run._meta.db_table]
    assert (runs.rows, runs.oldest, runs.exact) == (0, None, True)


def test_the_storage_page_needs_the_log_permission():
    client = client_for(make_user("viewer", "view_flow"))

    assert client.get("/storage/").status_code == 403
