"""The overview: every flow with its recent runs, the latest runs, the latest errors."""

from collections import defaultdict

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from flows import access
from flows.access import login_required
from flows.logsearch import LogsUnavailable, recent_errors
from flows.models import Flow
from runner.models import Run

HISTORY = 10
CHUNK = 200  # flows per query: SQLite allows 500 SELECTs in one compound statement


def recent_runs_by_flow(flow_ids: list[int], per_flow: int = HISTORY) -> dict[int, list[Run]]:
    """The newest runs of each flow (by id: a renamed flow keeps its runs), newest first: one
    query per CHUNK flows.

    "Top N per group" as a UNION ALL of one index range per flow (run_flow_id_recent), so the
    cost follows the number of flows, not the length of the history. Ids are parameters,
    never joined across tables (wf_flow belongs to another owner).
    """
    table = connection.ops.quote_name(Run._meta.db_table)
    columns = "id, flow_id, flow_name, status, created_at, started_at, finished_at"
    found: dict[int, list[Run]] = defaultdict(list)
    for start in range(0, len(flow_ids), CHUNK):
        chunk = flow_ids[start : start + CHUNK]
        parts = [
            f"SELECT * FROM (SELECT {columns} FROM {table} WHERE flow_id = %s"
            f" ORDER BY id DESC LIMIT {int(per_flow)}) t{i}"
            for i in range(len(chunk))
        ]
        for run in Run.objects.raw(" UNION ALL ".join(parts), chunk):
            found[run.flow_id].append(run)
    return {flow_id: sorted(runs, key=lambda r: r.pk, reverse=True) for flow_id, runs in found.items()}


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    flows = list(Flow.objects.defer("flow_json").order_by("flow_name"))
    history = recent_runs_by_flow([flow.pk for flow in flows])
    rows = [(flow, history.get(flow.pk, [])) for flow in flows]
    errors = logs_unavailable = None
    if request.user.has_perm(access.VIEW_LOGS):
        try:
            errors = recent_errors()
        except LogsUnavailable as err:
            errors, logs_unavailable = [], str(err)
    context = {
        "rows": rows,
        "recent": Run.objects.listing()[:15],
        "errors": errors,
        "logs_unavailable": logs_unavailable,
        "errors_query": {"level": "ERROR"},  # the log viewer's filter, not this page's query
        "section": "overview",
    }
    return render(request, "flows/overview.html", context)
