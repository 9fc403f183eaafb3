"""Run history, the live run page, cancel, re-run and resume."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from alerts.models import Notification
from alerts.outbox import may_notify
from alerts.slowness import Slowness, slowness, usual_duration, usual_step_duration
from flows import access
from flows.access import RUN_FLOWS, login_required
from flows.editing import diff_lines
from flows.forms import RunFilterForm
from flows.logsearch import LogsUnavailable, run_lines
from flows.models import Flow
from flows.views.logs import run_rows_html
from runner import resume
from runner.dispatch import hand_over, start_run
from runner.models import Run
from runner.services import CannotStart, create_resume_run, request_cancel, runnable_flow_of

RUNS_PAGE = 50
# Lines appended by one poll of the run page; a run that logs faster catches up over the next polls.
LOG_APPEND_MAX = 200


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    flow_names = list(Flow.all_objects.order_by("flow_name").values_list("flow_name", flat=True))
    form = RunFilterForm(request.GET, flow_names)
    runs = _filtered_runs(form.cleaned_data) if form.is_valid() else Run.objects.none()
    runs = list(runs[: RUNS_PAGE + 1])
    older = runs[RUNS_PAGE - 1].pk if len(runs) > RUNS_PAGE else None
    runs = with_elapsed(runs[:RUNS_PAGE])
    context = {
        "form": form,
        "runs": runs,
        "older": older,
        # While a run shown is queued or running, the list polls itself.
        "live": any(run.status in Run.ACTIVE for run in runs),
    }
    if request.htmx:
        return render(request, "runs/runs.html#run_list", context)
    return render(request, "runs/runs.html", {**context, "section": "runs"})


def _filtered_runs(data: dict):
    runs = Run.objects.listing()
    if data["flow"]:
        # The runs of the flow called that now, whatever it was called when they ran;
        # by name only for a flow no longer in wf_flow.
        flow_id = Flow.all_objects.filter(flow_name=data["flow"]).values_list("pk", flat=True).first()
        runs = runs.filter(flow_id=flow_id) if flow_id is not None else runs.filter(flow_name=data["flow"])
    if data["status"]:
        runs = runs.filter(status=data["status"])
    if data["trigger"]:
        runs = runs.filter(trigger=data["trigger"])
    if data["since"]:
        runs = runs.filter(created_at__gte=data["since"])
    if data["until"]:
        runs = runs.filter(created_at__lte=data["until"])
    if data["before"]:
        runs = runs.filter(id__lt=data["before"])
    return runs


def with_elapsed(runs: list[Run]) -> list[Run]:
    """The runs, each running one with `elapsed`, its seconds so far: what a runs table
    (runs/_table.html) shows as its duration until it has one."""
    now = timezone.now()
    for run in runs:
        if run.status == Run.Status.RUNNING and run.started_at is not None:
            run.elapsed = max((now - run.started_at).total_seconds(), 0)
    return runs


@login_required
@require_GET
def run_flow(request: HttpRequest, run_id: int) -> HttpResponse:
    """The page of a run's flow, found by id under its current name: the runs tables link
    here, so they need not look up every flow's name. A flow no longer in wf_flow leaves its
    runs: the runs list filtered by its name, unless another flow has taken that name."""
    run = access.get_run(request, run_id)
    current = Flow.all_objects.filter(pk=run.flow_id).first() if run.flow_id is not None else None
    if current is not None:
        return redirect("wf-flow", name=current.flow_name)
    if Flow.all_objects.filter(flow_name=run.flow_name).exists():
        return redirect("wf-run", run_id=run.pk)  # it says what became of the flow
    return redirect(reverse("wf-runs") + "?" + urlencode({"flow": run.flow_name}))


def _timeline(run: Run, steps: list) -> list[dict]:
    """Each step with its bar: offset and width as percentages of the run's time so far."""
    now = timezone.now()
    start = run.started_at or (steps[0].started_at if steps else now)
    end = run.finished_at or now
    total = max((end - start).total_seconds(), 0.001)
    bars = []
    for step in steps:
        elapsed = step.duration
        if elapsed is None:
            elapsed = max((end - step.started_at).total_seconds(), 0)
        offset = max((step.started_at - start).total_seconds(), 0)
        bars.append(
            {
                "step": step,
                "elapsed": elapsed,
                "left": min(offset / total * 100, 100),
                "width": max(min(elapsed / total * 100, 100 - offset / total * 100), 0.5),
            }
        )
    return bars


