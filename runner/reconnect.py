"""Database calls that survive a dropped connection (a server restart, wait_timeout, a
network blip), so that a run's outcome lands once the database is back."""

import logging
import threading
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

# Errors of the connection, not of the data: worth reconnecting and trying again.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def drop_broken_connections() -> None:
    """Close this thread's connections that failed, so the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close_if_unusable_or_obsolete()
        except Exception:
            # A connection that cannot even be checked is closed outright.
            try:
                connection.close()
            except Exception:
                connection.connection = None


def call_once_more(call: Callable):
    """call(); after a connection error, reconnect and try exactly once more."""
    try:
        return call()
    except CONNECTION_ERRORS:
        drop_broken_connections()
        return call()


def call_until(call: Callable, *, seconds: float, what: str):
    """call() until it gets through a connection error, for at most `seconds`, reconnecting
    between attempts with a backoff from 0.2 s to 5 s; the last error is raised."""
    deadline = time.monotonic() + seconds
    delay, pause = 0.2, threading.Event()
    while True:
        try:
            return call()
        except CONNECTION_ERRORS as err:
            if time.monotonic() + delay > deadline:
                raise
            logger.warning("%s: the database is unavailable (%s); retrying in %.1f s", what, err, delay)
            drop_broken_connections()
            pause.wait(delay)
            delay = min(delay * 2, 5.0)
