"""Input built to hurt: deep nesting, odd digits, names legacy rows may hold. Never a 500."""

import json

import pytest

from flows.models import Flow
from runner.models import Run

pytestmark = pytest.mark.django_db


def deeply_nested_params(depth: int) -> str:
    params: object = "@step1.msg"
    for _ in range(depth):
        params = {"a": params}
    steps = [
        {"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hi"}},
        {"name": "step2", "mod": "common.Kt", "method": "prt", "params": {"msg": params}},
    ]
    return json.dumps({"procedures": steps})


def test_validating_params_nested_thousands_deep_answers_with_a_diagnostic(client, flow):
    response = client.post(
        "/flows/example/validate/", {"flow_json": deeply_nested_params(3000)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert b"SCHEMA" in response.content


def test_run_input_nested_beyond_the_parser_is_refused_and_nothing_is_queued(client, flow):
    response = client.post("/flows/example/run/", {"input": "[" * 100_000})

    assert response.status_code == 400
    assert b"nested too deeply" in response.content
    assert not Run.objects.exists()


def test_run_input_nested_deeper_than_the_database_stores_is_refused(client, flow):
    response = client.post("/flows/example/run/", {"input": '{"a": ' + "[" * 40 + "]" * 40 + "}"})

    assert response.status_code == 400
    assert b"nested deeper than" in response.content
    assert not Run.objects.exists()


def test_a_non_ascii_digit_cursor_is_ignored(client, flow):
    response = client.get("/flows/example/revisions/?before=²")

    assert response.status_code == 200


def test_a_legacy_row_nested_too_deeply_shows_as_invalid(client):
    Flow.objects.create(flow_name="deep", flow_json="[" * 100_000)

    response = client.get("/flows/deep/")

    assert response.status_code == 200


def test_a_legacy_flow_with_an_empty_name_does_not_break_the_overview(client, flow):
    Flow.objects.create(flow_name="", flow_json="{}")

    response = client.get("/")

    assert response.status_code == 200


def test_a_legacy_flow_with_an_empty_name_has_a_working_page(client):
    Flow.objects.create(flow_name="", flow_json="{}")

    response = client.get("/flows//")

    assert response.status_code == 200
