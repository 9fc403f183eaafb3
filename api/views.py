"""The HTTP API, /api/v1/ (django-ninja): flows, runs and their logs as JSON.

Every answer is JSON, refusals included (api.errors). The OpenAPI document is
/api/v1/openapi.json and its browsable page /api/v1/docs (api.docs). docs/api.md has the
choices.
"""

import base64
import binascii
import json
import time
from datetime import UTC, datetime
from typing import Annotated

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from ninja import Header, NinjaAPI, Path, Query, Status

from api import docs, errors, starts
from api.auth import RUN, WRITE, BearerToken, DashboardSession, require
from api.errors import ApiError, not_found
from api.schemas import (
    DefinitionIn,
    Error,
    FlowOut,
    FlowPage,
    LogPage,
    ResumeIn,
    Rfc3339,
    RunOut,
    RunPage,
    RunStatus,
    StartIn,
    Validation,
)
from flows.access import CHANGE_FLOWS, RUN_FLOWS, VIEW_FLOWS, VIEW_LOGS
from flows.editing import FlowMoved, InvalidDefinition, StaleEdit, json_hash, save_definition
from flows.logsearch import LogsUnavailable, run_lines
from flows.models import Flow, FlowDescription, FlowRevision
from runner import dispatch, resume, services
from runner.jsonsafe import depth_of
from runner.models import Run
from runner.outcome import run_document
from runner.validation import MAX_LISTED, flow_diagnostics

__all__ = ["api", "not_found"]  # what api/urls.py takes

MAX_ID = 2**63 - 1  # BIGINT: a larger number would fail in the database, not match nothing
FLOWS_PAGE, FLOWS_PAGE_MAX = 50, 200
RUNS_PAGE, RUNS_PAGE_MAX = 50, 200
LOGS_PAGE, LOGS_PAGE_MAX = 100, 500
# A valid definition nests about 104 levels at most (params may nest 100); a deeper one is
# refused before it is pretty-printed, whose indentation grows with the square of the depth.
MAX_DEFINITION_DEPTH = 128
# ?wait=N polls the run this often, starting fast for runs that end quickly.
WAIT_FIRST_POLL, WAIT_MAX_POLL = 0.25, 1.0
# The clock of ?wait, replaced by the tests.
clock, sleep = time.monotonic, time.sleep


class WorkflowApi(NinjaAPI):
    """NinjaAPI whose every URL answers JSON: /api/v1/ itself is a 404 (ninja's is an HTML
    page), and a method a path does not take is a 405 with a message."""

    def _get_urls(self):
        patterns = [pattern for pattern in super()._get_urls() if pattern.name != "api-root"]
        for pattern in patterns:
            pattern.callback = errors.json_not_allowed(pattern.callback)
        return [*patterns, path("", not_found, name="api-root")]


api = WorkflowApi(
    title="Workflow API",
    version="1",
    description="Flows, runs and their logs. Authenticate with `Authorization: Bearer <token>`"
    " (a personal token, made on the dashboard's Tokens page or with `manage.py apitoken`).",
    urls_namespace="api-v1",
    auth=[BearerToken(), DashboardSession()],
    docs=docs.LocalSwagger(),
    docs_decorator=docs.docs_view,
    parser=errors.JsonBody(),
)
errors.install(api)

AUTH = {401: Error, 403: Error}
READ_ERRORS = {**AUTH, 404: Error, 422: Error}
BODY_ERRORS = {400: Error, **READ_ERRORS, 413: Error}

FlowName = Annotated[
    str, Path(min_length=1, description="the flow's name, percent-encoded", examples=["example"])
]
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
Cursor = Annotated[str | None, Query(max_length=100, description="the `next` of the previous page")]


# Flows


def _flow(name: str) -> Flow:
    flow = Flow.objects.filter(flow_name=name).first()
    if flow is None:
        raise ApiError(404, f"no flow named {name!r}")
    return flow


