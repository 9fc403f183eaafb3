"""Input built to hurt: deep nesting, odd digits, names legacy rows may hold. Never a 500."""

import json

import pytest

from flows.editing import json_hash
from flows.models import Flow
from runner.models import Run
from tests.factories import EXAMPLE_JSON

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


LONG_INTEGER = "1" * 5000
WITH_LONG_INTEGER = EXAMPLE_JSON.replace('"hello"', LONG_INTEGER, 1)
DIGITS_MESSAGE = b"a number in the JSON has more than 4300 digits"


def test_validating_a_definition_with_an_integer_over_4300_digits_answers_with_a_diagnostic(client, flow):
    response = client.post(
        "/flows/example/validate/", {"flow_json": WITH_LONG_INTEGER}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert DIGITS_MESSAGE in response.content


def test_checking_a_definition_with_an_integer_over_4300_digits_keeps_the_editor(client, flow):
    response = client.post("/flows/example/validate/", {"flow_json": WITH_LONG_INTEGER})

    assert response.status_code == 200
    assert DIGITS_MESSAGE in response.content


def test_saving_a_definition_with_an_integer_over_4300_digits_is_refused(client, flow):
    response = client.post(
        "/flows/example/save/", {"flow_json": WITH_LONG_INTEGER, "base": json_hash(EXAMPLE_JSON)}, follow=True
    )

    assert response.redirect_chain == [("/flows/example/", 303)]
    assert DIGITS_MESSAGE in response.content
    assert Flow.objects.get(flow_name="example").flow_json == EXAMPLE_JSON


def test_creating_a_flow_with_an_integer_over_4300_digits_is_refused(client):
    response = client.post("/new-flow/", {"flow_name": "big", "flow_json": WITH_LONG_INTEGER})

    assert response.status_code == 200
    assert DIGITS_MESSAGE in response.content
    assert not Flow.all_objects.filter(flow_name="big").exists()


def test_a_legacy_row_with_an_integer_over_4300_digits_has_a_working_editor(client):
    Flow.objects.create(flow_name="big", flow_json=WITH_LONG_INTEGER)

    response = client.get("/flows/big/")

    assert response.status_code == 200
    assert DIGITS_MESSAGE in response.content


def test_run_input_with_an_integer_over_4300_digits_is_refused(client, flow):
    response = client.post("/flows/example/run/", {"input": '{"n": ' + LONG_INTEGER + "}"})

    assert response.status_code == 400
    assert DIGITS_MESSAGE + b" (line 1, column 7)" in response.content
    assert not Run.objects.exists()


def test_a_run_input_line_with_an_integer_over_4300_digits_is_refused(client, flow):
    response = client.post("/flows/example/run/", {"input": "day=monday\nn=" + LONG_INTEGER})

    assert response.status_code == 400
    assert b"n: a number in the JSON has more than 4300 digits" in response.content
    assert not Run.objects.exists()


def test_run_input_with_nan_is_refused_as_not_a_json_number(client, flow):
    response = client.post("/flows/example/run/", {"input": '{"x": NaN}'})

    assert response.status_code == 400
    assert b"NaN is not a JSON number: numbers must be finite (line 1, column 7)" in response.content
    assert not Run.objects.exists()


def test_a_run_input_line_with_infinity_is_refused_with_a_hint_to_quote_it(client, flow):
    response = client.post("/flows/example/run/", {"input": "x=Infinity"})

    assert response.status_code == 400
    assert b"x: Infinity is not a JSON number" in response.content
    assert b"quote the value to pass it as text" in response.content
    assert not Run.objects.exists()


def test_run_input_with_a_number_beyond_float_range_is_refused(client, flow):
    response = client.post("/flows/example/run/", {"input": '{"x": 1e400}'})

    assert response.status_code == 400
    assert b"the number 1e400 is too large" in response.content
    assert not Run.objects.exists()


def test_a_cursor_of_thousands_of_digits_is_ignored(client, flow):
    response = client.get("/flows/example/revisions/?before=" + LONG_INTEGER)

    assert response.status_code == 200
