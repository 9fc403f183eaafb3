"""The wf_syslog viewer: newest first, filters, keyset pages, bounded searches, live tail."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from flows import access
from flows.access import login_required
from flows.forms import LogFilterForm
from flows.logsearch import LogPage, LogsUnavailable, filters_from, search, tail

FILTER_KEYS = ("level", "logger", "q", "since", "until", "tz", "run")


def _filter_query(request: HttpRequest) -> dict:
    return {key: request.GET[key] for key in FILTER_KEYS if request.GET.get(key)}


@login_required
@require_GET
def log_list(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_LOGS)
    form = LogFilterForm(request.GET)
    page = LogPage()
    unavailable = None
    if form.is_valid():
        try:
            page = search(filters_from(form.cleaned_data), before=form.cleaned_data["before"])
        except LogsUnavailable as err:
            unavailable = str(err)
    tailing = form.is_valid() and form.cleaned_data["tail"] and not form.cleaned_data["before"]
    context = {
        "form": form,
        "page": page,
        "filters": _filter_query(request),
        # Without a newest id there is nothing to tail from; the page says why instead.
        "tailing": tailing and unavailable is None,
        "after": page.newest,
        "logs_unavailable": unavailable,
        "section": "logs",
    }
    return render(request, "logs/logs.html", context, status=503 if unavailable else 200)


@login_required
@require_GET
def log_tail(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_LOGS)
    form = LogFilterForm(request.GET)
    if not form.is_valid() or form.cleaned_data["after"] is None:
        return HttpResponse("Bad filters or no after=<id>.", status=400, content_type="text/plain")
    rows, after, skipped, unavailable = [], form.cleaned_data["after"], False, None
    try:
        rows, after, skipped = tail(filters_from(form.cleaned_data), after)
    except LogsUnavailable as err:
        # The poller row says why and keeps its cursor: the tail resumes when the table is back.
        unavailable = str(err)
    context = {
        "rows": rows,
        "after": after,
        "skipped": skipped,
        "filters": _filter_query(request),
        "logs_unavailable": unavailable,
    }
    return render(request, "logs/logs.html#tail", context)
