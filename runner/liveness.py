"""Who is there: each worker process and scheduler stamps its WorkerProcess row while it runs.

A db worker or Celery worker process beats from a thread (`Beater`), so a long run does not
make it look dead; a scheduler beats once per pass, so its row says when it last ticked. The
pages, /health and /metrics read the rows: a process seen within ALIVE_SECONDS is alive; a
row silent for FORGET_SECONDS is removed (a process killed without saying goodbye).
"""

import contextlib
import contextvars
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from runner.log import dropped_records
from runner.models import Run, WorkerProcess
from runner.reconnect import drop_broken_connections
from schedules.models import Schedule

ALIVE_SECONDS = 30
BEAT_SECONDS = 5
FORGET_SECONDS = 3600
HOST = socket.gethostname()[:200]
Kind = WorkerProcess.Kind

# The run this process is executing, set by the task bodies; the beat thread reads it.
_current_run: int | None = None
_wake = threading.Event()


@contextlib.contextmanager
def running(run_id: int):
    """While the block runs, this process's row names run_id as its current run."""
    global _current_run
    _current_run = run_id
    _wake.set()
    try:
        yield
    finally:
        _current_run = None
        _wake.set()


def beat(kind: str, queue: str = "", *, started_at: datetime, current_run_id: int | None = None) -> None:
    """Stamp this process's row (host, pid, kind), creating it on the first beat."""
    me = {"host": HOST, "pid": os.getpid(), "kind": kind}
    stamp = {
        "queue": queue[:200],
        "started_at": started_at,
        "last_seen": timezone.now(),
        "current_run_id": current_run_id,
        "log_records_dropped": dropped_records(),
    }
    if WorkerProcess.objects.filter(**me).update(**stamp):
        return
    try:
        with transaction.atomic():
            WorkerProcess.objects.create(**me, **stamp)
    except IntegrityError:
        # Another thread of this process created it first: ours is an update after all.
        WorkerProcess.objects.filter(**me).update(**stamp)


def forget(kind: str) -> None:
    """Remove this process's row: it is stopping and will not be back."""
    WorkerProcess.objects.filter(host=HOST, pid=os.getpid(), kind=kind).delete()


def remove_stale(now: datetime | None = None) -> int:
    """Remove the rows silent for FORGET_SECONDS; how many."""
    since = (now or timezone.now()) - timedelta(seconds=FORGET_SECONDS)
    # kind__in keeps the delete on the (kind, last_seen) index.
    return WorkerProcess.objects.filter(kind__in=Kind.values, last_seen__lt=since).delete()[0]


def processes():
    """Every row, alive or stale: the table holds at most an hour of processes."""
    return WorkerProcess.objects.order_by("kind", "host", "pid")


def alive(kind: str, now: datetime | None = None):
    """The rows of `kind` seen within ALIVE_SECONDS: one range of the (kind, last_seen) index."""
    since = (now or timezone.now()) - timedelta(seconds=ALIVE_SECONDS)
    return WorkerProcess.objects.filter(kind=kind, last_seen__gte=since)


def is_stale(row: WorkerProcess, now: datetime | None = None) -> bool:
    return row.last_seen < (now or timezone.now()) - timedelta(seconds=ALIVE_SECONDS)


def worker_kind() -> str:
    """The kind of worker that executes queued runs with this site's WORKFLOW_QUEUE."""
    return Kind.CELERY if settings.WORKFLOW_QUEUE == "celery" else Kind.DB_WORKER


def enabled_schedules():
    # Paused schedules hold no next due time: one range of the next_due index.
    return Schedule.objects.filter(enabled=True, next_due__isnull=False)


@dataclass(frozen=True)
class Warnings:
    """What the banner says: runs wait for a worker, schedules wait for a scheduler."""

    no_worker: bool
    no_scheduler: bool
    worker_kind: str = Kind.DB_WORKER

    def __bool__(self) -> bool:
        return self.no_worker or self.no_scheduler


