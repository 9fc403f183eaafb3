"""Schedules of flows and their tick ledger, in the app's own tables (wf_flow is never altered).

Both are keyed by flow id rather than a foreign key, as the revisions and runs are: wf_flow
belongs to another owner, a rename keeps a flow's schedules, and a ledger row outlives the
schedule it belongs to (removing a schedule keeps its history).
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ScheduleQuerySet(models.QuerySet):
    def due(self, now):
        """Schedules with a tick due at `now`: one range of the next_due index (paused ones hold NULL)."""
        return self.filter(next_due__lte=now).order_by("next_due")


class Schedule(models.Model):
    class Overlap(models.TextChoices):
        ALLOW = "allow"
        SKIP_IF_RUNNING = "skip_if_running"

    class CatchUp(models.TextChoices):
        SKIP = "skip", "skip: record missed ticks, run nothing"
        ONCE = "once", "once: one run for all missed ticks"
        ALL = "all", "all: a run per missed tick, up to the limit"

    MAX_CATCH_UP = 1000

    flow_id = models.BigIntegerField()
    cron = models.CharField(
        max_length=200, help_text="five fields as in Debian cron, or @hourly, @daily, ..."
    )
    timezone = models.CharField(max_length=64)
    input = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    overlap = models.CharField(max_length=16, choices=Overlap.choices, default=Overlap.ALLOW)
    catch_up = models.CharField(max_length=8, choices=CatchUp.choices, default=CatchUp.SKIP)
    catch_up_limit = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(MAX_CATCH_UP)]
    )
    note = models.CharField(max_length=500, blank=True)
    # The next tick to handle, in UTC; NULL while paused. The scheduler's only index.
    next_due = models.DateTimeField(null=True, blank=True)
    # Daily: a successful run of the flow by this wall time in the schedule's zone, else a
    # "deadline_missed" notification (alerts.deadlines).
    deadline = models.TimeField(null=True, blank=True)
    # The last deadline instant already judged (UTC): each one is judged once.
    deadline_checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["next_due"], name="schedule_next_due"),
            models.Index(fields=["flow_id"], name="schedule_flow"),
        ]

    def __str__(self) -> str:
        return f"schedule {self.pk} ({self.cron} {self.timezone})"


class Tick(models.Model):
    """One due time of one schedule and what became of it; unique, so it happens once."""

    class Outcome(models.TextChoices):
        FIRED = "fired"
        SKIPPED = "skipped"
        MISSED = "missed"
        REFUSED = "refused"

    schedule_id = models.BigIntegerField()
    flow_id = models.BigIntegerField()
    due = models.DateTimeField()
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    run_id = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule_id", "due"], name="tick_once_per_due_time")]
        indexes = [
            models.Index(fields=["-due", "-id"], name="tick_due_recent"),
            models.Index(fields=["flow_id", "-id"], name="tick_flow_recent"),
            models.Index(fields=["outcome", "-id"], name="tick_outcome_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} tick of schedule {self.schedule_id} at {self.due}"
