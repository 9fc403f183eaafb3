"""Property-based tests from the OpenAPI document, against the live app: whatever schemathesis
sends, within the document and around it, the API answers without a server error, with a
status code the document lists and a body its schema describes."""

import json

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from api import views
from api.tokens import create_token
from flows.models import FlowDescription
from runner.log import run_logger_name
from tests.api.helpers import failed_run
from tests.api.test_wait import FakeClock
from tests.factories import EXAMPLE, log, make_flow, make_run

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def secret(transactional_db) -> str:
    """A token of scope write for a superuser, and something for every endpoint to find."""
    user = User.objects.create_superuser("fuzz", password=None)
    example = make_flow("example", *EXAMPLE)
    make_flow("off", *EXAMPLE, enabled=False)
    FlowDescription.objects.create(flow_id=example.pk, text="the example")
    run = make_run(status="succeeded")
    log("hello", logger=run_logger_name(run.pk))
    failed_run()
    return create_token(user, name="fuzz", scope="write")[1]


@pytest.fixture
def no_waiting(monkeypatch) -> None:
    # The runs this test starts stay queued (no worker): ?wait=N on one of them must not
    # hold the test for N seconds. The live server's thread reads the same module.
    fake = FakeClock()
    monkeypatch.setattr(views, "clock", fake.monotonic)
    monkeypatch.setattr(views, "sleep", fake.sleep)


# The document as /api/v1/openapi.json serves it (read here: tests are made at collection).
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(views.api.get_openapi_schema())))
# Requests that fit the document, and requests that do not (which must be refused with a 4xx).
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case, live_server, secret, no_waiting):
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS
    )
