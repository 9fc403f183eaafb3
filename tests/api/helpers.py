"""Callers of the API in tests: a client holding a token of some scope, or a session."""

import json

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from api.tokens import create_token
from runner.models import Run, RunStep
from tests.factories import make_run

API = "/api/v1"


def token_client(user: User, scope: str = "write", name: str = "") -> Client:
    """A client that sends `Authorization: Bearer` with a new token of `user`."""
    _, secret = create_token(user, name=name, scope=scope)
    return Client(headers={"authorization": f"Bearer {secret}"})


def send(client: Client, method: str, path: str, body=None, **headers):
    """An API request with a JSON body (given as an object, or as raw text or bytes)."""
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    return client.generic(
        method, API + path, data=data or b"", content_type="application/json", headers=headers
    )


def failed_run(flow_name: str = "example") -> Run:
    """A run of the example flow whose second step failed, the first one's result stored:
    one that can be resumed."""
    run = make_run(
        flow_name,
        status="failed",
        failed_step="step2",
        error="ValueError: no",
        context={"step1": {"msg": "hello"}},
    )
    now = timezone.now()
    RunStep.objects.create(run=run, index=0, name="step1", status="succeeded", started_at=now)
    RunStep.objects.create(run=run, index=1, name="step2", status="failed", started_at=now, error=run.error)
    return run
