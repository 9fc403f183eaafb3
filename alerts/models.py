"""Notification channels and the outbox of notifications, in the app's own tables.

A notification row is written in the same transaction as the status change that causes it,
so none is lost and none is invented by a rolled-back transaction; a sender delivers it
later, at least once, recording each attempt.
"""

from django.db import models


class Channel(models.Model):
    """A named destination given as an Apprise URL; the URL holds credentials and is shown masked."""

    name = models.CharField(max_length=64, unique=True)
    url = models.TextField()
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Adding, testing and removing channels: a permission of its own, apart from editing flows.
        permissions = [("manage_channels", "Can add, test and remove notification channels")]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    run_id = models.BigIntegerField(null=True, blank=True)
    flow_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(max_length=24)
    channel = models.CharField(max_length=64)
    # One notification per (run, event, channel): a second write of the same event is a no-op.
    dedup_key = models.CharField(max_length=200, unique=True)
    message = models.TextField()
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["run_id"], name="notification_run"),
        ]

    def __str__(self) -> str:
        return f"{self.event} of run {self.run_id} to {self.channel} ({self.status})"


class DeliveryAttempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    at = models.DateTimeField()
    channel = models.CharField(max_length=64)
    ok = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["notification", "id"]

    def __str__(self) -> str:
        return f"attempt of {self.notification_id} at {self.at} ({'ok' if self.ok else 'failed'})"
