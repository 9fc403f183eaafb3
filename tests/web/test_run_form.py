"""Starting runs from the browser: queued for a worker, never run inside the request."""

import pytest
from django_tasks_db.models import DBTaskResult

from flows.models import Flow
from runner.models import Run
from tests.factories import EXAMPLE_JSON, definition, make_run, step

pytestmark = pytest.mark.django_db


def test_the_run_form_queues_a_run_and_lands_on_its_page(client, flow):
    response = client.post("/flows/example/run/", {"input": ""})

    run = Run.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{run.pk}/"
    assert (run.status, run.trigger, run.triggered_by) == ("queued", "web", "operator")


def test_the_run_form_hands_the_run_to_the_task_queue_without_executing_it(client, flow):
    client.post("/flows/example/run/", {"input": ""})

    run = Run.objects.get()
    task = DBTaskResult.objects.get()
    assert task.task_path.endswith("execute_run_task")
    assert task.args_kwargs["args"] == [run.pk]
    assert run.status == "queued" and run.started_at is None
    assert not run.steps.exists()


def test_the_run_input_may_be_a_json_object(client, flow):
    client.post("/flows/example/run/", {"input": '{"name": "Ann", "n": 2}'})

    assert Run.objects.get().input == {"name": "Ann", "n": 2}


def test_the_run_input_may_be_key_value_lines_with_json_values(client, flow):
    client.post("/flows/example/run/", {"input": "name=Ann\r\nn=2\r\n\r\nflag=true"})

    assert Run.objects.get().input == {"name": "Ann", "n": 2, "flag": True}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": ', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("just words", "is not key=value"),
        ('{"a": 1} trailing', "not valid JSON"),
    ],
)
def test_bad_run_input_is_refused_with_a_clear_error_and_nothing_queued(client, flow, text, message):
    response = client.post("/flows/example/run/", {"input": text})

    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Not started" in html
    assert not Run.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_bad_run_input_stays_in_the_form(client, flow):
    response = client.post("/flows/example/run/", {"input": '{"name": '})

    assert "{&quot;name&quot;: </textarea>" in response.content.decode()


def test_a_disabled_flow_shows_a_disabled_run_button(client, flow):
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    html = client.get("/flows/example/").content.decode()

    assert 'id="run-flow" disabled' in html


def test_a_disabled_flow_cannot_run_even_when_posted_directly(client, flow):
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    response = client.post("/flows/example/run/", {"input": ""})

    assert response.status_code == 400
    assert "is disabled" in response.content.decode()
    assert not Run.objects.exists()


def test_a_deleted_flow_cannot_run(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    assert client.post("/flows/example/run/", {"input": ""}).status_code == 404
    assert not Run.objects.exists()


def test_an_invalid_flow_cannot_run(client):
    Flow.objects.create(flow_name="example", flow_json=definition(step("s", msg="@nope")))

    response = client.post("/flows/example/run/", {"input": ""})

    assert "is invalid" in response.content.decode()
    assert not Run.objects.exists()


def test_the_overview_run_button_returns_to_the_overview_on_refusal(client, flow):
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    response = client.post("/flows/example/run/", {"input": "", "from": "overview"})

    assert response["Location"] == "/"
    assert "is disabled" in client.get("/").content.decode()


def test_cancel_of_a_queued_run_cancels_it_before_it_starts(client, flow):
    run = make_run(status="queued")

    response = client.post(f"/runs/{run.pk}/cancel/")

    run.refresh_from_db()
    assert response["Location"] == f"/runs/{run.pk}/"
    assert (run.status, run.cancel_requested) == ("cancelled", True)


def test_cancel_of_a_running_run_asks_it_to_stop_after_the_current_step(client, flow):
    run = make_run(status="running")

    client.post(f"/runs/{run.pk}/cancel/")

    run.refresh_from_db()
    assert (run.status, run.cancel_requested) == ("running", True)
    assert "stops after the running step finishes" in client.get(f"/runs/{run.pk}/").content.decode()


def test_cancel_of_a_finished_run_changes_nothing(client, flow):
    run = make_run(status="succeeded")

    client.post(f"/runs/{run.pk}/cancel/")

    run.refresh_from_db()
    assert (run.status, run.cancel_requested) == ("succeeded", False)


def test_rerun_queues_a_new_run_with_the_same_input(client, flow):
    old = make_run(status="failed", input={"name": "Ann"})

    response = client.post(f"/runs/{old.pk}/rerun/")

    new = Run.objects.exclude(pk=old.pk).get()
    assert response["Location"] == f"/runs/{new.pk}/"
    assert (new.status, new.input) == ("queued", {"name": "Ann"})


def test_rerun_of_a_disabled_flow_is_refused(client, flow):
    old = make_run(status="failed")
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    client.post(f"/runs/{old.pk}/rerun/")

    assert Run.objects.count() == 1


def test_rerun_of_a_flow_that_is_gone_is_refused(client):
    old = make_run(flow_name="vanished", status="failed")

    response = client.post(f"/runs/{old.pk}/rerun/")

    assert response["Location"] == f"/runs/{old.pk}/"
    assert Run.objects.count() == 1


def test_rerun_of_a_renamed_flow_runs_it_under_its_new_name(client, flow):
    old = make_run(status="failed")
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")

    client.post(f"/runs/{old.pk}/rerun/")

    new = Run.objects.latest("id")
    assert new.pk != old.pk
    assert (new.flow_id, new.flow_name) == (flow.pk, "nightly")


def test_rerun_never_starts_a_new_flow_that_took_the_old_name(client, flow):
    old = make_run(status="failed")
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly", deleted=True)
    Flow.objects.create(flow_name="example", flow_json=EXAMPLE_JSON)

    response = client.post(f"/runs/{old.pk}/rerun/")

    assert response["Location"] == f"/runs/{old.pk}/"
    assert Run.objects.count() == 1
