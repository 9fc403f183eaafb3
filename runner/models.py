"""Run records: one row per run from any entry point (CLI, web, queue), one row per step."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class RunQuerySet(models.QuerySet):
    """The states of a run, named once: the lifecycle and the pages use these."""

    def active(self):
        """Queued or running: what "skip if running" and a cancel look at."""
        return self.filter(status__in=Run.ACTIVE)

    def stale(self):
        """Running runs whose heartbeat stopped longer ago than a live worker allows."""
        since = timezone.now() - timedelta(seconds=settings.WORKFLOW_WORKER_LOST_SECONDS)
        return self.filter(status=Run.Status.RUNNING, heartbeat_at__lt=since)

    def listing(self):
        """Newest first without the big columns: what run lists show."""
        return self.defer("definition", "context", "traceback", "input").order_by("-id")

    def claim(self, run_id: int, worker: str) -> bool:
        """queued -> running in one conditional update: exactly one caller wins."""
        now = timezone.now()
        claimed = self.filter(pk=run_id, status=Run.Status.QUEUED, cancel_requested=False).update(
            status=Run.Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker
        )
        return claimed == 1


class Run(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    # No foreign key: wf_flow belongs to another owner, and a row removed there by
    # hand must not break the history kept here.
    flow_id = models.BigIntegerField(null=True)
    flow_name = models.CharField(max_length=255)  # legacy wf_flow tables allow 255
    definition = models.TextField(help_text="The exact flow JSON that ran.")
    input = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(max_length=16)
    triggered_by = models.CharField(max_length=150, blank=True)
    # The schedule that fired the run (trigger "schedule"); triggered_by names its cron.
    schedule_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    context = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    failed_step = models.CharField(max_length=128, blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid that executed it.")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    log_first_id = models.BigIntegerField(null=True, blank=True)
    log_last_id = models.BigIntegerField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        indexes = [
            # Pages find a flow's runs by its id (a flow keeps them when renamed); by name
            # only runs of flows no longer in wf_flow.
            models.Index(fields=["flow_id", "-id"], name="run_flow_id_recent"),
            models.Index(fields=["flow_name", "-id"], name="run_flow_recent"),
            models.Index(fields=["status", "-id"], name="run_status_recent"),
            models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.flow_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RunStep(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status, default=Status.RUNNING)
    started_at = models.DateTimeField()
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="runstep_unique_index")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class FlowGate(models.Model):
    """One lockable row per flow (by id, so a rename keeps it): run requests of a flow take
    its lock in turn, so "skip if running" holds across the CLI, the web and every machine."""

    flow_id = models.BigIntegerField(unique=True)

    def __str__(self) -> str:
        return f"gate of flow {self.flow_id}"
