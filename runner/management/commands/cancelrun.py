"""`manage.py cancelrun RUN_ID [--now]`: cancel a run and wait for it to end.

Exit 0 when the run ended cancelled or was already final; 1 when it did not end cancelled
in time (the request stays recorded, the worker still acts on it); 2 when the run is unknown.
"""

import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from runner import services
from runner.models import Run

EXIT_CANCELLED, EXIT_NOT_CANCELLED, EXIT_UNKNOWN = 0, 1, 2
POLL_SECONDS = 0.2
# Beyond the grace period: the worker's poll (0.5 s), the SIGTERM-to-SIGKILL second and
# recording the outcome, with room to spare.
EXTRA_WAIT_SECONDS = 10


class Command(BaseCommand):
    help = "Cancel a run and wait for it to end. Exit 0 cancelled or already final, 1 not in time, 2 unknown."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", help="the run's id")
        parser.add_argument(
            "--now", action="store_true", help="stop the running step at once, without the grace period"
        )

    def handle(self, *args, run_id: str, now: bool, **options) -> None:
        self.stderr.style_func = None
        sys.exit(self._cancel(run_id, now))

    def _cancel(self, run_id: str, now: bool) -> int:
        if not run_id.isdigit():
            return self._say(EXIT_UNKNOWN, f"cancelrun: {run_id!r} is not a run id")
        run = Run.objects.filter(pk=int(run_id)).first()
        if run is None:
            return self._say(EXIT_UNKNOWN, f"cancelrun: run {run_id} not found")
        if run.is_finished:
            return self._say(EXIT_CANCELLED, f"run {run.pk} already {run.status}")
        services.request_cancel(run.pk, now=now)
        ended = self._wait(run.pk, settings.WORKFLOW_KILL_GRACE_SECONDS + EXTRA_WAIT_SECONDS)
        if ended is None:
            return self._say(
                EXIT_NOT_CANCELLED,
                f"cancelrun: run {run.pk} is still running; the cancel request stays recorded",
            )
        if ended.status != Run.Status.CANCELLED:
            return self._say(
                EXIT_NOT_CANCELLED, f"cancelrun: run {run.pk} ended {ended.status} before the cancel"
            )
        return self._say(EXIT_CANCELLED, f"run {run.pk} cancelled")

    def _wait(self, run_id: int, seconds: float) -> Run | None:
        deadline, tick = time.monotonic() + seconds, threading.Event()
        while time.monotonic() < deadline:
            run = Run.objects.get(pk=run_id)
            if run.is_finished:
                return run
            tick.wait(POLL_SECONDS)
        return None

    def _say(self, code: int, line: str) -> int:
        (self.stdout if code == EXIT_CANCELLED else self.stderr).write(line)
        return code
