"""The changelists of the big tables (runs, revisions, log lines) never COUNT(*) them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows.models import FlowRevision
from tests.factories import log, make_run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/runner/run/",
        "/admin/flows/flowrevision/",
        "/admin/flows/syslog/",
        "/admin/runner/run/?status__exact=failed",
    ],
)
def test_a_big_table_changelist_issues_no_count_query(admin_client, url):
    make_run(status="failed")
    FlowRevision.objects.create(flow_id=1, flow_name="example", flow_json="{}")
    log("a line")

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)

    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts == []
