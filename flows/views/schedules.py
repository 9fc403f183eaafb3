"""Schedules on the dashboard: the flow page's section (add, edit, pause, resume, remove), the
live preview of due times, and /schedules/ (every schedule and the tick ledger)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flows import access
from flows.access import CHANGE_FLOWS, login_required
from flows.models import Flow
from flows.schedule_forms import LedgerFilterForm, ScheduleForm, zone_names
from schedules import cron
from schedules.editing import ScheduleError, ScheduleInputError, create, pause, remove, resume, update
from schedules.models import Schedule, Tick

UPCOMING = 5  # due times shown per schedule on its flow's page and in the preview
MAX_LISTED = 200  # schedules on /schedules/; the flow filter finds the others
LEDGER_PAGE = 50
CHUNK = 200  # schedules per query for their last ticks: SQLite allows 500 SELECTs in one statement


@dataclass(frozen=True)
class WallTime:
    """A due time as the schedule's zone reads it; `note` when a DST change moves it."""

    at: datetime  # aware, in the schedule's zone
    note: str = ""

    @property
    def text(self) -> str:
        return f"{self.at:%a %Y-%m-%d %H:%M} {self.at:%Z}"

    @property
    def iso(self) -> str:
        return self.at.isoformat()

    @property
    def utc(self) -> str:
        return f"{self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def wall_time(moment: datetime, zone_name: str) -> WallTime:
    try:
        return WallTime(moment.astimezone(cron.zone(zone_name)))
    except cron.CronError:
        return WallTime(moment.astimezone(UTC))  # a zone removed from the system's tz database


@dataclass
class ScheduleRow:
    schedule: Schedule
    flow: Flow | None = None
    upcoming: list[WallTime] = field(default_factory=list)
    problem: str = ""  # why no due time can be worked out
    last: Tick | None = None
    overdue: bool = False  # next_due has passed and no scheduler handled it

    @property
    def next_due(self) -> WallTime | None:
        if self.schedule.next_due is None:
            return None
        return wall_time(self.schedule.next_due, self.schedule.timezone)

    @property
    def last_due(self) -> WallTime | None:
        return None if self.last is None else wall_time(self.last.due, self.schedule.timezone)


def upcoming(cron_text: str, zone_name: str, now: datetime, count: int = UPCOMING) -> list[WallTime]:
    """The next due times after now with their DST notes; CronError for a bad cron or zone."""
    times = cron.preview(cron_text, cron.zone(zone_name), now, count)
    return [WallTime(due.at, due.note) for due in times]


def last_ticks(schedule_ids: list[int]) -> dict[int, Tick]:
    """The latest ledger row of each schedule: one query per CHUNK schedules, each part one
    backward step of the (schedule, due) unique index, however long the ledger."""
    table = connection.ops.quote_name(Tick._meta.db_table)
    columns = "id, schedule_id, flow_id, due, outcome, run_id, detail, recorded_at"
    found = {}
    for start in range(0, len(schedule_ids), CHUNK):
        chunk = schedule_ids[start : start + CHUNK]
        parts = [
            f"SELECT * FROM (SELECT {columns} FROM {table} WHERE schedule_id = %s"
            f" ORDER BY due DESC LIMIT 1) t{i}"
            for i in range(len(chunk))
        ]
        for tick in Tick.objects.raw(" UNION ALL ".join(parts), chunk):
            found[tick.schedule_id] = tick
    return found


def _overdue(schedule: Schedule, now: datetime) -> bool:
    grace = timedelta(seconds=settings.WORKFLOW_SCHEDULE_GRACE_SECONDS)
    return schedule.next_due is not None and now - schedule.next_due > grace


def schedule_rows(schedules: list[Schedule], flows: dict[int, Flow], *, count: int) -> list[ScheduleRow]:
    """The rows of a schedules list, each enabled one with its next `count` due times."""
    now = timezone.now()
    last = last_ticks([s.pk for s in schedules])
    rows = []
    for schedule in schedules:
        row = ScheduleRow(schedule, flows.get(schedule.flow_id), last=last.get(schedule.pk))
        row.overdue = _overdue(schedule, now)
        if schedule.enabled and count:
            try:
                row.upcoming = upcoming(schedule.cron, schedule.timezone, now, count)
            except cron.CronError as err:
                row.problem = str(err)
        rows.append(row)
    return rows


