"""The run page's Notifications block: each notification of the run and its delivery attempts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import DeliveryAttempt, Notification
from tests.alerts.helpers import nightly
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def notification(run, event: str = "failed", channel: str = "ops", **fields) -> Notification:
    return Notification.objects.create(
        run_id=run.pk,
        flow_id=run.flow_id,
        event=event,
        channel=channel,
        dedup_key=f"{run.pk}:{event}:{channel}",
        message="m",
        **fields,
    )


def attempt(note: Notification, ok: bool, error: str = "") -> DeliveryAttempt:
    return DeliveryAttempt.objects.create(
        notification=note, at=timezone.now(), channel=note.channel, ok=ok, error=error
    )


def test_the_run_page_lists_its_notifications_and_their_delivery_attempts(client):
    run = nightly((["failed"], "ops"), (["failed"], "team"))(error="boom")
    sent = notification(run, channel="ops", status="sent", attempts=2)
    attempt(sent, ok=False, error="HTTP 500 from the receiver")
    attempt(sent, ok=True)
    notification(run, channel="team")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="run-notifications"' in html
    assert f'data-notification="{sent.pk}" data-event="failed" data-status="sent"' in html
    assert html.count('class="delivery" data-ok="false"') == 1
    assert html.count('class="delivery" data-ok="true"') == 1
    assert "HTTP 500 from the receiver" in html
    assert "none yet" in html  # team's: not attempted yet


def test_a_delivery_error_is_escaped(client):
    run = nightly((["failed"], "ops"))(error="boom")
    attempt(notification(run), ok=False, error="<script>alert(1)</script>")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_notifications_cost_two_queries_and_none_for_a_run_without_rules(client):
    plain = make_run(status="failed", error="boom")
    run = nightly((["failed"], "ops"))(error="boom")
    attempt(notification(run), ok=True)

    assert alerts_queries(client, plain.pk) == []
    assert len(alerts_queries(client, run.pk)) == 2  # the notifications, then all their attempts


def alerts_queries(client, run_id: int) -> list[str]:
    """The queries of the run page that read the alerts tables."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/runs/{run_id}/").status_code == 200
    return [query["sql"] for query in captured.captured_queries if "alerts_" in query["sql"]]
