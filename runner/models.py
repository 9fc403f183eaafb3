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
    # The run this one resumes (trigger "resume"): its steps before the failed one are reused.
    resumed_from_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # The run whose step started this one (trigger "subflow", builtin flow.Flow.run). No
    # constraint in the database: retention deletes runs with plain SQL, batch by batch, and a
    # parent may go before its sub-runs (an ORM delete empties the link; SQL leaves the id).
    parent_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="subflow_runs",
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    context = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    failed_step = models.CharField(max_length=128, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # `cancelrun --now`: the running step is stopped at once, without the grace period.
    cancel_now = models.BooleanField(default=False)
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
            # /metrics: runs by flow and status and each flow's last success, read from the
            # index alone; the duration histogram's last 24 hours of finished runs.
            models.Index(fields=["flow_name", "status", "finished_at"], name="run_flow_status_finished"),
            models.Index(fields=["finished_at"], name="run_finished"),
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
        TIMED_OUT = "timed_out"
        CANCELLED = "cancelled"
        REUSED = "reused"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status, default=Status.RUNNING)
    started_at = models.DateTimeField()
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1, help_text="Attempts made (retries + 1).")
    # Each attempt that did not end the step: {"number", "started_at", "duration", "error", "delay"}.
    attempt_log = models.JSONField(default=list, blank=True)
    # For a reused step (status "reused"): the run whose stored result it took.
    reused_from_run_id = models.BigIntegerField(null=True, blank=True)
    # False when the stored result is not all the step returned: a value that is not JSON
    # was kept as its repr (a resume cannot give a later step the value itself).
    result_exact = models.BooleanField(default=True)

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


class WorkerProcess(models.Model):
    """A live process of the product (a db worker, a Celery worker, a scheduler): each stamps
    its row while it runs, so pages, /health and /metrics can tell whether anyone is there."""

    class Kind(models.TextChoices):
        DB_WORKER = "db_worker"
        CELERY = "celery"
        SCHEDULER = "scheduler"

    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind)
    queue = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    current_run_id = models.BigIntegerField(null=True, blank=True)
    # Log records this process dropped (a full queue, a log table that is down), so far.
    log_records_dropped = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "pid", "kind"], name="worker_process_once")]
        indexes = [models.Index(fields=["kind", "last_seen"], name="worker_kind_seen")]

    def __str__(self) -> str:
        return f"{self.kind} {self.host}:{self.pid}"
