"""The wf_syslog viewer: newest first, filters, keyset pages, bounded searches, live tail,
and the download of a filtered view as text."""

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, tzinfo
from html import escape
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from flows import access
from flows.access import login_required
from flows.forms import LogFilterForm
from flows.logsearch import (
    DOWNLOAD_MAX_LINES,
    LogPage,
    LogsUnavailable,
    download_pages,
    filters_from,
    run_id_of_logger,
    search,
    tail,
)
from runner.log import run_logger_name
from runner.log.formatting import one_line

FILTER_KEYS = ("level", "logger", "q", "since", "until", "tz", "run")
# A log line's row of a table, built here rather than by a template: with its filters, tags
# and include the template engine took 0.1-0.2 ms a row, 20 ms for the viewer's page of 100
# lines, 5 ms for a run's 57, ten times the page's queries; this takes a few µs
# (benchmarks/logviewer.py).
# The log viewer's third column is the logger, the run page's the step; the rest is alike:
# same classes, same <time> for static/js/workflow.js, same folding of long messages.
# tests/web/test_log_viewer_rows.py holds them equal to the template rows they replaced.
RUN_LINK = '<a href="{url}" title="the page of run {run_id}">{name}</a>'
RUN_STAND_IN = 987654321987654321
FOLDED = '<details class="fold"><summary>{summary}</summary>\n<pre class="msg-full">{message}</pre></details>'


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
        "lines": rows_html(page.rows),
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
        "lines": rows_html(rows),
        "after": after,
        "skipped": skipped,
        "filters": _filter_query(request),
        "logs_unavailable": unavailable,
    }
    return render(request, "logs/logs.html#tail", context)


@login_required
@require_GET
def log_download(request: HttpRequest) -> HttpResponse:
    access.check(request, access.VIEW_LOGS)
    form = LogFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponse(f"Bad filter: {form.errors.as_text()}", status=400, content_type="text/plain")
    pages = download_pages(filters_from(form.cleaned_data), before=form.cleaned_data["before"])
    try:
        # The first page is read before answering: a table that cannot be read is a 503
        # with its reason, not a file that stops after its first line.
        first = next(pages)
    except LogsUnavailable as err:
        return HttpResponse(f"The log table is unavailable: {err}", status=503, content_type="text/plain")
    lines = _download_lines(first, pages, form.zone(), _filter_query(request), request.path)
    response = StreamingHttpResponse(lines, content_type="text/plain; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="workflow-logs-{stamp}.txt"'
    return response


def _download_lines(
    first: LogPage, rest: Iterator[LogPage], zone: tzinfo, filters: dict, path: str
) -> Iterator[str]:
    described = one_line(" ".join(f"{key}={value}" for key, value in filters.items()))
    yield f"# wf_syslog lines, newest first; times in {zone}; filters: {described or 'none'}\n"
    page, count = first, 0
    try:
        while page is not None:
            yield "".join(_file_line(row, zone) for row in page.rows)
            count += len(page.rows)
            last, page = page, next(rest, None)
    except LogsUnavailable as err:
        yield f"# Stopped after {count:,} lines: the log table became unavailable: {err}\n"
        return
    cursor = last.older or last.resume
    if cursor is None:
        return
    if count >= DOWNLOAD_MAX_LINES:
        yield f"# Cut at {count:,} lines, the most one download holds. "
    else:
        low, high = last.searched_from, first.searched_to
        yield f"# Searched {high - low + 1:,} ids ({low}-{high}), the most one download examines. "
    yield f"Older lines: {path}?{urlencode({**filters, 'before': cursor})}\n"


def _file_line(row, zone: tzinfo) -> str:
    """The log file's line (runner/log/formatting.py) with the logger in place of the
    module and function, which wf_syslog does not keep: one record, one line."""
    when = row.created_at.astimezone(zone)
    stamp = f"{when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 1000:03d}"
    return f"{stamp} {row.level} {row.logger_name} {one_line(row.message)}\n"


def rows_html(rows: Iterable) -> SafeString:
    """The log viewer's rows of these log lines, every value escaped; a run's logger links
    to its run."""
    # A run's page, reversed once with a stand-in id: the ERROR lines of a page name a
    # different run on nearly every line, and reverse() takes 10-20 µs.
    head, tail = reverse("wf-run", args=[RUN_STAND_IN]).split(str(RUN_STAND_IN))
    cells: dict[str, str] = {}  # a page's lines come from a few loggers: write each cell once

    def logger_cell(name: str) -> str:
        if name not in cells:
            html, run_id = escape(name), run_id_of_logger(name)
            if run_id is not None:
                html = RUN_LINK.format(url=escape(f"{head}{run_id}{tail}"), run_id=run_id, name=html)
            cells[name] = f'<td class="logger">{html}</td>'
        return cells[name]

    return _rows_html(rows, logger_cell)


def run_rows_html(rows: Iterable, run_id: int) -> SafeString:
    """The run page's rows of its log lines: the step column names the step that wrote the
    line (its logger below the run's, `workflow.run.<id>.<step>`), empty for the run's own."""
    prefix = run_logger_name(run_id) + "."
    cells: dict[str, str] = {}

    def step_cell(name: str) -> str:
        if name not in cells:
            step = escape(name.removeprefix(prefix)) if name.startswith(prefix) else ""
            title = f' title="written by step {step}"' if step else ""
            cells[name] = f'<td class="log-step" data-step="{step}"{title}>{step}</td>'
        return cells[name]

    return _rows_html(rows, step_cell)


def _rows_html(rows: Iterable, third_cell: Callable[[str], str]) -> SafeString:
    # A row is flows.logsearch's named tuple of LINE, or a SysLog (run_lines): the same fields.
    levels: dict[str, tuple[str, str]] = {}  # a level's class and text, escaped once
    html = []
    for row in rows:
        if row.level not in levels:
            levels[row.level] = escape(row.level.lower()), escape(row.level)
        css, level = levels[row.level]
        # One isoformat gives both: 2025-03-01T13:00:05.123+00:00.
        iso = row.created_at.astimezone(UTC).isoformat(timespec="milliseconds")
        stamp = f"{iso[:10]} {iso[11:23]}"
        html.append(
            f'<tr class="log-row log-{css}" data-id="{row.id}">\n'
            f'  <td class="nowrap"><time class="ts-ms" datetime="{iso[:23]}Z" title="{stamp} UTC">'
            f"{stamp} UTC</time></td>"
            f'<td><span class="level level-{css}">{level}</span></td>\n'
            f"  {third_cell(row.logger_name)}\n"
            f'  <td class="msg">{_message_html(row.message)}</td>\n'
            "</tr>"
        )
    return SafeString("".join(html))


def _message_html(message: str) -> str:
    # Long or multi-line messages fold into a <details>, as the `foldable` filter decides.
    if len(message) > 300 or "\n" in message:
        return FOLDED.format(summary=escape(Truncator(message).chars(160)), message=escape(message))
    return escape(message)
