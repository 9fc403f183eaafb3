"""The flow pages: editor with live validation, saving, state changes, history, run form."""

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
    delete_flow,
    diff_lines,
    json_hash,
    rename_flow,
    restore_flow,
    save_definition,
    set_description,
    set_enabled,
)
from flows.forms import (
    DeclaredInputForm,
    FlowDescriptionForm,
    NewFlowForm,
    RenameFlowForm,
    RunInputForm,
)
from flows.models import Flow, FlowDescription, FlowEvent, FlowRevision
from flows.views.schedules import schedules_context
from runner.dispatch import start_run
from runner.engine import declared_inputs
from runner.inputs import given_input
from runner.models import Run
from runner.services import BadInput, CannotStart, runnable_flow
from runner.validation import flow_analysis

REVISIONS_PAGE = 50
HISTORY_SHOWN = 10
# A refused save keeps the user's text in their session until they save or discard it, so
# the refusal can redirect (a reload never posts again) without losing the text. Sessions
# are read on every request: texts beyond this total are shown once, on the POST's answer.
DRAFTS = "editor_drafts"
MAX_DRAFT_CHARS = 1_000_000


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


def _history(flow: Flow) -> list:
    """The newest revisions and events of the flow, merged, newest first."""
    revisions = FlowRevision.objects.filter(flow_id=flow.pk).defer("flow_json").order_by("-number")
    events = FlowEvent.objects.filter(flow_id=flow.pk).order_by("-id")
    entries = [*revisions[:HISTORY_SHOWN], *events[:HISTORY_SHOWN]]
    return sorted(entries, key=_when, reverse=True)[:HISTORY_SHOWN]


def _when(entry: FlowRevision | FlowEvent):
    return entry.saved_at if entry.kind == "revision" else entry.at


def run_form_of(flow: Flow, data=None) -> RunInputForm | DeclaredInputForm:
    """The run form of the flow's saved definition (what a run uses, whatever the editor
    holds): a field per input it declares, or the free input box when it declares none."""
    specs = declared_inputs(flow.flow_json)
    return RunInputForm(data) if specs is None else DeclaredInputForm(specs, data)


def _editor_context(request: HttpRequest, flow: Flow, **overrides) -> dict:
    description = FlowDescription.objects.filter(flow_id=flow.pk).first()
    context = {
        "flow": flow,
        "text": flow.flow_json,
        "base": json_hash(flow.flow_json),
        "run_form": run_form_of(flow),
        "can_change": request.user.has_perm(CHANGE_FLOWS) and not flow.deleted,
        "can_run": request.user.has_perm(RUN_FLOWS),
        # By id: a renamed flow keeps its runs, and a new flow under an old name starts empty.
        "runs": Run.objects.listing().filter(flow_id=flow.pk)[:10],
        "history": _history(flow),
        "description": description,
        "description_form": FlowDescriptionForm(
            initial={"description": description.text if description else ""}
        ),
        "rename_form": RenameFlowForm(initial={"new_name": flow.flow_name}),
        "runs_query": {"flow": flow.flow_name},  # the run list's filter, not this page's query
        **schedules_context(request, flow),
    }
    if "text" not in overrides:
        context.update(_draft_context(flow, _draft(request, flow)))
    context.update(overrides)
    context.update(_analysis(context["text"]))
    return context


def _draft(request: HttpRequest, flow: Flow) -> dict | None:
    draft = request.session.get(DRAFTS, {}).get(str(flow.pk))
    if draft is not None and draft["text"] == flow.flow_json:
        # Saved meanwhile, by the user or anyone: nothing of theirs is left to keep.
        _drop_draft(request, flow.pk)
        return None
    return draft


def _keep_draft(request: HttpRequest, flow_id: int, text: str, base: str) -> bool:
    """Keep the text of a refused save for the editor; False when it does not fit."""
    drafts = {key: draft for key, draft in request.session.get(DRAFTS, {}).items() if key != str(flow_id)}
    if len(text) + sum(len(draft["text"]) for draft in drafts.values()) > MAX_DRAFT_CHARS:
        return False
    request.session[DRAFTS] = {**drafts, str(flow_id): {"text": text, "base": base}}
    return True


