"""The sender: delivers the outbox's pending notifications, at least once.

Called by the scheduler after each pass and by idle db workers; several may run at once.
Each row is claimed before it is sent, by moving its next_attempt_at forward with a
conditional update (a lease): of two senders only one claims it, and a sender that dies
mid-send leaves a row that is due again when the lease ends. A row recorded as sent is never
sent again. Every attempt is recorded, with Apprise's error when it failed.
"""

import logging
import threading
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from alerts import channels, outbox
from alerts.deadlines import check_deadlines
from alerts.models import Channel, DeliveryAttempt, Notification
from runner.reconnect import drop_broken_connections

logger = logging.getLogger("workflow.alerts")

# After the 1st, 2nd ... failed attempt, the next one comes this many seconds later; after
# the last of these fails, the notification is marked failed.
RETRY_DELAYS = (5, 30, 120, 600, 3600)
# A claimed row is not claimed again before this: longer than a send may take.
LEASE = timedelta(seconds=4 * channels.SEND_TIMEOUT)
BATCH = 100  # rows read per call; the next call takes the rest
POLL_SECONDS = 2.0  # how often a process's sender thread looks for due notifications


def deliver_due(now: datetime) -> int:
    """Send the pending notifications due at `now`; returns how many were delivered."""
    due = (
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:BATCH]
    )
    senders: dict[str, object] = {}  # one Apprise object per channel URL in this call
    delivered = 0
    for pk, due_at in list(due):
        if _claim(pk, due_at, now):
            delivered += _deliver(Notification.objects.get(pk=pk), now, senders)
    return delivered


def _claim(pk: int, due_at: datetime, now: datetime) -> bool:
    claimed = Notification.objects.filter(
        pk=pk, status=Notification.Status.PENDING, next_attempt_at=due_at
    ).update(next_attempt_at=now + LEASE)
    return claimed == 1


def _deliver(notification: Notification, now: datetime, senders: dict) -> bool:
    channel = Channel.objects.filter(name=notification.channel).first()
    if channel is None or channel.name != notification.channel:
        outcome = channels.Sent(False, f"no channel is named {notification.channel!r}")
    else:
        if channel.url not in senders:
            senders[channel.url] = channels.sender_for(channel.url)
        title = f"Workflow: {notification.event.replace('_', ' ')}"
        outcome = channels.send(senders[channel.url], title, notification.message)
    _record(notification, now, outcome)
    if not outcome.ok:
        logger.warning(
            "notification %s (%s to %s) not delivered: %s",
            notification.pk, notification.event, notification.channel, outcome.error,
        )  # fmt: skip
    return outcome.ok


def _record(notification: Notification, now: datetime, outcome: channels.Sent) -> None:
    attempts = notification.attempts + 1
    if outcome.ok:
        fields = {"status": Notification.Status.SENT, "sent_at": now, "last_error": ""}
    elif attempts > len(RETRY_DELAYS):
        fields = {"status": Notification.Status.FAILED, "next_attempt_at": None, "last_error": outcome.error}
    else:
        retry_at = now + timedelta(seconds=RETRY_DELAYS[attempts - 1])
        fields = {"next_attempt_at": retry_at, "last_error": outcome.error}
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk).update(attempts=F("attempts") + 1, **fields)
        DeliveryAttempt.objects.create(
            notification=notification,
            at=now,
            channel=notification.channel,
            ok=outcome.ok,
            error=outcome.error,
        )


class SenderThread:
    """deliver_due() every POLL_SECONDS, and the check for late runs, in a thread of a
    long-running process (the scheduler, the db worker): a slow channel never delays a tick
    or a run, and nothing it raises stops the process."""

    def __init__(self, poll: float = POLL_SECONDS) -> None:
        self.poll = poll
        self.stopping = threading.Event()
        self.late_runs = outbox.LateRuns()
        self.thread = threading.Thread(target=self._loop, name="notification-sender", daemon=True)

    def start(self) -> "SenderThread":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=channels.SEND_TIMEOUT + 5)

    def _loop(self) -> None:
        try:
            while not self.stopping.is_set():
                self.send_due()
                self.stopping.wait(self.poll)
        finally:
            connection.close()  # this thread's own connection

    def send_due(self) -> None:
        try:
            now = timezone.now()
            if late := self.late_runs.check(now):
                logger.info("%d late-run notification(s) written", late)
            if missed := check_deadlines(now):
                logger.info("%d deadline_missed notification(s) written", missed)
            deliver_due(now)
        except Exception as err:
            logger.warning("sending notifications failed (%s); trying again in %.0f s", err, self.poll)
            drop_broken_connections()