def warnings(now: datetime | None = None) -> Warnings:
    """The banner's state in one query (four EXISTS, each an index range)."""
    found = _exist(
        Run.objects.filter(status=Run.Status.QUEUED),
        alive(worker_kind(), now),
        enabled_schedules(),
        alive(Kind.SCHEDULER, now),
    )
    queued, worker, schedules, scheduler = found
    return Warnings(
        no_worker=queued and not worker, no_scheduler=schedules and not scheduler, worker_kind=worker_kind()
    )


def _exist(*querysets) -> list[bool]:
    parts, params = [], []
    for queryset in querysets:
        sql, args = queryset.values("pk")[:1].query.sql_with_params()
        parts.append(f"EXISTS ({sql})")
        params.extend(args)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return [bool(value) for value in cursor.fetchone()]


@dataclass
class Health:
    """What /health reports; `reasons` is empty when all is well."""

    database: bool = False
    workers_alive: dict[str, int] = field(default_factory=dict)
    scheduler_alive: bool = False
    oldest_queued_seconds: float | None = None
    reasons: list[str] = field(default_factory=list)


def health(now: datetime | None = None) -> Health:
    now = now or timezone.now()
    report = Health()
    try:
        _measure(report, now)
    except DatabaseError as err:
        # The error's class, never its text: that may name hosts and users.
        drop_broken_connections()
        report.database = False
        report.reasons = [f"the database is unreachable ({type(err).__name__})"]
    return report


def _measure(report: Health, now: datetime) -> None:
    counts = dict(
        WorkerProcess.objects.filter(
            last_seen__gte=now - timedelta(seconds=ALIVE_SECONDS), kind__in=Kind.values
        )
        .values_list("kind")
        .annotate(n=Count("pk"))
    )
    report.workers_alive = {kind: counts.get(kind, 0) for kind in (Kind.DB_WORKER, Kind.CELERY)}
    report.scheduler_alive = bool(counts.get(Kind.SCHEDULER))
    queued = Run.objects.filter(status=Run.Status.QUEUED)
    oldest = queued.order_by("id").values_list("created_at", flat=True).first()
    report.database = True
    report.oldest_queued_seconds = round((now - oldest).total_seconds(), 3) if oldest else None
    if oldest and not counts.get(worker_kind()):
        report.reasons.append(f"runs are queued and no {worker_kind()} has been seen for {ALIVE_SECONDS} s")
    if not report.scheduler_alive and enabled_schedules().exists():
        report.reasons.append(f"schedules are enabled and no scheduler has been seen for {ALIVE_SECONDS} s")


class Beater:
    """A thread that beats for this process every BEAT_SECONDS (at once when its current run
    changes), on its own connection, until stop(); then it removes the row."""

    def __init__(self, kind: str, queue: str = "", interval: float = BEAT_SECONDS) -> None:
        self.kind, self.queue, self.interval = kind, queue, interval
        self.started_at = timezone.now()
        self._stopping = False
        self._last_sweep = 0.0
        # A fresh context: Django keeps connections per thread and per context.
        self._thread = threading.Thread(
            target=contextvars.Context().run, args=(self._loop,), name=f"liveness-{kind}", daemon=True
        )

    def start(self) -> "Beater":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        _wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self._stopping:
                self._pulse()
                _wake.wait(self.interval)
                _wake.clear()
            with contextlib.suppress(DatabaseError):
                forget(self.kind)
        finally:
            connection.close()

    def _pulse(self) -> None:
        # A database outage must not end the thread: the next beat tries again.
        try:
            beat(self.kind, self.queue, started_at=self.started_at, current_run_id=_current_run)
            if time.monotonic() - self._last_sweep > 60:
                self._last_sweep = time.monotonic()
                remove_stale()
        except DatabaseError:
            drop_broken_connections()
