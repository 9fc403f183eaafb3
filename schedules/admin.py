from django.contrib import admin

from schedules.models import Schedule, Tick
from workflow_site.admin_base import ReadOnlyAdmin


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    """Read-only here: schedules are edited on the flow page or with `manage.py schedule`,
    which apply the rules (cron, zone, input) and compute the next due time."""

    list_display = ("id", "flow_id", "cron", "timezone", "enabled", "overlap", "catch_up", "next_due")
    list_filter = ("enabled", "overlap", "catch_up")


@admin.register(Tick)
class TickAdmin(ReadOnlyAdmin):
    list_display = ("id", "schedule_id", "flow_id", "due", "outcome", "run_id", "detail")
    list_filter = ("outcome",)
