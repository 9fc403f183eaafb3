"""/storage/: how big the run tables and wf_syslog are, and what the retention settings keep."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from flows import access
from flows.access import login_required
from runner.storage import table_sizes


@login_required
@require_GET
def storage(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_LOGS)
    context = {
        "tables": table_sizes(),
        "keep_runs_days": settings.WORKFLOW_KEEP_RUNS_DAYS,
        "keep_logs_days": settings.WORKFLOW_KEEP_LOGS_DAYS,
        "section": "storage",
    }
    return render(request, "flows/storage.html", context)
