"""django-tasks-db's `db_worker`, made to outlive the database going away, and quick.

The library's worker loop lets a database error escape and the process ends (a restart of
the server, a network blip while it polls or records a result): every later run would wait
forever. This worker waits for the database instead, with a backoff, and goes on. It
replaces the library's command of the same name (this app comes first in INSTALLED_APPS).

Two things make a stream of short runs cheap: the worker keeps its database connections
(the library's loop would close and reopen them for every task with the default
`CONN_MAX_AGE` of 0: a connection, its authentication and session setup per run), checked
before use after each task; and while runs keep arriving it polls again within
milliseconds, backing off to `--interval` once the queue stays empty.
"""

import logging
import threading
import time

from django.db import connections
from django_tasks_db.management.commands import db_worker as library

from alerts import sender
from runner import liveness
from runner.reconnect import CONNECTION_ERRORS, drop_broken_connections

logger = logging.getLogger("django_tasks_db")

MAX_PAUSE = 10.0
CONNECTION_AGE = 300  # seconds a worker keeps a connection when CONN_MAX_AGE is 0
BUSY_POLL = 0.005  # the first pause after a task, when the queue was empty; doubled up to --interval


class Worker(library.Worker):
    # The library sleeps `self.interval` after each poll that found no task. Here that pause
    # starts short after a task ran, and doubles at each empty poll up to the configured
    # interval: a queue being filled one run at a time is drained as it fills, an idle one
    # costs a poll per interval.
    @property
    def interval(self) -> float:
        pause = self._pause
        self._pause = min(pause * 2, self._interval)
        return pause

    @interval.setter
    def interval(self, value: float) -> None:
        self._interval = self._pause = value

    def run_task(self, db_task_result) -> None:
        try:
            super().run_task(db_task_result)
        finally:
            self._pause = min(BUSY_POLL, self._interval)

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
        keep_connections()
        super().handle(**options)


def keep_connections() -> None:
    """This process keeps its database connections between tasks, and checks one before
    using it again (a server restart, `wait_timeout`): unless CONN_MAX_AGE says otherwise."""
    for alias in connections:
        config = connections.settings[alias]
        if config.get("CONN_MAX_AGE") == 0:
            config["CONN_MAX_AGE"] = CONNECTION_AGE
            config["CONN_HEALTH_CHECKS"] = True
