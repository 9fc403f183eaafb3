"""Starting a run through the API, at most once per `Idempotency-Key`.

A client that retries a start (a timeout, a dropped connection) sends the same key again and
gets the run its first request made instead of a second run. The key's row is written in the
run's own transaction (services.create_run's `on_created`), so a run exists exactly when its
key does; two requests racing with one key meet at the row's unique key, and the loser
answers the winner's run.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError
from django.utils import timezone

from api.models import IdempotentStart
from flows.models import Flow
from runner import services
from runner.models import Run

# How long a key keeps its run; an older key is used again as if new.
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(Exception):
    """The key already started a run of this flow with another body: the request is refused,
    since answering that run would hide that the client sent something else."""

    def __init__(self, key: str, run_id: int) -> None:
        super().__init__(
            f"the Idempotency-Key {key!r} already started run {run_id} of this flow with a different"
            " body: use a new key for a different request"
        )
        self.run_id = run_id


class NotRunnable(Exception):
    """The flow is disabled or deleted: no run starts (services.ensure_runnable says why)."""


@dataclass(frozen=True)
class Started:
    run: Run
    created: bool  # False when the key's earlier run is answered again


def body_digest(input: dict) -> str:
    """The digest of a start's body: the same input, whatever its key order or spacing."""
    text = json.dumps(input, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def start(
    flow: Flow,
    *,
    input: dict,
    triggered_by: str,
    key: str | None = None,
    on_created: Callable[[Run], None] | None = None,
) -> Started:
    """A new queued run of the flow (trigger "api"), or with a key used within KEY_LIFETIME,
    the run that key started, even if the flow was disabled since. KeyReused when that run
    was started with another input; NotRunnable when the flow is disabled or deleted;
    services.CannotStart (and its subclasses) when the run cannot start for another reason."""
    if key is None:
        _ensure_runnable(flow)
        run = services.create_run(
            flow, input=input, trigger="api", triggered_by=triggered_by, on_created=on_created
        )
        return Started(run, True)
    digest = body_digest(input)
    since = timezone.now() - KEY_LIFETIME
    row = IdempotentStart.objects.filter(flow_id=flow.pk, key=key).first()
    if row is not None and row.created_at >= since:
        earlier = Run.objects.filter(pk=row.run_id).first()
        if earlier is not None:
            return _again(row, earlier, key, digest)
    _ensure_runnable(flow)

    def record_key(run: Run) -> None:
        # The key is free again when its row expired or its run was removed: that row makes
        # room for the new one, in the run's transaction. A row another request wrote
        # meanwhile stays, and the insert below fails on it.
        if row is not None:
            IdempotentStart.objects.filter(pk=row.pk, run_id=row.run_id).delete()
        IdempotentStart.objects.create(flow_id=flow.pk, key=key, body_digest=digest, run_id=run.pk)
        if on_created is not None:
            on_created(run)

    try:
        run = services.create_run(
            flow, input=input, trigger="api", triggered_by=triggered_by, on_created=record_key
        )
    except IntegrityError:
        # Another request with this key committed its run first: answer that one.
        row = IdempotentStart.objects.filter(flow_id=flow.pk, key=key, created_at__gte=since).first()
        earlier = Run.objects.filter(pk=row.run_id).first() if row is not None else None
        if earlier is None:
            raise
        return _again(row, earlier, key, digest)
    return Started(run, True)


def _ensure_runnable(flow: Flow) -> None:
    try:
        services.ensure_runnable(flow)
    except services.CannotStart as err:
        raise NotRunnable(str(err)) from err


def _again(row: IdempotentStart, run: Run, key: str, digest: str) -> Started:
    if row.body_digest != digest:
        raise KeyReused(key, run.pk)
    return Started(run, False)
