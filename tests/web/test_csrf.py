"""CSRF protection on every state change, HTMX requests included."""

import pytest

from flows.editing import json_hash
from flows.models import Flow
from runner.models import Run
from tests.factories import EXAMPLE_JSON, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(operator):
    return client_for(operator, enforce_csrf_checks=True)


def csrf_token(client) -> str:
    client.get("/flows/example/")
    return client.cookies["csrftoken"].value


def test_an_htmx_validate_without_a_token_is_refused(strict, flow):
    response = strict.post("/flows/example/validate/", {"flow_json": EXAMPLE_JSON}, HTTP_HX_REQUEST="true")

    assert response.status_code == 403


def test_an_htmx_validate_with_the_token_header_is_accepted(strict, flow):
    token = csrf_token(strict)

    response = strict.post(
        "/flows/example/validate/",
        {"flow_json": EXAMPLE_JSON},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200


def test_the_page_gives_htmx_the_token_in_a_header(strict, flow):
    html = strict.get("/flows/example/").content.decode()

    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_a_save_without_a_token_changes_nothing(strict, flow):
    response = strict.post("/flows/example/save/", {"flow_json": "{}", "base": json_hash(EXAMPLE_JSON)})

    assert response.status_code == 403
    assert Flow.objects.get(pk=flow.pk).flow_json == EXAMPLE_JSON


def test_a_run_without_a_token_queues_nothing(strict, flow):
    response = strict.post("/flows/example/run/", {"input": ""})

    assert response.status_code == 403
    assert not Run.objects.exists()


def test_a_form_post_with_the_token_is_accepted(strict, flow):
    token = csrf_token(strict)

    response = strict.post("/flows/example/disable/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).enabled is False
