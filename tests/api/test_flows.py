"""GET /flows (keyset pages, each flow with its newest run) and GET /flows/{name}."""

import json
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows.editing import json_hash, save_definition
from flows.models import Flow, FlowDescription
from tests.api.helpers import send
from tests.factories import EXAMPLE, EXAMPLE_JSON, definition, flow_from_text, make_flow, make_run, step

pytestmark = pytest.mark.django_db


def test_the_list_gives_each_flow_its_state_description_and_newest_run(api, example):
    FlowDescription.objects.create(flow_id=example.pk, text="says hello")
    make_run(status="failed")
    newest = make_run(status="queued")
    created = newest.created_at.isoformat()

    response = send(api, "GET", "/flows")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "name": "example",
                "enabled": True,
                "description": "says hello",
                "last_run": {"run_id": newest.pk, "status": "queued", "created_at": created},
            }
        ],
        "next": None,
    }


def test_a_flow_that_never_ran_has_no_last_run(api, example):
    item = send(api, "GET", "/flows").json()["items"][0]

    assert item["last_run"] is None
    assert item["description"] == ""


def test_the_list_leaves_out_deleted_flows(api, example):
    make_flow("gone", *EXAMPLE, deleted=True)

    names = [item["name"] for item in send(api, "GET", "/flows").json()["items"]]

    assert names == ["example"]


def test_a_renamed_flow_keeps_its_runs_as_last_run(api, example):
    run = make_run()
    Flow.objects.filter(pk=example.pk).update(flow_name="renamed")

    item = send(api, "GET", "/flows").json()["items"][0]

    assert (item["name"], item["last_run"]["run_id"]) == ("renamed", run.pk)


def test_the_cursor_walks_every_flow_exactly_once(api):
    for number in range(7):
        make_flow(f"flow-{number}", *EXAMPLE)
    seen, cursor, pages = [], None, 0
    while True:
        query = "/flows?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = send(api, "GET", query).json()
        seen += [item["name"] for item in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break

    assert seen == [f"flow-{number}" for number in range(7)]
    assert pages == 3


def test_a_full_last_page_has_no_next(api):
    for number in range(2):
        make_flow(f"flow-{number}", *EXAMPLE)

    assert send(api, "GET", "/flows?limit=2").json()["next"] is None


def test_a_cursor_the_api_did_not_give_is_refused(api, example):
    response = send(api, "GET", "/flows?cursor=not-a-cursor")

    assert response.status_code == 422
    assert "cursor" in response.json()["message"]


def test_a_runs_cursor_is_no_flows_cursor(api, example):
    for _ in range(3):
        make_run()
    runs_cursor = send(api, "GET", "/runs?limit=1").json()["next"]

    assert send(api, "GET", f"/flows?cursor={runs_cursor}").status_code == 422


def test_a_limit_over_200_is_refused(api, example):
    response = send(api, "GET", "/flows?limit=201")

    assert response.status_code == 422
    assert response.json()["problems"] == ["query limit: Input should be less than or equal to 200"]


def test_the_list_takes_the_same_queries_for_one_flow_or_fifty(api, example):
    # The token (1), the user's permissions (1: direct and by group), the flows with their
    # newest run's id (1), their descriptions (1), their newest runs (1): none per flow.
    send(api, "GET", "/flows")
    make_run()
    with CaptureQueriesContext(connection) as one:
        send(api, "GET", "/flows")
    for number in range(49):
        make_flow(f"flow-{number}", *EXAMPLE)
        make_run(f"flow-{number}")
        FlowDescription.objects.create(flow_id=Flow.objects.get(flow_name=f"flow-{number}").pk, text="x")
    with CaptureQueriesContext(connection) as fifty:
        items = send(api, "GET", "/flows").json()["items"]

    assert len(items) == 50
    assert len(fifty) == len(one) == 5


def test_a_flow_answers_its_definition_inputs_revision_and_etag(api, example):
    save_definition(example, EXAMPLE_JSON + "\n", base_hash=json_hash(example.flow_json), user="ann")
    example.refresh_from_db()

    response = send(api, "GET", "/flows/example")

    assert response.status_code == 200
    etag = f'"{json_hash(example.flow_json)}"'
    assert response["ETag"] == etag
    assert response.json() == {
        "name": "example",
        "enabled": True,
        "definition": json.loads(EXAMPLE_JSON),
        "json_error": None,
        "inputs": {},
        # The version the first save replaced is revision 1.
        "revision": 2,
        "etag": etag,
    }


def test_a_flow_answers_its_declared_inputs(api):
    inputs = {"day": {"type": "string", "required": True}}
    flow_from_text("daily", json.dumps({"inputs": inputs, "procedures": [step("s", msg="@_input.day")]}))

    document = send(api, "GET", "/flows/daily").json()

    assert document["inputs"] == inputs
    assert document["revision"] is None


def test_a_flow_whose_text_is_not_json_answers_why(api):
    Flow.objects.create(flow_name="broken", flow_json="{not json")

    document = send(api, "GET", "/flows/broken").json()

    assert document["definition"] is None
    assert document["json_error"].startswith("Invalid JSON")
    assert document["etag"] == f'"{json_hash("{not json")}"'


def test_an_unknown_flow_is_a_404(api, example):
    response = send(api, "GET", "/flows/nope")

    assert response.status_code == 404
    assert response.json() == {"message": "no flow named 'nope'"}


def test_a_deleted_flow_is_a_404(api):
    make_flow("gone", *EXAMPLE, deleted=True)

    assert send(api, "GET", "/flows/gone").status_code == 404


@pytest.mark.parametrize("name", ["nightly etl", "a%b", "ünïcode ✓", "q?x#y", "..", "deleted"])
def test_a_flow_name_travels_percent_encoded(api, name):
    Flow.objects.create(flow_name=name, flow_json=definition(step("s")))

    response = send(api, "GET", f"/flows/{quote(name, safe='')}")

    assert response.status_code == 200
    assert response.json()["name"] == name
