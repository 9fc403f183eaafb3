"""The overview: every flow with its recent runs, the latest runs, the latest errors."""

from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.db import connection
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from flows import access
from flows.access import login_required
from flows.logsearch import LogsUnavailable, recent_errors
from flows.models import Flow, FlowDescription, LegacyTextField
from flows.views.runs import with_elapsed
from flows.views.schedules import WallTime, next_due_by_flow
from runner.engine import declared_inputs, parse_json
from runner.engine.references import BadReference, parse
from runner.models import Run
from schedules.models import Schedule

HISTORY = 10
CHUNK = 200  # flows per query: SQLite allows 500 SELECTs in one compound statement
# The page lists at most this many flows (one query for their runs); a search finds the others.
MAX_FLOWS = CHUNK
RECENT_RUNS = 15
# The poller's id: an HTMX request aimed at it is a refresh of the active rows, not the page.
POLLER = "overview-live"


class FlowSearchForm(forms.Form):
    q = forms.CharField(
        label="Search flows",
        required=False,
        max_length=200,
        widget=forms.SearchInput(attrs={"id": "flow-search", "placeholder": "Name or description"}),
    )


@dataclass(frozen=True)
class FlowRow:
    """One flow of the list, with what its row shows."""

    flow: Flow
    runs: list[Run]  # newest first
    description: str
    needs_input: bool  # it cannot run without input (run_needs_input): Run opens the run form
    # The earliest next due time of its enabled schedules (in that schedule's zone), and the schedule.
    next_due: tuple[WallTime, Schedule] | None = None

    @property
    def active(self) -> bool:
        return any(run.status in Run.ACTIVE for run in self.runs)


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


def run_needs_input(text: str) -> bool:
    """Whether the overview's Run opens the run form instead of starting a run without input:
    the flow declares a required input with no default; or, declaring none, its steps read
    the run input ("@_input", "@_input.key" in a step's params, read as the engine reads
    references: not "@@_input", not a key). A flow whose declared inputs all have defaults
    (or may be null) runs in one click; unreadable text needs none."""
    data = _parsed(text)
    specs = declared_inputs(data) if data is not None else None
    if specs is not None:
        return any(spec.required and not spec.has_default for spec in specs.values())
    return _reads_input(data)


def _parsed(text: str):
    try:
        return parse_json(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _reads_input(data) -> bool:
    procedures = data.get("procedures") if isinstance(data, dict) else None
    if not isinstance(procedures, list):
        return False
    pending = [step.get("params") for step in procedures if isinstance(step, dict)]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and value[:1] == "@" and value[:2] != "@@" and _root(value) == "_input":
            return True
    return False


def _root(reference: str) -> str | None:
    try:
        return parse(reference)[0]
    except BadReference:
        return None


def listed_flows(query: str) -> tuple[list[Flow], bool]:
    """The flows whose name or description contains the query (all without one), by name
    whatever the case, at most MAX_FLOWS; and whether more match."""
    # Only a definition that may need input is read from the database, to be parsed: one
    # that mentions the input, or whose declared inputs may be required. A key or reference
    # written with JSON escapes ("\u0040_input") is not seen and gets the confirmation every
    # other flow gets (its run is then refused with the reason, if it needs input).
    may_need_input = Q(flow_json__contains="@_input") | Q(flow_json__contains='"required"')
    mentions_input = When(may_need_input, then=F("flow_json"))
    flows = Flow.objects.defer("flow_json").annotate(
        input_text=Case(mentions_input, default=Value(""), output_field=LegacyTextField())
    )
    if query:
        # Ids as parameters, not a subquery: wf_flow belongs to another owner.
        described = FlowDescription.objects.filter(text__icontains=query).values_list("flow_id", flat=True)
        flows = flows.filter(Q(flow_name__icontains=query) | Q(pk__in=list(described)))
    found = list(flows.order_by(Lower("flow_name"), "flow_name")[: MAX_FLOWS + 1])
    return found[:MAX_FLOWS], len(found) > MAX_FLOWS


def flow_rows(flows: list[Flow]) -> list[FlowRow]:
    ids = [flow.pk for flow in flows]
    history = recent_runs_by_flow(ids)
    descriptions = dict(FlowDescription.objects.filter(flow_id__in=ids).values_list("flow_id", "text"))
    next_due = next_due_by_flow(ids)
    return [
        FlowRow(
            flow=flow,
            runs=history.get(flow.pk, []),
            description=descriptions.get(flow.pk, ""),
            needs_input=bool(flow.input_text) and run_needs_input(flow.input_text),
            next_due=next_due.get(flow.pk),
        )
        for flow in flows
    ]


def _ids(values: list[str]) -> set[int]:
    # The poller's own list; anything else in it is ignored, not an error.
    return {int(value) for value in values[:MAX_FLOWS] if value.isascii() and value.isdigit()}


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    search = FlowSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else None
    flows, more = listed_flows(query) if query is not None else ([], False)
    rows = flow_rows(flows)
    recent = with_elapsed(list(Run.objects.listing()[:RECENT_RUNS]))
    context = {
        "search": search,
        "query": query,
        "rows": rows,
        "more": more,
        "max_flows": MAX_FLOWS,
        "recent": recent,
        "live_ids": [row.flow.pk for row in rows if row.active] or None,
        "live": any(row.active for row in rows) or any(run.status in Run.ACTIVE for run in recent),
        "poller": POLLER,
        "section": "overview",
    }
    if request.htmx and request.htmx.target == POLLER:
        # The rows that were active at the last look (now perhaps finished) and those active now.
        refresh = _ids(request.GET.getlist("live"))
        context["rows"] = [row for row in rows if row.active or row.flow.pk in refresh]
        return render(request, "flows/overview.html#refresh", context)
    return render(request, "flows/overview.html", {**context, **_errors_context(request)})


def _errors_context(request: HttpRequest) -> dict:
    errors = logs_unavailable = None
    if request.user.has_perm(access.VIEW_LOGS):
        try:
            errors = recent_errors()
        except LogsUnavailable as err:
            errors, logs_unavailable = [], str(err)
    return {
        "errors": errors,
        "logs_unavailable": logs_unavailable,
        "errors_query": {"level": "ERROR"},  # the log viewer's filter, not this page's query
    }
