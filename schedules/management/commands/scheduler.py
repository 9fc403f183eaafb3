"""`manage.py scheduler`: fires the due ticks of every schedule and reaps lost runs.

Several may run at once (on several machines, for availability): the ledger's unique
(schedule, due time) key lets each tick fire once whatever they do, so none needs to be
"the only one". Each pass is one indexed query for the due schedules; between passes the
process sleeps until the next due time, at most WORKFLOW_SCHEDULER_WAKE_SECONDS (so it sees
new, changed and paused schedules within that time) and at least until a second has passed
since the last pass began.
"""

import contextlib
import logging
import signal
import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError
from django.utils import timezone

from alerts import sender
from runner import dispatch, liveness, retention, services
from runner.log import attach_database_handler, setup_logging
from runner.reconnect import drop_broken_connections
from schedules import ticking

log = logging.getLogger("workflow.scheduler")

MIN_PASS_INTERVAL = 1.0


class Scheduler:
    def __init__(self, wake: float, reap_every: float) -> None:
        self.wake, self.reap_every = wake, reap_every
        self.stopping = threading.Event()
        self.last_reap = 0.0
        self.started_at = timezone.now()

    def stop(self, *_signal) -> None:
        self.stopping.set()

    def run(self, passes: int | None = None) -> None:
        done = 0
        while not self.stopping.is_set():
            began = time.monotonic()
            sleep = self.step()
            done += 1
            if passes is not None and done >= passes:
                return
            elapsed = time.monotonic() - began
            self.stopping.wait(max(sleep, MIN_PASS_INTERVAL - elapsed))

    def step(self) -> float:
        """One pass; the seconds to sleep before the next."""
        try:
            if time.monotonic() - self.last_reap >= self.reap_every:
                self.last_reap = time.monotonic()
                if lost := services.reap_lost_runs():
                    log.warning("%d run(s) marked failed: their worker was lost", lost)
                liveness.remove_stale()
            result = ticking.run_pass(datetime.now(UTC), on_created=dispatch.hand_over)
            # After the pass, so the row's last_seen is the scheduler's last tick.
            liveness.beat(liveness.Kind.SCHEDULER, started_at=self.started_at)
        except DatabaseError as err:
            log.warning("the database is unavailable (%s); trying again in %.0f s", err, self.wake)
            drop_broken_connections()
            return self.wake
        for tick in result.ticks:
            log.info(
                "schedule %s tick %s: %s%s%s",
                tick.schedule_id,
                tick.due.isoformat(),
                tick.outcome,
                f" (run {tick.run_id})" if tick.run_id else "",
                f": {tick.detail}" if tick.detail and tick.outcome != "fired" else "",
            )
        until_next = self.wake
        if result.next_due is not None:
            until_next = (result.next_due - datetime.now(UTC)).total_seconds()
        return min(max(until_next, 0.0), self.wake, self.reap_every)


class Command(BaseCommand):
    help = "Fire the due ticks of every schedule and reap lost runs, until stopped (Ctrl-C, SIGTERM)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--passes", type=int, default=None, help="stop after this many passes (for checks)"
        )

    def handle(self, *args, passes=None, **options) -> None:
        setup_logging()
        attach_database_handler()
        scheduler = Scheduler(
            wake=float(settings.WORKFLOW_SCHEDULER_WAKE_SECONDS),
            reap_every=float(settings.WORKFLOW_SCHEDULER_REAP_SECONDS),
        )
        signal.signal(signal.SIGTERM, scheduler.stop)
        signal.signal(signal.SIGINT, scheduler.stop)
        log.info("scheduler started (wakes at least every %s s)", settings.WORKFLOW_SCHEDULER_WAKE_SECONDS)
        # Notifications are sent by a thread of their own: a slow channel never delays a tick.
        notifications = sender.SenderThread().start()
        # WORKFLOW_KEEP_RUNS_DAYS / WORKFLOW_KEEP_LOGS_DAYS, applied once a day when set.
        pruning = retention.DailyPrune().start()
        try:
            scheduler.run(passes)
        finally:
            pruning.stop()
            notifications.stop()
            with contextlib.suppress(DatabaseError):
                liveness.forget(liveness.Kind.SCHEDULER)
        log.info("scheduler stopped")
