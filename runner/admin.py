"""Run records and the database queue's tasks in the Django admin: read-only, since only
workers write them."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from runner.models import Run, RunStep
from workflow_site.admin_base import CappedCountPaginator, ReadOnlyAdmin


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = ["index", "name", "status", "started_at", "duration", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["id", "flow_name", "status", "trigger", "triggered_by", "created_at", "finished_at"]
    # Static choices only: a free field filter would SELECT DISTINCT over the whole history.
    list_filter = ["status"]
    search_fields = ["=flow_name"]
    inlines = [RunStepInline]
    fields = [
        "dashboard_link", "flow_name", "flow_id", "status", "trigger", "triggered_by", "created_at",
        "started_at", "finished_at", "worker", "heartbeat_at", "cancel_requested", "input", "error",
        "failed_step", "traceback_block", "context", "definition", "log_first_id", "log_last_id",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="dashboard")
    def dashboard_link(self, run: Run) -> str:
        return format_html('<a href="{}">open the run page</a>', reverse("wf-run", args=[run.pk]))

    @admin.display(description="traceback")
    def traceback_block(self, run: Run) -> str:
        return format_html("<pre>{}</pre>", run.traceback) if run.traceback else "—"


# The library's admin is read-only already; it also counts the whole table and filters by
# columns whose choices are a SELECT DISTINCT over it. The queue holds one row per run.
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_filter = ["status"]
