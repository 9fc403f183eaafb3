"""The flow pages: editor with live validation, saving, state changes, revisions, run form."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flows import access
from flows.access import CHANGE_FLOWS, RUN_FLOWS, login_required
from flows.diagram import flow_diagram
from flows.editing import (
    FlowMoved,
    InvalidDefinition,
    NameTaken,
    StaleEdit,
    clean_text,
    create_flow,
    diff_lines,
    json_hash,
    rename_flow,
    save_definition,
    set_enabled,
)
from flows.forms import NewFlowForm, RenameFlowForm, RunInputForm, parse_run_input
from flows.models import Flow, FlowRevision
from runner.dispatch import start_run
from runner.models import Run
from runner.services import CannotStart, runnable_flow
from runner.validation import flow_analysis

REVISIONS_PAGE = 50


def _analysis(text: str) -> dict:
    """Diagnostics and diagram of a definition, as the editor shows them beside the text:
    one validation, whose step outlines the diagram draws, with both lists capped."""
    analysis = flow_analysis(text)
    return {
        "diagnostics": analysis.diagnostics,
        "error_count": analysis.problem_count if analysis.definition is None else 0,
        "diagnostics_not_shown": analysis.problem_count - len(analysis.diagnostics),
        "diagram": flow_diagram(analysis),
    }


def _editor_context(request: HttpRequest, flow: Flow, **overrides) -> dict:
    context = {
        "flow": flow,
        "text": flow.flow_json,
        "base": json_hash(flow.flow_json),
        "run_form": RunInputForm(),
        "can_change": request.user.has_perm(CHANGE_FLOWS) and not flow.deleted,
        "can_run": request.user.has_perm(RUN_FLOWS),
        # By id: a renamed flow keeps its runs, and a new flow under an old name starts empty.
        "runs": Run.objects.listing().filter(flow_id=flow.pk)[:10],
        "revisions": FlowRevision.objects.filter(flow_id=flow.pk).defer("flow_json").order_by("-id")[:10],
        "rename_form": RenameFlowForm(initial={"new_name": flow.flow_name}),
        "runs_query": {"flow": flow.flow_name},  # the run list's filter, not this page's query
        **overrides,
    }
    context.update(_analysis(context["text"]))
    return context


@login_required
@require_GET
def flow_detail(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, deleted=None)
    return render(request, "flows/flow.html", _editor_context(request, flow))


@login_required
@require_POST
def flow_validate(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, deleted=None)
    text = clean_text(request.POST.get("flow_json", ""))
    if request.htmx:
        return render(request, "flows/flow.html#analysis", _analysis(text))
    # Without JavaScript, the "Check" button lands here: the whole editor, text kept.
    base = request.POST.get("base", "")
    return render(request, "flows/flow.html", _editor_context(request, flow, text=text, base=base))


def _edited_flow(request: HttpRequest, name: str) -> Flow | None:
    """The flow an editor was opened on, as it is now: by the id the editor posts (so a flow
    renamed meanwhile is still found, and a new flow that took its name is not taken for it),
    else by name."""
    flow_id = request.POST.get("flow_id", "")
    if flow_id.isascii() and flow_id.isdigit() and len(flow_id) <= 18:
        return Flow.all_objects.filter(pk=int(flow_id)).first()
    return Flow.all_objects.filter(flow_name=name).first()


def _edit_left_behind(
    request: HttpRequest, name: str, flow: Flow | None, text: str, base: str
) -> HttpResponse:
    """The flow was deleted, renamed or removed while its editor was open: nothing is saved,
    and the user gets their text back with what happened."""
    if flow is None:
        messages.error(
            request,
            f"Not saved: the flow {name!r} no longer exists (it was removed while you edited it). "
            "Your text is kept below: create a new flow with it, or copy it.",
        )
        form = NewFlowForm(initial={"flow_name": name, "flow_json": text})
        context = {"form": form, "section": "overview", **_analysis(text)}
        return render(request, "flows/new_flow.html", context, status=404)
    if flow.deleted:
        messages.error(
            request,
            f"Not saved: {flow.flow_name!r} was deleted while you edited it. Your text is kept below: "
            "copy it, or restore the flow and save it again, or create a new flow with it.",
        )
    else:
        messages.error(
            request,
            f"Not saved: this flow was renamed from {name!r} to {flow.flow_name!r} while you edited it. "
            "Your text is kept below: save again to store it under the new name.",
        )
    context = _editor_context(request, flow, text=text, base=base)
    return render(request, "flows/flow.html", context, status=409)


@login_required
@require_POST
def flow_save(request: HttpRequest, name: str) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS, CHANGE_FLOWS)
    text = clean_text(request.POST.get("flow_json", ""))
    # "overwrite" comes from the conflict screen's explicit button: the version the user
    # has now seen the diff against.
    base = request.POST.get("overwrite") or request.POST.get("base", "")
    flow = _edited_flow(request, name)
    if flow is None or flow.deleted or flow.flow_name != name:
        return _edit_left_behind(request, name, flow, text, base)
    if text == flow.flow_json and base == json_hash(text):
        messages.info(request, "Nothing to save: the definition is unchanged.")
        return redirect("wf-flow", name=flow.flow_name)
    try:
        revision = save_definition(flow, text, base_hash=base, user=request.user.get_username())
    except InvalidDefinition as err:
        messages.error(request, f"Not saved: {err}.")
        return render(request, "flows/flow.html", _editor_context(request, flow, text=text, base=base))
    except FlowMoved as err:
        return _edit_left_behind(request, name, err.current, text, base)
    except StaleEdit as err:
        theirs = err.current.flow_json
        diff, reformatted = diff_lines(theirs, text, "saved by someone else", "your text")
        context = _editor_context(
            request,
            err.current,
            text=text,
            base=base,
            conflict={"theirs": theirs, "diff": diff, "reformatted": reformatted, "hash": json_hash(theirs)},
        )
        return render(request, "flows/flow.html", context, status=409)
    messages.success(request, f"Saved as revision {revision.pk}.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_set_enabled(request: HttpRequest, name: str, enabled: bool) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    set_enabled(flow, enabled)
    state = "enabled: it can run" if enabled else "disabled: it stays visible but cannot run"
    messages.success(request, f"{flow.flow_name} is {state}.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_delete(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    flow.soft_delete()
    messages.success(request, f"{flow.flow_name} was deleted. It can be restored from Deleted flows.")
    return redirect("wf-overview")


@login_required
@require_POST
def flow_rename(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    form = RenameFlowForm(request.POST)
    if form.is_valid():
        new_name = form.cleaned_data["new_name"]
        if new_name == flow.flow_name:
            messages.info(request, f"{flow.flow_name} already has that name.")
            return redirect("wf-flow", name=flow.flow_name)
        try:
            rename_flow(flow, new_name, user=request.user.get_username())
        except NameTaken as err:
            form.add_error("new_name", str(err))
        except Flow.DoesNotExist as err:
            raise Http404(f"{flow.flow_name!r} was deleted or removed meanwhile.") from err
        else:
            messages.success(
                request,
                f"Renamed {flow.flow_name} to {new_name}. Its runs and revisions stay with it; "
                "the old address no longer leads here.",
            )
            return redirect("wf-flow", name=new_name)
    return render(request, "flows/flow.html", _editor_context(request, flow, rename_form=form), status=400)


@login_required
@require_POST
def flow_restore(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS, deleted=True)
    flow.restore()
    messages.success(request, f"{flow.flow_name} was restored.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_GET
def deleted_flows(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    flows = Flow.all_objects.filter(deleted=True).defer("flow_json").order_by("flow_name")
    return render(request, "flows/deleted.html", {"flows": flows, "section": "overview"})


@login_required
@require_http_methods(["GET", "POST"])
def flow_new(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS, CHANGE_FLOWS)
    form = NewFlowForm(request.POST or None)
    text = form["flow_json"].initial
    if request.method == "POST":
        text = clean_text(request.POST.get("flow_json", ""))
    if request.htmx:
        return render(request, "flows/new_flow.html#analysis", _analysis(text))
    if request.method == "POST" and "check" not in request.POST and form.is_valid():
        try:
            flow = create_flow(form.cleaned_data["flow_name"], text, user=request.user.get_username())
        except InvalidDefinition as err:
            form.add_error("flow_json", f"{err}: see the problems listed beside it.")
        except NameTaken as err:
            form.add_error("flow_name", str(err))
        else:
            messages.success(request, f"Created {flow.flow_name}.")
            return redirect("wf-flow", name=flow.flow_name)
    return render(request, "flows/new_flow.html", {"form": form, "section": "overview", **_analysis(text)})


@login_required
@require_GET
def flow_revisions(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, deleted=None)
    revisions = FlowRevision.objects.filter(flow_id=flow.pk).order_by("-id")
    before = request.GET.get("before", "")
    # Ids fit in 19 digits; int() of a longer text may even raise (over 4300 digits).
    if before.isascii() and before.isdigit() and len(before) <= 19:
        revisions = revisions.filter(id__lt=int(before))
    revisions = list(revisions[: REVISIONS_PAGE + 1])
    current = json_hash(flow.flow_json)
    rows = [(rev, json_hash(rev.flow_json) == current) for rev in revisions[:REVISIONS_PAGE]]
    older = revisions[REVISIONS_PAGE - 1].pk if len(revisions) > REVISIONS_PAGE else None
    return render(request, "flows/revisions.html", {"flow": flow, "rows": rows, "older": older})


@login_required
@require_GET
def flow_revision(request: HttpRequest, name: str, revision_id: int) -> HttpResponse:
    flow = access.get_flow(request, name, deleted=None)
    revision = get_object_or_404(FlowRevision, pk=revision_id, flow_id=flow.pk)
    diff, reformatted = diff_lines(revision.flow_json, flow.flow_json, f"revision {revision.pk}", "current")
    context = {
        "flow": flow,
        "revision": revision,
        "diff": diff,
        "reformatted": reformatted,
        "base": json_hash(flow.flow_json),
        "can_change": request.user.has_perm(CHANGE_FLOWS) and not flow.deleted,
    }
    return render(request, "flows/revision.html", context)


@login_required
@require_POST
def flow_revision_restore(request: HttpRequest, name: str, revision_id: int) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    revision = get_object_or_404(FlowRevision, pk=revision_id, flow_id=flow.pk)
    try:
        saved = save_definition(
            flow,
            revision.flow_json,
            base_hash=request.POST.get("base", ""),
            user=request.user.get_username(),
            note="restore",
        )
    except InvalidDefinition as err:
        problems = "; ".join(f"{d.path or 'definition'}: {d.message}" for d in err.diagnostics[:5])
        messages.error(request, f"Revision {revision.pk} was not restored: it is invalid today ({problems}).")
        return redirect("wf-flow-revision", name=flow.flow_name, revision_id=revision.pk)
    except StaleEdit:
        messages.error(request, "Not restored: the flow changed since you loaded this page; review the diff.")
        return redirect("wf-flow-revision", name=flow.flow_name, revision_id=revision.pk)
    except FlowMoved as err:
        raise Http404(f"{flow.flow_name!r} was deleted, renamed or removed meanwhile.") from err
    messages.success(request, f"Restored revision {revision.pk} as revision {saved.pk}.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_run(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, RUN_FLOWS)
    raw_input = request.POST.get("input", "")
    try:
        run_input = parse_run_input(raw_input)
        runnable_flow(flow.flow_name)  # the CLI's rule: enabled and not deleted, or why not
        run = start_run(flow, input=run_input, trigger="web", triggered_by=request.user.get_username())
    except (ValueError, CannotStart) as err:
        messages.error(request, f"Not started: {err}")
        if request.POST.get("from") == "overview":
            return redirect("wf-overview")
        context = _editor_context(request, flow, run_form=RunInputForm(request.POST))
        return render(request, "flows/flow.html", context, status=400)
    messages.success(request, f"Run {run.pk} of {flow.flow_name} is queued.")
    return redirect("wf-run", run_id=run.pk)
