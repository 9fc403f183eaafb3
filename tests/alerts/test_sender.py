"""deliver_due: each pending notification reaches its channel, at least once, with retries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import DeliveryAttempt, Notification
from alerts.outbox import notify_run_finished
from alerts.sender import RETRY_DELAYS, deliver_due
from tests.alerts.helpers import channel, nightly

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_run(receiver):
    channel("ops", receiver.url)
    run = nightly((["failed", "recovered"], "ops"))(error="ValueError: boom", failed_step="step2")
    notify_run_finished(run)
    return run


def test_a_failed_run_is_posted_once_with_its_flow_name_and_run_id(receiver, failed_run):
    assert deliver_due(timezone.now()) == 1
    assert deliver_due(timezone.now()) == 0  # sent: never again

    (post,) = receiver.posts
    assert post["path"] == "/hook"
    assert "'nightly' failed" in post["message"]
    assert f"run {failed_run.pk}" in post["message"]
    row = Notification.objects.get()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert list(DeliveryAttempt.objects.values_list("ok", "channel")) == [(True, "ops")]


def test_a_receiver_answering_500_twice_gets_the_message_on_the_third_attempt(receiver, failed_run):
    receiver.answers = [500, 500]
    now = timezone.now()

    assert deliver_due(now) == 0
    assert deliver_due(now + timedelta(seconds=1)) == 0  # not due again before ~5 s
    assert deliver_due(now + timedelta(seconds=5)) == 0
    assert deliver_due(now + timedelta(seconds=5 + 30)) == 1

    assert [post["status"] for post in receiver.posts] == [500, 500, 200]
    attempts = list(DeliveryAttempt.objects.order_by("id"))
    assert [a.ok for a in attempts] == [False, False, True]
    assert "500" in attempts[0].error
    assert Notification.objects.get().status == "sent"


def test_a_notification_failing_every_attempt_is_marked_failed_after_the_last_retry(receiver, failed_run):
    receiver.answers = [500] * 10
    now = timezone.now()

    for delay in (0, *RETRY_DELAYS):
        now += timedelta(seconds=delay)
        deliver_due(now)
    deliver_due(now + timedelta(days=1))

    row = Notification.objects.get()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 6, None)
    assert len(receiver.posts) == 6
    assert DeliveryAttempt.objects.filter(ok=False).count() == 6


def test_a_claimed_row_is_not_sent_by_another_sender_until_its_lease_ends(receiver, failed_run):
    row = Notification.objects.get()
    now = timezone.now()
    # Another sender claimed it and is sending it (or died while sending it).
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=now + timedelta(seconds=60))

    assert deliver_due(now) == 0
    assert deliver_due(now + timedelta(seconds=61)) == 1
    assert len(receiver.posts) == 1


def test_a_notification_to_a_removed_channel_records_the_reason(receiver):
    run = nightly((["failed"], "gone"))(error="boom")
    notify_run_finished(run)

    deliver_due(timezone.now())

    row = Notification.objects.get()
    assert (row.status, row.last_error) == ("pending", "no channel is named 'gone'")
    assert DeliveryAttempt.objects.get().ok is False
    assert receiver.posts == []


def test_a_success_after_a_failure_is_posted_as_recovered(receiver, failed_run):
    deliver_due(timezone.now())
    later = nightly((["failed", "recovered"], "ops"))

    notify_run_finished(later("succeeded"))
    deliver_due(timezone.now())

    assert "'nightly' recovered" in receiver.posts[-1]["message"]
    assert len(receiver.posts) == 2