def _procedures(definition: str) -> list[dict]:
    try:
        procedures = json.loads(definition).get("procedures", [])
        return [p if isinstance(p, dict) else {} for p in procedures]
    except (ValueError, AttributeError, TypeError):
        return []


def _planned_steps(procedures: list[dict]) -> list[str]:
    return [str(p.get("name", f"#{i}")) for i, p in enumerate(procedures)]


def _with_attempts(steps: list, procedures: list[dict]) -> list:
    """The steps, each with `max_attempts` (its retry policy's, else None) and `failures`: what
    the page says of each attempt that did not end the step."""
    for step in steps:
        retry = procedures[step.index].get("retry") if step.index < len(procedures) else None
        step.max_attempts = retry.get("max_attempts") if isinstance(retry, dict) else None
        step.failures = [_attempt_line(entry, step.max_attempts) for entry in step.attempt_log or []]
    return steps


def _attempt_line(entry, max_attempts) -> str:
    """A failed attempt's line: attempt 2 of 3 failed: ConnectionError: ...; retrying in 20 s."""
    if not isinstance(entry, dict):
        return str(entry)
    of = f" of {max_attempts}" if max_attempts else ""
    line = f"attempt {entry.get('number', '?')}{of} failed: {entry.get('error') or 'unknown error'}"
    delay = entry.get("delay")
    if isinstance(delay, int | float):
        line += f"; retrying in {delay:.0f} s" if delay >= 10 else f"; retrying in {delay:.1f} s"
    return line


def _status_context(run: Run, request: HttpRequest) -> dict:
    """What the status block shows: it is re-sent every second while the run goes."""
    procedures = _procedures(run.definition)
    steps = _with_attempts(list(run.steps.order_by("index")), procedures)
    planned = _planned_steps(procedures)
    context = run.context if isinstance(run.context, dict) else {}
    step_order = {name: i for i, name in enumerate(planned)}
    results = sorted(context.items(), key=lambda item: (item[0].startswith("_"), step_order.get(item[0], 0)))
    return {
        "run": run,
        "bars": _timeline(run, steps),
        "not_started": planned[len(steps) :],
        "results": results,
        "can_run": request.user.has_perm(RUN_FLOWS),
        "chain": resume.resume_chain(run),
        "slow": _slowness(run),
        "step_slow": _step_slowness(run, steps),
        **_resume_offer(run),
    }


def _slowness(run: Run) -> Slowness | None:
    """Whether a running run is slow (more than three times its flow's usual duration): one
    query, for running runs only, computed once per request of the status block."""
    if run.status != Run.Status.RUNNING or run.started_at is None:
        return None
    return slowness(run.started_at, usual_duration(run.flow_id), timezone.now())


def _step_slowness(run: Run, steps: list) -> tuple[str, Slowness] | None:
    """The running step, with how slow it is when it is going for more than three times its
    usual duration: two queries, for a running run with a running step only."""
    if run.status != Run.Status.RUNNING:
        return None
    step = next((step for step in reversed(steps) if step.status == "running"), None)
    if step is None:
        return None
    slow = slowness(step.started_at, usual_step_duration(run.flow_id, step.name), timezone.now())
    return (step.name, slow) if slow is not None else None


def _notifications(run: Run) -> list[Notification]:
    """The run's notifications, each with its delivery attempts: two queries, none for a run
    whose definition has no notify rule (most runs)."""
    if not may_notify(run.definition):
        return []
    return list(Notification.objects.filter(run_id=run.pk).order_by("id").prefetch_related("deliveries"))


def _resume_offer(run: Run) -> dict:
    """What the page offers to resume a finished, unsuccessful run: the step it would resume
    from, or why it cannot; and whether the current definition may be used, or how it differs
    before that step."""
    if not run.is_finished or run.status == Run.Status.SUCCEEDED:
        return {}
    try:
        point = resume.resumable(run)
    except resume.CannotResume as err:
        return {"resume_refused": str(err)}
    current = Flow.all_objects.filter(pk=run.flow_id).first() if run.flow_id is not None else None
    if current is None:
        return {"resume_refused": f"run {run.pk} cannot be resumed: its flow no longer exists"}
    differences = resume.changed_steps(run.definition, current.flow_json, point.index)
    same = current.flow_json == run.definition
    return {"resume_point": point, "current_differences": differences, "current_is_same": same}


