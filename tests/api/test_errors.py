"""Every refusal and failure of the API is JSON with a message: bad bodies, wrong types, sizes,
unknown things and paths, methods, and the server's own errors."""

import pytest
from django.test import Client

from tests.api.helpers import API, send
from tests.factories import client_for

pytestmark = pytest.mark.django_db


def test_a_body_that_is_not_json_is_a_400_saying_where(api, example):
    response = send(api, "POST", "/validate", '{"definition": {')

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "message": "the body is not valid JSON: Expecting property name enclosed in double quotes:"
        " line 1 column 17 (char 16)"
    }


def test_a_body_that_is_not_utf8_is_a_400(api, example):
    response = send(api, "POST", "/validate", b'{"definition": "\xff"}')

    assert response.status_code == 400
    assert response.json()["message"].startswith("the body is not valid JSON")


def test_a_body_nested_too_deeply_is_a_400(api, example):
    response = send(api, "POST", "/validate", "[" * 100_000)

    assert response.json() == {"message": "the body is not valid JSON: nested too deeply"}


@pytest.mark.parametrize("body", ["[]", '"text"', "3", "null"])
def test_a_body_that_is_not_an_object_is_a_400(api, example, body):
    response = send(api, "POST", "/flows/example/runs", body)

    assert response.status_code == 400
    assert response.json() == {"message": "the body must be a JSON object"}


def test_a_value_of_the_wrong_type_is_a_422_naming_it(api, example):
    response = send(api, "POST", "/validate", {"definition": ["not", "an", "object"]})

    assert response.status_code == 422
    assert response.json() == {
        "message": "the request does not fit: body definition: Input should be a valid dictionary",
        "problems": ["body definition: Input should be a valid dictionary"],
    }


def test_a_query_parameter_of_the_wrong_type_is_a_422(api, example):
    response = send(api, "GET", "/runs?limit=many")

    assert response.status_code == 422
    assert response.json()["problems"] == [
        "query limit: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_a_body_over_the_limit_is_a_413_before_it_is_read(api, example, settings):
    settings.WORKFLOW_API_MAX_BODY_BYTES = 100

    response = send(api, "POST", "/validate", {"definition": {"x": "y" * 200}})

    assert response.status_code == 413
    assert response.json() == {"message": "the body is larger than 100 bytes"}


def test_a_body_over_djangos_own_limit_is_a_413_too(api, example, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = send(api, "POST", "/flows/example/runs", {"input": {"x": "y" * 200}})

    assert response.status_code == 413


def test_a_body_at_the_limit_is_read(api, example, settings):
    body = '{"input": {}}'
    settings.WORKFLOW_API_MAX_BODY_BYTES = len(body)

    assert send(api, "POST", "/flows/example/runs", body).status_code == 201


def test_an_unknown_flow_is_a_404_json(api, example):
    response = send(api, "GET", "/flows/unknown/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path", ["/api", "/api/", "/api/v1/", "/api/v1/nope", "/api/v2/flows", "/api/v1/flows/a/b"]
)
def test_an_unknown_path_under_api_is_a_404_json(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response.json() == {
        "message": f"no API endpoint at {path}: the endpoints are listed at /api/v1/docs"
    }


def test_an_unknown_path_needs_no_credentials_to_be_a_404(db):
    assert Client().get(f"{API}/nope").status_code == 404


def test_a_method_a_path_does_not_take_is_a_405_json(api, example):
    response = send(api, "DELETE", "/flows/example")

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "PUT"}
    assert response.json()["message"].startswith("DELETE is not allowed here")


def test_an_error_of_the_server_is_a_500_json_and_logged(api, example, monkeypatch, caplog):
    def broken(run):
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.views.run_document", broken)

    response = send(api, "POST", "/flows/example/runs")

    assert response.status_code == 500
    assert response.json() == {"message": "the server failed to answer this request; the error is in its log"}
    assert "a bug" in caplog.text


def test_a_post_to_an_unknown_path_is_a_404_not_a_csrf_page(operator):
    client = client_for(operator, enforce_csrf_checks=True)

    response = client.post(f"{API}/flow/example/runs", {})

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_the_docs_take_get_only(operator, path):
    response = client_for(operator, enforce_csrf_checks=True).post(f"{API}{path}")

    assert response.status_code == 405
    assert response.json() == {"message": "POST is not allowed here; this path takes GET"}
