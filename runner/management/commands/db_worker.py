"""django-tasks-db's `db_worker`, made to outlive the database going away.

The library's worker loop lets a database error escape and the process ends (a restart of
the server, a network blip while it polls or records a result): every later run would wait
forever. This worker waits for the database instead, with a backoff, and goes on. It
replaces the library's command of the same name (this app comes first in INSTALLED_APPS).
"""

import logging
import threading
import time

from django_tasks_db.management.commands import db_worker as library

from alerts import sender
from runner import liveness
from runner.reconnect import CONNECTION_ERRORS, drop_broken_connections

logger = logging.getLogger("django_tasks_db")

MAX_PAUSE = 10.0


class Worker(library.Worker):
    def run(self) -> None:
        # Its row on /workers/, /health and the banners, stamped from a thread so that a long
        # run does not make the worker look gone.
        beater = liveness.Beater(liveness.Kind.DB_WORKER, ",".join(self.queue_names)).start()
        # The outbox is sent from workers too (a thread of its own), so alerts go out while
        # no scheduler runs.
        notifications = sender.SenderThread().start()
        try:
            return self._run_through_outages()
        finally:
            notifications.stop()
            beater.stop()

    def _run_through_outages(self) -> None:
        pause, wake, last_failure = 0.5, threading.Event(), 0.0
        while True:
            try:
                return super().run()
            except CONNECTION_ERRORS as err:
                if not self.running:
                    return None
                if time.monotonic() - last_failure > 60:
                    pause = 0.5  # a new outage, not the same one going on
                last_failure = time.monotonic()
                logger.warning("The database is unavailable (%s); polling again in %.1f s", err, pause)
                drop_broken_connections()
                self.startup_delay = False
                wake.wait(pause)
                pause = min(pause * 2, MAX_PAUSE)


class Command(library.Command):
    def handle(self, **options) -> None:
        # The library's handle() builds its Worker by this module-level name.
        library.Worker = Worker
        super().handle(**options)