def _etag(flow: Flow) -> str:
    return f'"{json_hash(flow.flow_json or "")}"'


def _flow_document(flow: Flow) -> dict:
    definition, error = flow.parse_definition()
    if error is None and not isinstance(definition, dict):
        definition, error = None, "the definition is not a JSON object"
    inputs = definition.get("inputs") if definition is not None else None
    revisions = FlowRevision.objects.filter(flow_id=flow.pk).order_by("-number")
    return {
        "name": flow.flow_name,
        "enabled": bool(flow.enabled),
        "definition": definition,
        "json_error": error,
        "inputs": inputs if isinstance(inputs, dict) else {},
        "revision": revisions.values_list("number", flat=True).first(),
        "etag": _etag(flow),
    }


@api.get("/flows", response={200: FlowPage, **READ_ERRORS}, tags=["flows"])
def list_flows(
    request: HttpRequest,
    limit: Annotated[int, Query(ge=1, le=FLOWS_PAGE_MAX)] = FLOWS_PAGE,
    cursor: Cursor = None,
):
    """The flows (not the deleted ones) by id, each with its newest run."""
    require(request, VIEW_FLOWS)
    flows = Flow.objects.order_by("id")
    if cursor is not None:
        flows = flows.filter(id__gt=_cursor_value(cursor, "flows"))
    newest = Run.objects.filter(flow_id=OuterRef("pk")).order_by("-id").values("pk")[:1]
    page = list(flows.annotate(last_run_id=Subquery(newest)).only("id", "flow_name", "enabled")[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    ids = [flow.pk for flow in page]
    descriptions = dict(FlowDescription.objects.filter(flow_id__in=ids).values_list("flow_id", "text"))
    run_ids = [flow.last_run_id for flow in page if flow.last_run_id is not None]
    runs = {run.pk: run for run in Run.objects.filter(pk__in=run_ids).only("id", "status", "created_at")}
    items = [
        {
            "name": flow.flow_name,
            "enabled": bool(flow.enabled),
            "description": descriptions.get(flow.pk, ""),
            "last_run": _last_run(runs.get(flow.last_run_id)),
        }
        for flow in page
    ]
    return {"items": items, "next": _cursor("flows", page[-1].pk) if more else None}


def _last_run(run: Run | None) -> dict | None:
    if run is None:
        return None
    return {"run_id": run.pk, "status": run.status, "created_at": run.created_at.isoformat()}


@api.get("/flows/{name}", response={200: FlowOut, **READ_ERRORS}, tags=["flows"])
def get_flow(request: HttpRequest, response: HttpResponse, name: FlowName):
    """A flow's definition, its declared inputs, newest revision and ETag (also the header)."""
    require(request, VIEW_FLOWS)
    document = _flow_document(_flow(name))
    response["ETag"] = document["etag"]
    return document


@api.put(
    "/flows/{name}",
    response={200: FlowOut, **BODY_ERRORS, 409: Error, 412: Error, 428: Error},
    tags=["flows"],
)
def put_flow(
    request: HttpRequest,
    response: HttpResponse,
    body: DefinitionIn,
    name: FlowName,
    if_match: Annotated[
        str | None, Header(alias="If-Match", description="the ETag of the version this changes")
    ] = None,
):
    """Replace a flow's definition (stored pretty-printed), as a new revision. Needs If-Match
    with the ETag of the version it changes: 428 without it, 412 when the flow changed."""
    caller = require(request, VIEW_FLOWS, CHANGE_FLOWS, scope=WRITE)
    flow = _flow(name)
    if if_match is None:
        raise ApiError(428, "send If-Match with the flow's ETag (from GET), so no one's change is lost")
    current = json_hash(flow.flow_json or "")
    if not _etag_matches(if_match, current):
        raise ApiError(412, f"flow {flow.flow_name!r} changed since that ETag: GET it again, then retry")
    text = _definition_text(body.definition)
    # The same definition again changes nothing and makes no revision.
    if text != flow.flow_json:
        try:
            save_definition(flow, text, base_hash=current, user=caller.user.get_username(), note="api")
        except InvalidDefinition as err:
            raise ApiError(422, str(err), diagnostics=_diagnostics(err.diagnostics)) from err
        except StaleEdit as err:
            raise ApiError(412, str(err)) from err
        except FlowMoved as err:
            raise ApiError(409, str(err)) from err
        flow = Flow.all_objects.get(pk=flow.pk)
    document = _flow_document(flow)
    response["ETag"] = document["etag"]
    return document


def _definition_text(definition: dict) -> str:
    """The definition as the flow stores it: pretty-printed JSON, as someone editing it by
    hand keeps it, with its non-ASCII text as it is."""
    if depth_of(definition, MAX_DEFINITION_DEPTH + 1) > MAX_DEFINITION_DEPTH:
        raise ApiError(422, f"the definition is nested deeper than {MAX_DEFINITION_DEPTH} levels")
    text = json.dumps(definition, indent=2, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ApiError(422, "the definition holds text that is not valid Unicode (a lone surrogate)") from err
    return text


def _etag_matches(header: str, current: str) -> bool:
    # If-Match compares strongly: a weak tag (W/"...") never matches; "*" matches any version.
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or f'"{current}"' in tags


def _diagnostics(diagnostics: list) -> list[dict]:
    # At most the editor's number: a 5 MB definition can hold a million problems.
    listed = diagnostics[:MAX_LISTED]
    return [{"code": d.code, "path": d.path, "message": d.message, "step": d.step} for d in listed]


@api.post("/validate", response={200: Validation, **AUTH, 400: Error, 413: Error, 422: Error}, tags=["flows"])
def validate(request: HttpRequest, body: DefinitionIn):
    """A definition's problems, as saving it would find them; nothing is saved. At most 100
    diagnostics are listed."""
    require(request, VIEW_FLOWS)
    diagnostics = flow_diagnostics(_definition_text(body.definition))
    return {"valid": not diagnostics, "diagnostics": _diagnostics(diagnostics)}


# Runs


@api.post(
    "/flows/{name}/runs",
    response={200: RunOut, 201: RunOut, **BODY_ERRORS, 409: Error, 503: Error},
    tags=["runs"],
)
def start_run(
    request: HttpRequest,
    response: HttpResponse,
    name: FlowName,
    body: StartIn | None = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=starts.MAX_KEY_LENGTH,
            description="the same key and body within 24 hours answer the same run (200), not a new one",
        ),
    ] = None,
):
    """Queue a run of the flow (trigger "api") with `input` (default {}): 201 and the run."""
    caller = require(request, VIEW_FLOWS, RUN_FLOWS, scope=RUN)
    flow = _flow(name)
    input = body.input if body is not None else {}
    if problem := services.input_problem(input):
        raise ApiError(422, problem, problems=[problem])
    try:
        started = starts.start(
            flow, input=input, triggered_by=caller.label, key=idempotency_key, on_created=dispatch.hand_over
        )
    except starts.KeyReused as err:
        raise ApiError(409, str(err), run_id=err.run_id) from err
    except starts.NotRunnable as err:
        raise ApiError(409, str(err)) from err
    except services.Skipped as err:
        raise ApiError(409, str(err), run_id=err.active_run_id) from err
    except services.BadInput as err:
        raise ApiError(422, str(err), problems=err.problems) from err
    except services.CannotStart as err:
        if err.diagnostics:
            raise ApiError(422, str(err), diagnostics=_diagnostics(err.diagnostics)) from err
        # The input was checked above: what is left is the queue refusing the run.
        raise ApiError(503, str(err)) from err
    response["Location"] = _run_url(started.run)
    return Status(201 if started.created else 200, run_document(started.run))


def _run_url(run: Run) -> str:
    return reverse("api-v1:get_run", kwargs={"run_id": run.pk})


def _run(run_id: int) -> Run:
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        raise ApiError(404, f"no run {run_id}")
    return run


@api.get("/runs", response={200: RunPage, **READ_ERRORS}, tags=["runs"])
def list_runs(
    request: HttpRequest,
    flow: Annotated[str | None, Query(max_length=255, description="the flow's current name")] = None,
    status: Annotated[RunStatus | None, Query()] = None,
    trigger: Annotated[str | None, Query(max_length=16, description="api, web, cli, schedule, ...")] = None,
    since: Annotated[Rfc3339 | None, Query(description="runs queued at or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=RUNS_PAGE_MAX)] = RUNS_PAGE,
    cursor: Cursor = None,
):
    """Runs, newest first, without their input, context and steps (GET /runs/{id} has them)."""
    require(request, VIEW_FLOWS)
    runs = Run.objects.listing()
    if flow is not None:
        # The runs of the flow called that now, whatever it was called when they ran; by
        # name only for a flow no longer in wf_flow (as the dashboard's filter).
        flow_id = Flow.all_objects.filter(flow_name=flow).values_list("pk", flat=True).first()
        runs = runs.filter(flow_id=flow_id) if flow_id is not None else runs.filter(flow_name=flow)
    if status is not None:
        runs = runs.filter(status=status)
    if trigger is not None:
        runs = runs.filter(trigger=trigger)
    if since is not None:
        runs = runs.filter(created_at__gte=_aware(since))
    if cursor is not None:
        runs = runs.filter(id__lt=_cursor_value(cursor, "runs"))
    page = list(runs[: limit + 1])
    more, page = len(page) > limit, page[:limit]
    return {"items": [_summary(run) for run in page], "next": _cursor("runs", page[-1].pk) if more else None}


def _aware(moment: datetime) -> datetime:
    """The time in UTC; 422 when it has none (a time near year 1 or 9999 with its offset)."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError) as err:
        raise ApiError(422, f"since is out of range: {err}") from err


def _summary(run: Run) -> dict:
    """A run of a list: run_document without the input, context and steps, which may be
    megabytes per run (Run.objects.listing() does not even read them)."""
    return {
        "run_id": run.pk,
        "flow": run.flow_name,
        "status": run.status,
        "error": run.error or None,
        "failed_step": run.failed_step or None,
        "trigger": run.trigger,
        "triggered_by": run.triggered_by,
        "resumed_from": run.resumed_from_id,
        "parent_run": run.parent_run_id,
        "schedule_id": run.schedule_id,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration": run.duration,
    }


@api.get("/runs/{run_id}", response={200: RunOut, **READ_ERRORS}, tags=["runs"], url_name="get_run")
def get_run(
    request: HttpRequest,
    run_id: RunId,
    wait: Annotated[
        int,
        Query(
            ge=0,
            le=settings.WORKFLOW_API_MAX_WAIT_SECONDS,
            description="hold the answer up to this many seconds until the run has ended",
        ),
    ] = 0,
):
    """The run: status, input, context, error, steps, who started it and when. With ?wait=N
    the answer comes when the run ends, or after N seconds with the run as it is then."""
    require(request, VIEW_FLOWS)
    run = _run(run_id)
    if wait and not run.is_finished:
        run = _wait_for_end(run_id, wait)
    return run_document(run)


def _wait_for_end(run_id: int, seconds: float) -> Run:
    """The run once it has ended, or as it is when `seconds` have passed. Between two reads the
    request holds no database connection: a client waiting a minute must not hold one of the
    database's few connections for that minute."""
    deadline = clock() + seconds
    interval = WAIT_FIRST_POLL
    while True:
        left = deadline - clock()
        if left <= 0:
            return _run(run_id)
        _release_connection()
        sleep(min(interval, left))
        interval = min(interval * 2, WAIT_MAX_POLL)
        run = _run(run_id)
        if run.is_finished:
            return run


def _release_connection() -> None:
    # Inside a transaction (a test's) the connection must stay: closing it would end the
    # transaction. Otherwise the next query opens a new one.
    if not connection.in_atomic_block:
        close_old_connections()
        connection.close()


@api.post("/runs/{run_id}/cancel", response={200: RunOut, **READ_ERRORS, 409: Error}, tags=["runs"])
def cancel_run(
    request: HttpRequest,
    run_id: RunId,
    now: Annotated[
        bool, Query(description="stop the running step at once, without the grace period")
    ] = False,
):
    """Cancel a run: a queued one never starts (it is cancelled at once), a running one stops
    before its next step. Cancelling a cancelled run again answers it; an ended one is 409."""
    require(request, VIEW_FLOWS, RUN_FLOWS, scope=RUN)
    run = _run(run_id)
    if run.is_finished and run.status != Run.Status.CANCELLED:
        raise ApiError(409, f"run {run.pk} has already {run.status}", run_id=run.pk)
    if not run.is_finished:
        run = services.request_cancel(run.pk, now=now)
    return run_document(run)


@api.post("/runs/{run_id}/resume", response={201: RunOut, **BODY_ERRORS, 409: Error}, tags=["runs"])
def resume_run(request: HttpRequest, response: HttpResponse, run_id: RunId, body: ResumeIn | None = None):
    """A new run resuming a failed, cancelled or lost run from its failed step, reusing the
    results of the steps before it: 201 and the new run."""
    caller = require(request, VIEW_FLOWS, RUN_FLOWS, scope=RUN)
    run = _run(run_id)
    current = body.current_definition if body is not None else False
    try:
        new = services.create_resume_run(
            run, current_definition=current, triggered_by=caller.label, on_created=dispatch.hand_over
        )
    except resume.CannotResume as err:
        raise ApiError(409, str(err), run_id=run.pk, problems=err.differences or None) from err
    response["Location"] = _run_url(new)
    return Status(201, run_document(new))


@api.get("/runs/{run_id}/logs", response={200: LogPage, **READ_ERRORS, 503: Error}, tags=["runs"])
def run_logs(
    request: HttpRequest,
    run_id: RunId,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the id of the last line already read")] = 0,
    limit: Annotated[int, Query(ge=1, le=LOGS_PAGE_MAX)] = LOGS_PAGE,
):
    """The run's log lines after `after`, oldest first. Follow a live run by passing `next`
    as `after` until `next` is null (the run has ended and every line was read)."""
    require(request, VIEW_FLOWS, VIEW_LOGS)
    # The run is read before its lines: the worker writes a run's last lines before it records
    # its end, so when this read sees the run ended, the lines read next are all there are.
    run = _run(run_id)
    try:
        lines, more = run_lines(run, limit=limit, after=after)
    except LogsUnavailable as err:
        raise ApiError(503, f"the log table cannot be read now: {err}") from err
    items = [
        {
            "id": line.id,
            "time": line.created_at.isoformat(),
            "level": line.level,
            "logger": line.logger_name,
            "message": line.message,
        }
        for line in lines
    ]
    following = more or not run.is_finished
    return {"items": items, "next": (lines[-1].id if lines else after) if following else None}


# Cursors: opaque to clients (base64 of "kind:id"), so the keyset can change without breaking them.


def _cursor(kind: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def _cursor_value(cursor: str, kind: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        text = ""
    found_kind, _, number = text.partition(":")
    if found_kind != kind or not number.isascii() or not number.isdigit() or len(number) > 18:
        raise ApiError(422, "the cursor is not one this API gave out: pass the `next` of the previous page")
    return int(number)


@api.get("/docs/{name}", auth=None, include_in_schema=False, url_name="docs-file")
def docs_file(request: HttpRequest, name: str):
    """A file of the docs page (api.docs), from the django-ninja package."""
    response = docs.file_response(name)
    if response is None:
        raise ApiError(404, f"no docs file {name!r}")
    return response
