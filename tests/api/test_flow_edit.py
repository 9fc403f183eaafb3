"""PUT /flows/{name} (If-Match, revisions, validation) and POST /validate."""

import json

import pytest

from flows.editing import json_hash
from flows.models import Flow, FlowRevision
from tests.api.helpers import send
from tests.factories import step

pytestmark = pytest.mark.django_db

NEW = {"procedures": [step("greet", msg="bonjour"), step("again", msg="@greet.msg")]}
INVALID = {"procedures": [step("a", method="nope"), step("a")]}


def etag_of(api, name: str = "example") -> str:
    return send(api, "GET", f"/flows/{name}")["ETag"]


def test_a_put_with_the_current_etag_saves_a_revision_and_answers_the_new_etag(api, example):
    response = send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": etag_of(api)})

    assert response.status_code == 200
    stored = Flow.objects.get(pk=example.pk).flow_json
    assert response["ETag"] == f'"{json_hash(stored)}"' == response.json()["etag"]
    assert response.json()["definition"] == NEW
    # The replaced version is revision 1, this save revision 2.
    assert response.json()["revision"] == 2
    assert list(FlowRevision.objects.values_list("number", "note", "saved_by")) == [
        (1, "original", ""),
        (2, "api", "ann"),
    ]


def test_a_put_stores_the_definition_pretty_printed_with_its_unicode(api, example):
    definition = {"procedures": [step("grüß", msg="naïve ✓")]}

    send(api, "PUT", "/flows/example", {"definition": definition}, **{"If-Match": etag_of(api)})

    assert Flow.objects.get(pk=example.pk).flow_json == json.dumps(definition, indent=2, ensure_ascii=False)


def test_a_put_without_if_match_is_a_428(api, example):
    response = send(api, "PUT", "/flows/example", {"definition": NEW})

    assert response.status_code == 428
    assert "If-Match" in response.json()["message"]
    assert FlowRevision.objects.count() == 0


def test_a_put_with_a_stale_etag_is_a_412_and_saves_nothing(api, example):
    stale = etag_of(api)
    send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": stale})
    before = Flow.objects.get(pk=example.pk).flow_json

    response = send(api, "PUT", "/flows/example", {"definition": {**NEW, "x": 1}}, **{"If-Match": stale})

    assert response.status_code == 412
    assert "changed since" in response.json()["message"]
    assert Flow.objects.get(pk=example.pk).flow_json == before


def test_a_weak_etag_never_matches(api, example):
    response = send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": "W/" + etag_of(api)})

    assert response.status_code == 412


def test_if_match_may_list_several_etags(api, example):
    tags = f'"abc", {etag_of(api)}'

    response = send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": tags})

    assert response.status_code == 200


def test_if_match_star_overwrites_whatever_is_there(api, example):
    response = send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": "*"})

    assert response.status_code == 200


def test_a_put_of_an_invalid_definition_is_a_422_with_its_diagnostics(api, example):
    response = send(api, "PUT", "/flows/example", {"definition": INVALID}, **{"If-Match": etag_of(api)})

    assert response.status_code == 422
    body = response.json()
    assert body["message"].endswith("nothing was saved")
    codes = {d["code"] for d in body["diagnostics"]}
    assert {"DUPLICATE_STEP"} <= codes
    assert set(body["diagnostics"][0]) == {"code", "path", "message", "step"}
    assert FlowRevision.objects.count() == 0


def test_a_put_of_the_same_definition_makes_no_revision(api, example):
    etag = etag_of(api)
    send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": etag})
    etag = etag_of(api)

    response = send(api, "PUT", "/flows/example", {"definition": NEW}, **{"If-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] == etag
    assert FlowRevision.objects.count() == 2


def test_a_put_to_an_unknown_flow_is_a_404(api, example):
    response = send(api, "PUT", "/flows/nope", {"definition": NEW}, **{"If-Match": "*"})

    assert response.status_code == 404


def test_a_put_without_a_definition_is_a_422(api, example):
    response = send(api, "PUT", "/flows/example", {"procedures": []}, **{"If-Match": "*"})

    assert response.status_code == 422
    assert response.json()["problems"] == ["body definition: Field required"]


def test_a_definition_that_is_not_an_object_is_a_422(api, example):
    response = send(api, "PUT", "/flows/example", {"definition": "[]"}, **{"If-Match": "*"})

    assert response.status_code == 422
    assert response.json()["problems"] == ["body definition: Input should be a valid dictionary"]


def test_validate_answers_a_valid_definition(api, example):
    response = send(api, "POST", "/validate", {"definition": NEW})

    assert response.status_code == 200
    assert response.json() == {"valid": True, "diagnostics": []}


def test_validate_answers_the_diagnostics_and_saves_nothing(api, example):
    response = send(api, "POST", "/validate", {"definition": INVALID})

    assert response.json()["valid"] is False
    assert "DUPLICATE_STEP" in {d["code"] for d in response.json()["diagnostics"]}
    assert FlowRevision.objects.count() == 0


def test_validate_lists_at_most_100_diagnostics(api, example):
    definition = {"procedures": [step("same") for _ in range(150)]}

    diagnostics = send(api, "POST", "/validate", {"definition": definition}).json()["diagnostics"]

    assert len(diagnostics) == 100


def test_a_definition_nested_deeper_than_any_valid_one_is_refused_before_it_is_stored(api, example):
    body = '{"definition": {"procedures": [], "x": ' + "[" * 5000 + "]" * 5000 + "}}"

    response = send(api, "PUT", "/flows/example", body, **{"If-Match": "*"})

    assert response.status_code == 422
    assert response.json() == {"message": "the definition is nested deeper than 128 levels"}


def test_a_definition_with_a_lone_surrogate_is_refused(api, example):
    body = json.dumps({"definition": {"procedures": [step("a", msg="?")]}}).replace("?", "\\ud800")

    response = send(api, "PUT", "/flows/example", body, **{"If-Match": "*"})

    assert response.status_code == 422
    assert "not valid Unicode" in response.json()["message"]