def _drop_draft(request: HttpRequest, flow_id: int) -> None:
    drafts = request.session.get(DRAFTS, {})
    if str(flow_id) in drafts:
        request.session[DRAFTS] = {key: draft for key, draft in drafts.items() if key != str(flow_id)}


def _draft_context(flow: Flow, draft: dict | None) -> dict:
    """The editor holding text the user could not save; with their version and a diff when the
    flow changed since the version the user started from."""
    if draft is None:
        return {}
    text, base = draft["text"], draft["base"]
    context = {"text": text, "base": base, "unsaved": True}
    theirs = flow.flow_json
    if json_hash(theirs) != base:
        diff, reformatted = diff_lines(theirs, text, "saved by someone else", "your text")
        context["conflict"] = {
            "theirs": theirs,
            "diff": diff,
            "reformatted": reformatted,
            "hash": json_hash(theirs),
        }
    return context


def _refused(request: HttpRequest, flow: Flow, text: str, base: str, *, status: int) -> HttpResponse:
    """Post/Redirect/Get for a save that stored nothing: the editor shows the text kept in the
    session (a reload shows it again, never re-posts); a text too large to keep is shown in
    this answer only, with the refusal's status."""
    if _keep_draft(request, flow.pk, text, base):
        return _see_other("wf-flow", name=flow.flow_name)
    _drop_draft(request, flow.pk)  # an older text of this flow: this answer holds the newer one
    messages.error(
        request,
        f"Not saved, and your text is over {MAX_DRAFT_CHARS:,} characters: too large to keep "
        "after this page. Copy it before you leave or reload.",
    )
    context = _editor_context(request, flow, **_draft_context(flow, {"text": text, "base": base}))
    return render(request, "flows/flow.html", context, status=status)


