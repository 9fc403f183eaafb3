"""POST /flows/{name}/runs: a queued run, at most one per Idempotency-Key, and the refusals."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from api import starts
from api.models import IdempotentStart
from flows.models import Flow
from runner.models import Run
from runner.outcome import run_document
from tests.api.helpers import send, token_client
from tests.factories import EXAMPLE, client_for, flow_from_text, make_flow, make_run, step

pytestmark = pytest.mark.django_db


def start(client, body=None, name: str = "example", **headers):
    return send(client, "POST", f"/flows/{name}/runs", body, **headers)


def test_a_start_answers_201_with_the_queued_run(api, example):
    response = start(api, {"input": {"day": "monday"}})

    assert response.status_code == 201
    run = Run.objects.get()
    assert response.json() == run_document(run)
    assert (run.status, run.trigger, run.input) == ("queued", "api", {"day": "monday"})
    assert response["Location"] == f"/api/v1/runs/{run.pk}"


def test_a_start_without_a_body_runs_with_an_empty_input(api, example):
    assert start(api).status_code == 201
    assert Run.objects.get().input == {}


def test_a_run_is_triggered_by_the_user_and_their_token_name(operator, example):
    start(token_client(operator, "run", name="ci"))

    assert Run.objects.get().triggered_by == "ann (token ci)"


def test_a_session_run_is_triggered_by_the_user(operator, example):
    start(client_for(operator))

    assert Run.objects.get().triggered_by == "ann"


def test_the_same_key_and_body_answer_the_same_run_as_it_is_now(api, example):
    first = start(api, {"input": {"n": 1}}, **{"Idempotency-Key": "k1"})
    Run.objects.update(status="succeeded")

    again = start(api, {"input": {"n": 1}}, **{"Idempotency-Key": "k1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["run_id"] == first.json()["run_id"]
    assert again.json()["status"] == "succeeded"
    assert Run.objects.count() == 1


def test_the_same_body_in_another_key_order_is_the_same_body(api, example):
    first = start(api, '{"input": {"a": 1, "b": 2}}', **{"Idempotency-Key": "k1"})
    again = start(api, '{ "input" : {"b": 2, "a": 1} }', **{"Idempotency-Key": "k1"})

    assert again.json()["run_id"] == first.json()["run_id"]


def test_the_same_key_with_another_body_is_a_409(api, example):
    first = start(api, {"input": {"n": 1}}, **{"Idempotency-Key": "k1"})

    response = start(api, {"input": {"n": 2}}, **{"Idempotency-Key": "k1"})

    assert response.status_code == 409
    assert response.json()["run_id"] == first.json()["run_id"]
    assert "different body" in response.json()["message"]
    assert Run.objects.count() == 1


def test_a_key_belongs_to_its_flow(api, example):
    make_flow("other", *EXAMPLE)

    start(api, **{"Idempotency-Key": "k1"})
    response = start(api, name="other", **{"Idempotency-Key": "k1"})

    assert response.status_code == 201
    assert Run.objects.count() == 2


def test_a_key_older_than_24_hours_starts_a_new_run(api, example):
    first = start(api, **{"Idempotency-Key": "k1"}).json()
    IdempotentStart.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))

    response = start(api, {"input": {"other": True}}, **{"Idempotency-Key": "k1"})

    assert response.status_code == 201
    assert response.json()["run_id"] != first["run_id"]
    assert list(IdempotentStart.objects.values_list("run_id", flat=True)) == [response.json()["run_id"]]


def test_a_key_whose_run_was_removed_starts_a_new_run(api, example):
    start(api, **{"Idempotency-Key": "k1"})
    Run.objects.all().delete()

    assert start(api, **{"Idempotency-Key": "k1"}).status_code == 201


def test_a_key_answers_its_run_even_after_the_flow_was_disabled(api, example):
    first = start(api, **{"Idempotency-Key": "k1"}).json()
    Flow.objects.filter(pk=example.pk).update(enabled=False)

    response = start(api, **{"Idempotency-Key": "k1"})

    assert (response.status_code, response.json()["run_id"]) == (200, first["run_id"])


def test_a_refused_start_keeps_no_key(api, example, settings):
    settings.WORKFLOW_SKIP_IF_RUNNING = ["example"]
    active = make_run(status="running")
    assert start(api, **{"Idempotency-Key": "k1"}).status_code == 409
    Run.objects.filter(pk=active.pk).update(status="succeeded")

    assert start(api, **{"Idempotency-Key": "k1"}).status_code == 201


def test_a_key_over_255_characters_is_refused(api, example):
    response = start(api, **{"Idempotency-Key": "k" * 256})

    assert response.status_code == 422
    assert Run.objects.count() == 0


def test_an_unknown_flow_is_a_404(api, example):
    assert start(api, name="nope").status_code == 404


def test_a_deleted_flow_is_a_404(api):
    make_flow("gone", *EXAMPLE, deleted=True)

    assert start(api, name="gone").status_code == 404


def test_a_disabled_flow_is_a_409(api):
    make_flow("off", *EXAMPLE, enabled=False)

    response = start(api, name="off")

    assert response.status_code == 409
    assert response.json() == {"message": "flow 'off' is disabled"}


def test_a_flow_already_running_under_skip_if_running_is_a_409_naming_the_run(api, example, settings):
    settings.WORKFLOW_SKIP_IF_RUNNING = ["example"]
    active = make_run(status="running")

    response = start(api)

    assert response.status_code == 409
    assert response.json()["run_id"] == active.pk


def test_an_invalid_definition_is_a_422_with_its_diagnostics(api):
    make_flow("bad", step("a", method="no_such_method"))

    response = start(api, name="bad")

    assert response.status_code == 422
    assert [d["code"] for d in response.json()["diagnostics"]] == ["UNKNOWN_METHOD"]


def test_an_input_that_does_not_fit_the_declared_inputs_is_a_422_listing_each_problem(api):
    inputs = {"day": {"type": "string", "required": True}, "n": {"type": "integer"}}
    flow_from_text("daily", json.dumps({"inputs": inputs, "procedures": [step("s", msg="@_input.day")]}))

    response = start(api, {"input": {"n": "three", "extra": 1}}, name="daily")

    assert response.status_code == 422
    assert len(response.json()["problems"]) == 3
    assert Run.objects.count() == 0


def test_declared_defaults_fill_the_input(api):
    inputs = {"day": {"type": "string", "default": "today"}}
    flow_from_text("daily", json.dumps({"inputs": inputs, "procedures": [step("s", msg="@_input.day")]}))

    response = start(api, name="daily")

    assert response.json()["input"] == {"day": "today"}


def test_an_input_that_is_not_an_object_is_a_422(api, example):
    response = start(api, {"input": [1, 2]})

    assert response.status_code == 422
    assert response.json()["problems"] == ["body input: Input should be a valid dictionary"]


def test_an_input_json_cannot_store_is_a_422(api, example):
    response = start(api, '{"input": {"n": NaN}}')

    assert response.status_code == 422
    assert "NaN" in response.json()["problems"][0]


@pytest.mark.django_db(transaction=True)
def test_two_requests_racing_with_one_key_start_one_run(operator, monkeypatch):
    """The second request checks the key before the first commits, so it meets the first
    one's row at the unique key when it inserts its own, and answers the first run."""
    flow = make_flow("example", *EXAMPLE)
    first_inside, second_checked = threading.Event(), threading.Event()
    answers = {}
    ensure_runnable = starts._ensure_runnable

    def checked_then_signal(flow):
        ensure_runnable(flow)
        if threading.current_thread().name == "second":
            second_checked.set()

    def hold_the_transaction(run):
        first_inside.set()
        assert second_checked.wait(10)

    def request(name, on_created=None):
        try:
            started = starts.start(flow, input={}, triggered_by="ann", key="k1", on_created=on_created)
            answers[name] = (started.run.pk, started.created)
        finally:
            connection.close()

    monkeypatch.setattr(starts, "_ensure_runnable", checked_then_signal)
    first = threading.Thread(target=request, args=("first", hold_the_transaction), name="first")
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=request, args=("second",), name="second")
    second.start()
    first.join(20)
    second.join(20)

    run_id = Run.objects.get().pk
    assert answers == {"first": (run_id, True), "second": (run_id, False)}