def schedules_context(request: HttpRequest, flow: Flow) -> dict:
    """What the flow page's Schedules section shows (flows/_schedules.html)."""
    schedules = list(Schedule.objects.filter(flow_id=flow.pk).order_by("pk"))
    return {
        "schedules": schedule_rows(schedules, {flow.pk: flow}, count=UPCOMING),
        "schedule_form": ScheduleForm(),
        "zone_names": zone_names(),
        "can_edit_schedules": request.user.has_perm(CHANGE_FLOWS),
        "schedules_query": {"flow": flow.flow_name},  # /schedules/'s filter, not this page's query
    }


def next_due_by_flow(flow_ids: list[int]) -> dict[int, tuple[WallTime, Schedule]]:
    """The earliest next due time of each flow's enabled schedules, in that schedule's zone,
    with the schedule: one query for all the flows."""
    if not flow_ids:
        return {}
    schedules = Schedule.objects.filter(flow_id__in=flow_ids, enabled=True, next_due__isnull=False).only(
        "flow_id", "cron", "timezone", "next_due"
    )
    earliest: dict[int, Schedule] = {}
    for schedule in schedules:
        known = earliest.get(schedule.flow_id)
        if known is None or schedule.next_due < known.next_due:
            earliest[schedule.flow_id] = schedule
    return {flow_id: (wall_time(s.next_due, s.timezone), s) for flow_id, s in earliest.items()}


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303  # after a POST: the browser GETs the page; a reload never re-posts
    return response


def _back_to_flow(schedule_id: int, flow: Flow | None) -> HttpResponse:
    """The schedule's place on its flow's page (under the flow's current name); /schedules/
    when the flow is no longer in wf_flow."""
    if flow is None:
        return _see_other(reverse("wf-schedules"))
    return _see_other(reverse("wf-flow", args=[flow.flow_name]) + f"#schedule-{schedule_id}")


def _form_page(
    request: HttpRequest, flow: Flow | None, form: ScheduleForm, schedule: Schedule | None, status=200
):
    """The add/edit form on a page of its own: the edit page, and the answer to a refused
    add (status 400), which keeps every field as typed."""
    preview = {}
    if form.is_bound:
        preview = preview_context(form.data.get("cron", ""), form.data.get("timezone", ""))
    elif schedule is not None:
        preview = preview_context(schedule.cron, schedule.timezone)
    context = {
        "flow": flow,
        "schedule": schedule,
        "form": form,
        "zone_names": zone_names(),
        **preview,
    }
    return render(request, "schedules/form.html", context, status=status)


