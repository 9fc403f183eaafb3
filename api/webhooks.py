"""Inbound webhooks: one secret URL per flow, stored as a digest, with a shared rate limit.

The secret is the whole credential (POST /hooks/<secret> starts a run), so it is shown once
when made and only its digest is kept, as for API tokens.
"""

import math
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from api.models import FlowHook
from api.tokens import digest

WINDOW = timedelta(minutes=1)
MAX_SECRET_LENGTH = 200  # a longer path is no secret of ours: not worth hashing


def hook_of(flow_id: int) -> FlowHook | None:
    return FlowHook.objects.filter(flow_id=flow_id).first()


def rotate(flow_id: int, *, created_by: str = "") -> tuple[FlowHook, str]:
    """A new secret for the flow's webhook (made if the flow had none), shown once: the old
    secret stops working at once. Returns the hook and its secret."""
    secret = secrets.token_urlsafe(32)
    fields = {
        "digest": digest(secret),
        "created_by": created_by[:150],
        "created_at": timezone.now(),
        "last_used_at": None,
        "window_start": None,
        "window_count": 0,
    }
    try:
        with transaction.atomic():
            hook, _ = FlowHook.objects.update_or_create(flow_id=flow_id, defaults=fields)
    except IntegrityError:
        # Two people created the flow's first hook at the same moment: the other insert
        # won the unique flow_id, so this one replaces its secret instead.
        FlowHook.objects.filter(flow_id=flow_id).update(**fields)
        hook = FlowHook.objects.get(flow_id=flow_id)
    return hook, secret


def remove(flow_id: int) -> bool:
    """The flow's webhook is gone (its URL answers 404); False if it had none."""
    deleted, _ = FlowHook.objects.filter(flow_id=flow_id).delete()
    return deleted > 0


def find(secret: str) -> FlowHook | None:
    """The hook whose secret this is, or None."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        return None
    return FlowHook.objects.filter(digest=digest(secret)).first()


def count_hit(hook: FlowHook, now: datetime | None = None) -> int:
    """Count one request in the hook's current one-minute window and note it as used.

    Returns 0 when the request is allowed, else the seconds until the window ends (the
    Retry-After). One conditional UPDATE both checks and counts, so web processes sharing
    the row never let through more than the limit between them.
    """
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    limit = settings.WORKFLOW_HOOK_RATE_PER_MINUTE
    same_window = Q(window_start=window)
    counted = (
        FlowHook.objects.filter(pk=hook.pk)
        .filter(~same_window | Q(window_start__isnull=True) | Q(window_count__lt=limit))
        # window_count comes before window_start: MySQL evaluates the assignments of an
        # UPDATE from left to right, each seeing the ones before it, so the CASE must read
        # window_start before it is set.
        .update(
            window_count=Case(When(same_window, then=F("window_count") + 1), default=Value(1)),
            window_start=window,
            last_used_at=now,
        )
    )
    if counted:
        return 0
    return max(1, math.ceil((window + WINDOW - now).total_seconds()))