def _see_other(to: str, **kwargs) -> HttpResponse:
    response = redirect(to, **kwargs)
    response.status_code = 303  # after a POST: the browser GETs the page; a reload never re-posts
    return response


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
    and the user gets their text back with what happened. A removed flow has no page to
    keep it on: its answer holds the text in the new-flow form (a reload posts it again,
    which stores nothing)."""
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
    return _refused(request, flow, text, base, status=409)


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
        _drop_draft(request, flow.pk)
        messages.info(request, "Nothing to save: the definition is unchanged.")
        return redirect("wf-flow", name=flow.flow_name)
    try:
        revision = save_definition(flow, text, base_hash=base, user=request.user.get_username())
    except InvalidDefinition:
        # The editor lists the problems beside the kept text.
        return _refused(request, flow, text, base, status=400)
    except FlowMoved as err:
        return _edit_left_behind(request, name, err.current, text, base)
    except StaleEdit as err:
        return _refused(request, err.current, text, base, status=409)
    _drop_draft(request, flow.pk)
    messages.success(request, f"Saved as revision {revision.number}.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_discard_draft(request: HttpRequest, name: str) -> HttpResponse:
    # Only the user's own session changes: seeing the flow is enough.
    flow = access.get_flow(request, name, deleted=None)
    _drop_draft(request, flow.pk)
    messages.info(request, "Your unsaved text was discarded: the editor shows the saved definition.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_set_enabled(request: HttpRequest, name: str, enabled: bool) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    set_enabled(flow, enabled, by=request.user)
    state = "enabled: it can run" if enabled else "disabled: it stays visible but cannot run"
    messages.success(request, f"{flow.flow_name} is {state}.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_delete(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    delete_flow(flow, by=request.user)
    messages.success(request, f"{flow.flow_name} was deleted. It can be restored from Deleted flows.")
    return redirect("wf-overview")


@login_required
@require_POST
def flow_describe(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    form = FlowDescriptionForm(request.POST)
    if not form.is_valid():
        context = _editor_context(request, flow, description_form=form)
        return render(request, "flows/flow.html", context, status=400)
    text = form.cleaned_data["description"]
    if not set_description(flow, text, by=request.user):
        messages.info(request, "The description is unchanged.")
    else:
        messages.success(request, "Description saved." if text else "Description removed.")
    return redirect("wf-flow", name=flow.flow_name)


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
            rename_flow(flow, new_name, by=request.user)
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
    restore_flow(flow, by=request.user)
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
            flow = create_flow(
                form.cleaned_data["flow_name"],
                text,
                user=request.user.get_username(),
                description=form.cleaned_data["description"],
            )
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
    revisions = FlowRevision.objects.filter(flow_id=flow.pk).order_by("-number")
    before = request.GET.get("before", "")
    # Numbers fit in 10 digits; int() of a longer text may even raise (over 4300 digits).
    if before.isascii() and before.isdigit() and len(before) <= 10:
        revisions = revisions.filter(number__lt=int(before))
    revisions = list(revisions[: REVISIONS_PAGE + 1])
    current = json_hash(flow.flow_json)
    rows = [(rev, json_hash(rev.flow_json) == current) for rev in revisions[:REVISIONS_PAGE]]
    older = revisions[REVISIONS_PAGE - 1].number if len(revisions) > REVISIONS_PAGE else None
    return render(request, "flows/revisions.html", {"flow": flow, "rows": rows, "older": older})


@login_required
@require_GET
def flow_revision(request: HttpRequest, name: str, number: int) -> HttpResponse:
    flow = access.get_flow(request, name, deleted=None)
    revision = get_object_or_404(FlowRevision, number=number, flow_id=flow.pk)
    diff, reformatted = diff_lines(
        revision.flow_json, flow.flow_json, f"revision {revision.number}", "current"
    )
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
def flow_revision_restore(request: HttpRequest, name: str, number: int) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS)
    revision = get_object_or_404(FlowRevision, number=number, flow_id=flow.pk)
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
        messages.error(
            request, f"Revision {revision.number} was not restored: it is invalid today ({problems})."
        )
        return redirect("wf-flow-revision", name=flow.flow_name, number=revision.number)
    except StaleEdit:
        messages.error(request, "Not restored: the flow changed since you loaded this page; review the diff.")
        return redirect("wf-flow-revision", name=flow.flow_name, number=revision.number)
    except FlowMoved as err:
        raise Http404(f"{flow.flow_name!r} was deleted, renamed or removed meanwhile.") from err
    messages.success(request, f"Restored revision {revision.number} as revision {saved.number}.")
    return redirect("wf-flow", name=flow.flow_name)


@login_required
@require_POST
def flow_run(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, RUN_FLOWS)
    form = run_form_of(flow, request.POST)
    try:
        values, texts = form.run_input()
        runnable_flow(flow.flow_name)  # the CLI's rule: enabled and not deleted, or why not
        # The fields' texts are read as `runflow --input` reads its: the same words for the same text.
        run_input = given_input(flow, values, texts)
        run = start_run(flow, input=run_input, trigger="web", triggered_by=request.user.get_username())
    except (ValueError, CannotStart) as err:
        from_overview = request.POST.get("from") == "overview"
        if isinstance(err, BadInput) and not from_overview:
            # Each problem is listed in the run form, beside what the user typed.
            messages.error(request, "Not started: the run input does not fit the flow's inputs.")
            context = _editor_context(request, flow, run_form=form, run_problems=err.problems)
            return render(request, "flows/flow.html", context, status=400)
        messages.error(request, f"Not started: {err}")
        if from_overview:
            return redirect("wf-overview")
        context = _editor_context(request, flow, run_form=form)
        return render(request, "flows/flow.html", context, status=400)
    messages.success(request, f"Run {run.pk} of {flow.flow_name} is queued.")
    return redirect("wf-run", run_id=run.pk)
