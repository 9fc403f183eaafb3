"""Reading wf_syslog fast on tables of tens of millions of rows.

Pages are keyset on the primary key, newest first (`id < before`); nothing counts the table
and nothing uses OFFSET. A filtered page looks at one window of ids at a time, so a filter
that rarely matches examines a bounded number of rows per request and the user continues
the search from where it stopped.
"""

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError
from django.db.models import QuerySet

from flows.models import SysLog
from runner.log import RUN_LOGGER, run_logger_name

LEVELS = {name: 10 * rank for rank, name in enumerate(SysLog.LEVELS, start=1)}
# Spellings other writers of the legacy table use, ranked with their standard names.
LEVEL_ALIASES = {"WARN": 30, "FATAL": 50}
PAGE_SIZE = 100
# Ids examined at most by one filtered page. A level filter at 1% ERROR still fills a page of
# 100 lines from one window. A text filter reads every row of its window (LIKE '%x%' uses no
# index): 10,000 rows took 6-12 ms on MariaDB, 0.6-1.2% of a COUNT(*) of 5,000,000 rows when
# the whole page must stay under 1% (benchmarks/logviewer.py); 5,000 take half of that.
WINDOW = 10_000
TEXT_WINDOW = 5_000
TAIL_MAX = 200
# The lines of a page and of the tail are named tuples of these, not models: 100 model
# instances took 0.3 ms more (benchmarks/logviewer.py), 3 ms for a download's page of 1,000.
LINE = ("id", "created_at", "level", "logger_name", "message")
# A download (`/logs/download/`) is a series of bounded pages: at most this many lines, and
# when filtered at most this many ids examined (about a second of text search on MariaDB).
# The file then ends with a line saying where it stopped.
DOWNLOAD_MAX_LINES = 100_000
DOWNLOAD_MAX_SEARCHED = 1_500_000
DOWNLOAD_PAGE_SIZE = 1_000
# created_at is stamped before a batch is written, so ids and times may disagree a little;
# a time bound moves the id bound by this much to be safe.
TIME_SLACK_IDS = 1_000
# The dates a time filter accepts, in any zone: a day inside Python's datetime range, so a
# date typed in the browser's zone still converts to UTC (31/12/9999 23:59 in Pago Pago is
# in the year 10000 there).
EARLIEST = datetime(1, 1, 2)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999999)


class LogsUnavailable(Exception):
    """wf_syslog could not be read (renamed, locked, lost); str() is the database's reason.

    Runs go on without it (the log file has every line), so pages that read logs show a
    notice in place of the lines and render everything else.
    """


