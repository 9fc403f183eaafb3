"""Models of the two existing tables, wf_flow and wf_syslog.

Both are `managed = False`: the schema belongs to the database owner, and the app never
creates, alters or drops them through migrations (schema/ and `create_wf_tables` are the
explicit, separate way to create them for development).
"""

import json

from django.db import connections, models
from django.db.models import Min, Q

from runner.engine import parse_json


class LegacyTextField(models.TextField):
    """TEXT, LONGTEXT or JSON column read as a str, whatever the driver hands back.

    MySQL 8 returns JSON columns as bytes through mysqlclient; TEXT and LONGTEXT as str.
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).decode("utf-8", errors="replace")
        return value


class FlowQuerySet(models.QuerySet):
    def runnable(self):
        return self.filter(enabled=True, deleted=False)


class VisibleFlowManager(models.Manager.from_queryset(FlowQuerySet)):
    # Soft-deleted flows are hidden everywhere unless asked for (Flow.all_objects).
    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)


class Flow(models.Model):
    id = models.AutoField(primary_key=True)
    flow_name = models.CharField(max_length=128, unique=True)
    flow_json = LegacyTextField()
    enabled = models.BooleanField(default=True)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisibleFlowManager()
    all_objects = FlowQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "wf_flow"
        ordering = ["flow_name"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        permissions = [("run_flow", "Can run flows")]

    def __str__(self) -> str:
        return self.flow_name

    def parse_definition(self) -> tuple[object | None, str | None]:
        """(definition, None) when flow_json parses, else (None, "message with line/column")."""
        try:
            return parse_json(self.flow_json or ""), None
        except (json.JSONDecodeError, TypeError) as err:
            return None, f"Invalid JSON: {err}"
        except RecursionError:
            return None, "Invalid JSON: nested too deeply to read"

    @property
    def json_error(self) -> str | None:
        return self.parse_definition()[1]

    def soft_delete(self) -> None:
        self.deleted = True
        self.save(update_fields=["deleted", "updated_at"])

    def restore(self) -> None:
        self.deleted = False
        self.save(update_fields=["deleted", "updated_at"])


class SysLogQuerySet(models.QuerySet):
    """Every read of wf_syslog: the log pipeline only writes, the pages read through these."""

    def newest_id(self) -> int:
        """The newest id of the table (0 when empty): the primary key only."""
        return self._end_id("MAX")

    def oldest_id(self) -> int:
        return self._end_id("MIN")

    def _end_id(self, function: str) -> int:
        # Of the whole table, filters or not: a plain statement, as aggregate() took 0.3 ms to
        # build it, three times the query, twice on a log search page (benchmarks/logviewer.py).
        connection = connections[self.db]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(id) FROM {table}")
            return cursor.fetchone()[0] or 0

    def first_id_after(self, after: int) -> int | None:
        """The lowest id above `after`: where a reader that fell behind a gap goes on."""
        return self.filter(id__gt=after).aggregate(first=Min("id"))["first"]

    def of_logger_tree(self, name: str):
        """A logger's lines and its children's; not a prefix ("workflow.run.1" is not run 10's).

        The range bounds every name of the tree ("." < "/") so MySQL/MariaDB read the
        (logger_name, id) index; with the OR alone they walk the primary key backwards
        through the whole table when the run has few lines.
        """
        in_range = Q(logger_name__gte=name, logger_name__lt=f"{name}/")
        return self.filter(in_range, Q(logger_name=name) | Q(logger_name__startswith=f"{name}."))

    def id_range(self, logger_name: str, since_id: int | None = None) -> tuple[int | None, int | None]:
        """The first and last ids one logger wrote after `since_id`; (None, None) when none."""
        ids = self.filter(logger_name=logger_name).order_by("id").values_list("id", flat=True)
        if since_id is not None:
            ids = ids.filter(id__gt=since_id)
        return ids.first(), ids.last()

    def recent_errors(self, limit: int) -> list:
        """The newest ERROR and CRITICAL lines: one index range per level, merged here."""
        rows = []
        for name in ("ERROR", "CRITICAL"):
            rows += self.filter(level=name).order_by("-id")[:limit]
        return sorted(rows, key=lambda row: row.id, reverse=True)[:limit]

    def first_id_at_or_after(self, moment) -> int | None:
        return self.filter(created_at__gte=moment).order_by("created_at").values_list("id", flat=True).first()

    def last_id_at_or_before(self, moment) -> int | None:
        return (
            self.filter(created_at__lte=moment).order_by("-created_at").values_list("id", flat=True).first()
        )


class SysLog(models.Model):
    # The standard level names, lowest first: the log filters and the admin offer these.
    LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField()
    level = models.CharField(max_length=16)
    logger_name = models.CharField(max_length=255)
    message = LegacyTextField()

    objects = SysLogQuerySet.as_manager()

    class Meta:
        managed = False
        db_table = "wf_syslog"
        ordering = ["-id"]
        verbose_name = "log line"

    def __str__(self) -> str:
        return f"{self.created_at} {self.level} {self.logger_name}"


class FlowRevision(models.Model):
    """One saved version of a flow's JSON, in the app's own table (wf_flow is never altered).

    Keyed by flow id and name rather than a foreign key: wf_flow belongs to another owner,
    and a row removed there by hand must not take its history with it.
    """

    kind = "revision"  # beside FlowEvent in a flow's history

    flow_id = models.BigIntegerField()
    # 1, 2, 3 ... within its flow: what pages, messages and URLs show (the id stays internal).
    number = models.PositiveIntegerField()
    flow_name = models.CharField(max_length=128)
    flow_json = models.TextField()
    saved_by = models.CharField(max_length=150, blank=True)
    saved_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=32, blank=True, help_text='"created", "edit", "restore", "admin", ...')

    class Meta:
        # Also the index of a flow's newest revisions (ORDER BY number DESC).
        constraints = [models.UniqueConstraint(fields=["flow_id", "number"], name="flowrevision_number")]

    def __str__(self) -> str:
        return f"revision {self.number} of {self.flow_name}"


class FlowEvent(models.Model):
    """Who changed a flow's state, and when: enabled, disabled, deleted, restored, renamed or
    described. Changes of its definition are FlowRevisions; both make up its history."""

    class Action(models.TextChoices):
        # Labels as the history reads: "disabled by bob".
        ENABLED = "enabled", "enabled"
        DISABLED = "disabled", "disabled"
        DELETED = "deleted", "deleted"
        RESTORED = "restored", "restored"
        RENAMED = "renamed", "renamed"
        DESCRIBED = "described", "description changed"

    kind = "event"

    flow_id = models.BigIntegerField()
    flow_name = models.CharField(
        max_length=128, help_text="its name at the time (after a rename, the new one)"
    )
    previous_name = models.CharField(max_length=128, blank=True, help_text="a rename's old name")
    action = models.CharField(max_length=16, choices=Action.choices)
    by = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["flow_id", "-id"], name="flowevent_recent")]

    def __str__(self) -> str:
        return f"{self.summary} ({self.flow_name})"

    @property
    def summary(self) -> str:
        if self.action == self.Action.RENAMED:
            return f"renamed from {self.previous_name}"
        return self.get_action_display()


class FlowDescription(models.Model):
    """A flow's optional description: wf_flow has no such column and is never altered.

    Keyed by flow id (a rename keeps it), as the revisions are.
    """

    MAX_LENGTH = 2000

    flow_id = models.BigIntegerField(unique=True)
    text = models.TextField(max_length=MAX_LENGTH, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"description of flow {self.flow_id}"
