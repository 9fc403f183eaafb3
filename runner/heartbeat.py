"""A running run's pulse: refreshes its heartbeat and notices a cancel request."""

import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from runner.models import Run


class Heartbeat:
    """Background thread for the duration of a run, on its own database connection.

    Every `interval` seconds it stamps `heartbeat_at` (so a dead worker is detectable even
    in the middle of a long step) and reads `cancel_requested`; the engine asks
    `cancelled()` before each step, which costs no query.
    """

    def __init__(self, run_id: int, interval: float | None = None) -> None:
        self.run_id = run_id
        self.interval = interval or settings.WORKFLOW_HEARTBEAT_SECONDS
        self._cancelled = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self._pulse()
        finally:
            connection.close()

    def _pulse(self) -> None:
        # A database hiccup must not kill the pulse: the next beat tries again.
        try:
            close_old_connections()
            Run.objects.filter(pk=self.run_id).update(heartbeat_at=timezone.now())
            if Run.objects.filter(pk=self.run_id, cancel_requested=True).exists():
                self._cancelled.set()
        except Exception:
            connection.close()