def _reads_logs(function):
    # No savepoint around the read: SQLite and MySQL keep a transaction usable after a
    # failed SELECT, and a savepoint would add two statements to every page.
    @functools.wraps(function)
    def read(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DatabaseError as err:
            # MySQL errors are (code, text): the text is what an operator needs.
            reason = err.args[-1] if err.args and isinstance(err.args[-1], str) else str(err)
            raise LogsUnavailable(reason[:500] or type(err).__name__) from err

    return read


@dataclass(frozen=True)
class LogFilters:
    level: str = ""
    logger: str = ""
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None
    run: int | None = None  # one run's own lines: its logger and that logger's children

    @property
    def window(self) -> int:
        """The ids one request examines at most when filtered."""
        return TEXT_WINDOW if self.text else WINDOW

    @property
    def active(self) -> bool:
        leveled = self.level not in ("", "DEBUG")
        return bool(leveled or self.logger or self.text or self.since or self.until or self.run)

    def apply(self, rows: QuerySet) -> QuerySet:
        if self.level not in ("", "DEBUG"):
            floor = LEVELS[self.level]
            names = [n for n, v in (LEVELS | LEVEL_ALIASES).items() if v >= floor]
            rows = rows.filter(level__in=names)
        if self.logger:
            rows = rows.filter(logger_name__startswith=self.logger)
        if self.run:
            rows = rows.of_logger_tree(run_logger_name(self.run))
        if self.text:
            # icontains: SQLite's LIKE ignores case anyway, so both databases behave alike.
            rows = rows.filter(message__icontains=self.text)
        if self.since:
            rows = rows.filter(created_at__gte=self.since)
        if self.until:
            rows = rows.filter(created_at__lte=self.until)
        return rows


@dataclass
class LogPage:
    rows: list = field(default_factory=list)  # named tuples of LINE
    older: int | None = None  # `before` of the next page when this one is full
    resume: int | None = None  # `before` to continue a search that stopped at a window's end
    searched_from: int | None = None  # lowest id examined
    searched_to: int | None = None  # highest id examined
    newest: int = 0  # `after` for the live tail

    @property
    def searched(self) -> int:
        if self.searched_from is None or self.searched_to is None:
            return 0
        return self.searched_to - self.searched_from + 1


@_reads_logs
def search(filters: LogFilters, before: int | None = None, page_size: int | None = None) -> LogPage:
    """One page of log lines, newest first, with id < before (the newest when before is None)."""
    page_size = page_size or PAGE_SIZE
    top = before if before is not None else SysLog.objects.newest_id() + 1
    page = LogPage(newest=top - 1)
    floor = 1  # no matching line can have a lower id
    if filters.until:
        last = SysLog.objects.last_id_at_or_before(filters.until)
        if last is None:
            return page
        top = min(top, last + TIME_SLACK_IDS + 1)
    if filters.since:
        first = SysLog.objects.first_id_at_or_after(filters.since)
        if first is None:
            return page
        floor = max(floor, first - TIME_SLACK_IDS)
    low = max(floor, top - filters.window) if filters.active else floor
    rows = filters.apply(SysLog.objects.filter(id__lt=top))
    if low > 1:
        rows = rows.filter(id__gte=low)
    page.rows = list(rows.order_by("-id").values_list(*LINE, named=True)[: page_size + 1])
    page.searched_to = top - 1
    if len(page.rows) > page_size:
        page.rows = page.rows[:page_size]
        page.older = page.searched_from = page.rows[-1].id
    else:
        page.searched_from = low
        if low > floor and low > SysLog.objects.oldest_id():
            page.resume = low
    return page


def download_pages(filters: LogFilters, before: int | None = None) -> Iterator[LogPage]:
    """The pages of a download, newest first, each one bounded search, until the start of
    the log, DOWNLOAD_MAX_LINES lines or (filtered) DOWNLOAD_MAX_SEARCHED ids examined.

    The last page's `older` or `resume` is where a download that was cut would go on.
    """
    lines = searched = 0
    while True:
        page = search(filters, before, page_size=min(DOWNLOAD_PAGE_SIZE, DOWNLOAD_MAX_LINES - lines))
        yield page
        lines += len(page.rows)
        searched += page.searched
        before = page.older or page.resume
        searched_enough = filters.active and searched >= DOWNLOAD_MAX_SEARCHED
        if before is None or lines >= DOWNLOAD_MAX_LINES or searched_enough:
            return


@_reads_logs
def tail(filters: LogFilters, after: int) -> tuple[list, int, bool]:
    """Lines newer than id `after`, newest first: (rows, the next `after`, lines were left out).

    One call examines at most a window of ids from the first line after `after`, so a gap in the
    ids (rows deleted, an auto-increment that moved on) costs nothing; a tail that fell
    further behind catches up over the next calls.
    """
    first = SysLog.objects.first_id_after(after)
    if first is None:
        return [], after, False
    upper = min(first + filters.window - 1, SysLog.objects.newest_id())
    rows = filters.apply(SysLog.objects.filter(id__gt=after, id__lte=upper)).order_by("-id")
    rows = list(rows.values_list(*LINE, named=True)[: TAIL_MAX + 1])
    return rows[:TAIL_MAX], upper, len(rows) > TAIL_MAX


@_reads_logs
def run_lines(run, limit: int = 1000, after: int | None = None) -> tuple[list, bool]:
    """The run's own log lines, oldest first, and whether more exist: the last `limit` of
    them, or with `after` the first `limit` whose id is greater (the run page's live append)."""
    name = run_logger_name(run.pk)
    rows = SysLog.objects.of_logger_tree(name)
    if run.log_first_id is not None:
        rows = rows.filter(id__gte=run.log_first_id)
    if run.log_last_id is not None:
        rows = rows.filter(id__lte=run.log_last_id)
    if after is not None:
        lines = list(rows.filter(id__gt=after).order_by("id")[: limit + 1])
        return lines[:limit], len(lines) > limit
    lines = list(rows.order_by("-id")[: limit + 1])
    return lines[:limit][::-1], len(lines) > limit


@_reads_logs
def recent_errors(limit: int = 10) -> list:
    """The newest ERROR and CRITICAL lines."""
    return SysLog.objects.recent_errors(limit)


def filters_from(data: dict) -> LogFilters:
    return LogFilters(
        level=data.get("level") or "",
        logger=data.get("logger") or "",
        text=data.get("q") or "",
        since=data.get("since"),
        until=data.get("until"),
        run=data.get("run"),
    )


_RUN_LOGGER = re.compile(rf"{re.escape(RUN_LOGGER)}\.([1-9][0-9]{{0,17}})(?:\.|$)")


def run_id_of_logger(name: str) -> int | None:
    """The run a logger belongs to (`workflow.run.13` and its children `workflow.run.13.*`)."""
    found = _RUN_LOGGER.match(name)
    return int(found.group(1)) if found else None