@login_required
@require_POST
def schedule_add(request: HttpRequest, name: str) -> HttpResponse:
    flow = access.get_flow(request, name, CHANGE_FLOWS, deleted=None)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            schedule = create(flow, created_by=request.user.get_username(), **form.fields_for_editing())
        except ScheduleError as err:
            _refusal(form, err)
        else:
            messages.success(request, f"Schedule {schedule.pk} added: {_next_words(schedule)}.")
            return _back_to_flow(schedule.pk, flow)
    return _form_page(request, flow, form, None, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access.get_schedule(request, schedule_id, CHANGE_FLOWS)
    flow = Flow.all_objects.filter(pk=schedule.flow_id).first()
    if request.method == "GET":
        return _form_page(request, flow, ScheduleForm.of(schedule), schedule)
    form = ScheduleForm(request.POST)
    if form.is_valid():
        try:
            schedule = update(schedule, **form.fields_for_editing())
        except ScheduleError as err:
            _refusal(form, err)
        else:
            messages.success(request, f"Schedule {schedule.pk} saved: {_next_words(schedule)}.")
            return _back_to_flow(schedule.pk, flow)
    return _form_page(request, flow, form, schedule, status=400)


def _refusal(form: ScheduleForm, err: ScheduleError) -> None:
    # Input that does not fit the flow's inputs: each problem beside the input field.
    if isinstance(err, ScheduleInputError):
        form.add_error("input", err.problems)
    else:
        form.add_error(None, str(err))


def _next_words(schedule: Schedule) -> str:
    if not schedule.enabled:
        return "paused"
    if schedule.next_due is None:
        return "it has no due time within the next five years"
    due = wall_time(schedule.next_due, schedule.timezone)
    return f"next due {due.text} ({schedule.timezone})"


@login_required
@require_POST
def schedule_pause(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = pause(access.get_schedule(request, schedule_id, CHANGE_FLOWS))
    messages.success(request, f"Schedule {schedule.pk} paused: it records no ticks until resumed.")
    return _back_to_flow(schedule.pk, Flow.all_objects.filter(pk=schedule.flow_id).first())


@login_required
@require_POST
def schedule_resume(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = resume(access.get_schedule(request, schedule_id, CHANGE_FLOWS))
    messages.success(request, f"Schedule {schedule.pk} resumed: {_next_words(schedule)}.")
    return _back_to_flow(schedule.pk, Flow.all_objects.filter(pk=schedule.flow_id).first())


@login_required
@require_POST
def schedule_remove(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access.get_schedule(request, schedule_id, CHANGE_FLOWS)
    remove(schedule)
    messages.success(request, f"Schedule {schedule_id} removed; its ledger rows stay on the Schedules page.")
    flow = Flow.all_objects.filter(pk=schedule.flow_id).first()
    if flow is None:
        return _see_other(reverse("wf-schedules"))
    return _see_other(reverse("wf-flow", args=[flow.flow_name]) + "#schedules")


def preview_context(cron_text: str, zone_name: str) -> dict:
    """The next due times of a cron in a zone, or why there are none: never an exception."""
    cron_text, zone_name = cron_text.strip(), zone_name.strip() or settings.TIME_ZONE
    context = {"preview_cron": cron_text, "preview_zone": zone_name, "times": [], "problem": ""}
    if not cron_text:
        return context
    try:
        context["times"] = upcoming(cron_text, zone_name, timezone.now())
    except cron.CronError as err:
        context["problem"] = str(err)
    return context


@login_required
@require_GET
def schedule_preview(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    # Bounded before any parsing: the fields' own limits.
    context = preview_context(request.GET.get("cron", "")[:1000], request.GET.get("timezone", "")[:200])
    if request.htmx:
        return render(request, "schedules/_preview.html", context)
    return render(request, "schedules/preview.html", context)


@login_required
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_FLOWS)
    flow_names = list(Flow.all_objects.order_by("flow_name").values_list("flow_name", flat=True))
    form = LedgerFilterForm(request.GET, flow_names)
    schedules, ticks, older, more = [], [], None, False
    if form.is_valid():
        data = form.cleaned_data
        flow_id = _flow_id(data["flow"])
        schedules = Schedule.objects.order_by("pk")
        ticks = Tick.objects.order_by("-id")
        if data["flow"]:
            schedules, ticks = schedules.filter(flow_id=flow_id), ticks.filter(flow_id=flow_id)
        if data["outcome"]:
            ticks = ticks.filter(outcome=data["outcome"])
        if data["before"]:
            ticks = ticks.filter(id__lt=data["before"])
        schedules = list(schedules[: MAX_LISTED + 1])
        schedules, more = schedules[:MAX_LISTED], len(schedules) > MAX_LISTED
        ticks = list(ticks[: LEDGER_PAGE + 1])
        older = ticks[LEDGER_PAGE - 1].pk if len(ticks) > LEDGER_PAGE else None
        ticks = ticks[:LEDGER_PAGE]
    flows = Flow.all_objects.only("flow_name", "deleted").in_bulk(
        {s.flow_id for s in schedules} | {t.flow_id for t in ticks}
    )
    rows = sorted(
        schedule_rows(schedules, flows, count=0),
        key=lambda row: (row.flow.flow_name.lower() if row.flow else "", row.schedule.pk),
    )
    known = {row.schedule.pk: row.schedule for row in rows}
    ledger = _ledger_rows(ticks, flows, known)
    context = {
        "form": form,
        "rows": rows,
        "more": more,
        "max_listed": MAX_LISTED,
        "ledger": ledger,
        "older": older,
        "section": "schedules",
    }
    return render(request, "schedules/schedules.html", context)


def _flow_id(name: str) -> int | None:
    if not name:
        return None
    return Flow.all_objects.filter(flow_name=name).values_list("pk", flat=True).first()


@dataclass(frozen=True)
class LedgerRow:
    tick: Tick
    flow: Flow | None
    schedule: Schedule | None  # None once removed
    due: WallTime | None  # in the schedule's zone, while the schedule exists


def _ledger_rows(ticks: list[Tick], flows: dict[int, Flow], known: dict[int, Schedule]) -> list[LedgerRow]:
    missing = {t.schedule_id for t in ticks} - set(known)
    if missing:
        known = {**known, **Schedule.objects.only("cron", "timezone").in_bulk(missing)}
    rows = []
    for tick in ticks:
        schedule = known.get(tick.schedule_id)
        due = wall_time(tick.due, schedule.timezone) if schedule is not None else None
        rows.append(LedgerRow(tick, flows.get(tick.flow_id), schedule, due))
    return rows