def _log_context(run: Run, lines: list, after: int, more: bool, unavailable: str | None) -> dict:
    """The log poller: its cursor, and whether to go on polling. The worker writes a run's
    last lines before it records the end, so once a read sees the run finished, lines read
    after that are all there are."""
    return {
        "run": run,
        "log_lines": lines,
        "log_rows": run_rows_html(lines, run.pk),
        "after": lines[-1].id if lines else after,
        "logs_unavailable": unavailable,
        # While the table is unavailable the poller keeps its cursor and tries again.
        "logs_live": not run.is_finished or more or unavailable is not None,
    }


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access.get_run(request, run_id)
    # The flow the run belonged to, by id: it may have been renamed or deleted since, and
    # another flow may have taken its old name.
    current = Flow.all_objects.filter(pk=run.flow_id).first() if run.flow_id is not None else None
    diff = reformatted = None
    if current is not None:
        diff, reformatted = diff_lines(run.definition, current.flow_json, f"run {run.pk}", "current")
    lines, truncated, unavailable = [], False, None
    try:
        lines, truncated = run_lines(run)
    except LogsUnavailable as err:
        unavailable = str(err)
    context = {
        **_status_context(run, request),
        **_log_context(run, lines, 0, False, unavailable),
        "logs_truncated": truncated,
        "logs_query": {"run": run.pk},  # the log viewer's filter, not this page's query
        "current": current,
        "diff": diff,
        "reformatted": reformatted,
        "notifications": _notifications(run),
        # A run's sub-flows are few (one per flow.Flow.run step): listed whole, ids only read.
        "subflow_runs": Run.objects.filter(parent_run_id=run.pk)
        .only("pk", "flow_name", "status")
        .order_by("pk"),
        "messages": _messages_but_confirmations(request),
        "section": "runs",
    }
    return render(request, "runs/run.html", context)


def _messages_but_confirmations(request: HttpRequest) -> list:
    """The messages to show above a run: all but the success messages. Only starting a run,
    re-running and cancelling lead here with one, and the status block says the same and
    keeps it current, where a "Run 4 is queued" banner would stay above a run that has since
    failed. Reading them consumes them all; errors and notes stay on the page."""
    return [message for message in messages.get_messages(request) if message.level != messages.SUCCESS]


@login_required
@require_GET
def run_status(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access.get_run(request, run_id)
    return render(request, "runs/run.html#live", _status_context(run, request))


@login_required
@require_GET
def run_logs(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run's lines after `?after=<id>`, oldest first, to append to the run page's table,
    and the poller with the next cursor (out of band)."""
    run = access.get_run(request, run_id)
    after = request.GET.get("after", "")
    # A BIGINT id: a longer number would fail in the database rather than match nothing.
    if not after.isdecimal() or len(after) > 18:
        return HttpResponse("No after=<id>.", status=400, content_type="text/plain")
    after = int(after)
    lines, more, unavailable = [], False, None
    try:
        lines, more = run_lines(run, limit=LOG_APPEND_MAX, after=after)
    except LogsUnavailable as err:
        unavailable = str(err)
    return render(request, "runs/run.html#log_append", _log_context(run, lines, after, more, unavailable))


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access.get_run(request, run_id, RUN_FLOWS)
    if run.is_finished:
        messages.info(request, f"Run {run.pk} had already {run.status}.")
    else:
        run = request_cancel(run.pk)
        if run.status == Run.Status.CANCELLED:
            messages.success(request, f"Run {run.pk} was cancelled before it started.")
        else:
            messages.success(request, f"Run {run.pk} will stop after its current step.")
    return redirect("wf-run", run_id=run.pk)


@login_required
@require_POST
def run_resume(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access.get_run(request, run_id, RUN_FLOWS)
    current_definition = request.POST.get("definition") == "current"
    try:
        new = create_resume_run(
            run,
            current_definition=current_definition,
            triggered_by=request.user.get_username(),
            on_created=hand_over,
        )
    except (resume.CannotResume, CannotStart) as err:
        # The page shows the reason (and any difference in the definition) again, from the run.
        messages.error(request, f"Not resumed: {err}")
        return redirect("wf-run", run_id=run.pk)
    messages.success(request, f"Run {new.pk} queued: it resumes run {run.pk}.")
    return redirect("wf-run", run_id=new.pk)


@login_required
@require_POST
def run_rerun(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access.get_run(request, run_id, RUN_FLOWS)
    try:
        flow = runnable_flow_of(run)
        new = start_run(flow, input=run.input, trigger="web", triggered_by=request.user.get_username())
    except CannotStart as err:
        messages.error(request, f"Not started: {err}")
        return redirect("wf-run", run_id=run.pk)
    messages.success(request, f"Run {new.pk} queued with the input of run {run.pk}.")
    return redirect("wf-run", run_id=new.pk)
