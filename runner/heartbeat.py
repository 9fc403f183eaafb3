"""A running run's pulse, so that a run whose worker died can be told apart."""

import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from runner.models import Run


class Heartbeat:
    """Background thread for the duration of a run, on its own database connection.

    Every `interval` seconds it stamps `heartbeat_at`, also in the middle of a long step;
    services.reap_lost_runs fails the runs whose stamp has gone stale.
    """

    def __init__(self, run_id: int, interval: float | None = None) -> None:
        self.run_id = run_id
        self.interval = interval or settings.WORKFLOW_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

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
        except Exception:
            connection.close()
