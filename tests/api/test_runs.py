"""GET /runs (filters, keyset pages), GET /runs/{id}, cancel, resume and the run's log lines."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from flows.logsearch import LogsUnavailable
from flows.models import Flow
from runner.log import run_logger_name
from runner.models import Run
from runner.outcome import run_document
from tests.api.helpers import failed_run, send
from tests.factories import EXAMPLE, log, make_flow, make_run

pytestmark = pytest.mark.django_db


def run_ids(response) -> list[int]:
    return [item["run_id"] for item in response.json()["items"]]


def test_the_list_is_newest_first_without_input_context_or_steps(api, example):
    older, newer = make_run(), make_run(status="failed", error="boom")

    response = send(api, "GET", "/runs")

    assert response.status_code == 200
    assert run_ids(response) == [newer.pk, older.pk]
    item = response.json()["items"][0]
    assert item == {key: value for key, value in run_document(newer).items() if key in item}
    assert {"input", "context", "steps"}.isdisjoint(item)
    assert response.json()["next"] is None


def test_the_list_filters_by_flow_status_trigger_and_time(api, example):
    make_flow("other", *EXAMPLE)
    wanted = make_run(status="failed", trigger="api")
    make_run("other", status="failed", trigger="api")
    make_run(status="succeeded", trigger="api")
    make_run(status="failed", trigger="cli")
    old = make_run(status="failed", trigger="api")
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+", "%2B")

    response = send(api, "GET", f"/runs?flow=example&status=failed&trigger=api&since={since}")

    assert run_ids(response) == [wanted.pk]


def test_the_flow_filter_finds_the_runs_of_a_renamed_flow(api, example):
    run = make_run()
    Flow.objects.filter(pk=example.pk).update(flow_name="renamed")

    assert run_ids(send(api, "GET", "/runs?flow=renamed")) == [run.pk]


def test_the_flow_filter_finds_runs_of_a_flow_no_longer_in_wf_flow_by_name(api):
    run = make_run("vanished")

    assert run_ids(send(api, "GET", "/runs?flow=vanished")) == [run.pk]


def test_a_time_with_z_for_utc_is_taken(api, example):
    run = make_run()

    assert run_ids(send(api, "GET", "/runs?since=2000-01-01T00:00:00Z")) == [run.pk]


@pytest.mark.parametrize("since", ["2000-01-01T00:00:00", "2000-01-01", "0.5", "yesterday"])
def test_a_time_without_its_zone_is_refused(api, example, since):
    response = send(api, "GET", f"/runs?since={since}")

    assert response.status_code == 422
    assert response.json()["problems"] == [
        "query since: Value error, must be a date-time with its zone, as in 2026-01-31T08:00:00Z"
    ]


def test_an_unknown_status_is_refused(api, example):
    assert send(api, "GET", "/runs?status=lost").status_code == 422


def test_a_time_out_of_range_is_refused(api, example):
    response = send(api, "GET", "/runs?since=9999-12-31T23:59:59-05:00")

    assert response.status_code == 422


def test_the_cursor_walks_every_run_exactly_once(api, example):
    made = [make_run().pk for _ in range(7)]
    seen, cursor = [], None
    while True:
        page = send(api, "GET", "/runs?limit=3" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [item["run_id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break

    assert seen == made[::-1]


def test_the_list_takes_the_same_queries_for_one_run_or_fifty(api, example):
    make_run()
    send(api, "GET", "/runs")
    with CaptureQueriesContext(connection) as one:
        send(api, "GET", "/runs")
    for _ in range(60):
        make_run()
    with CaptureQueriesContext(connection) as fifty:
        items = send(api, "GET", "/runs").json()["items"]

    # The token, the user's permissions (1), the runs: one query for the page.
    assert len(items) == 50
    assert len(fifty) == len(one) == 3


def test_a_run_answers_its_document(api, example):
    run = failed_run()

    response = send(api, "GET", f"/runs/{run.pk}")

    assert response.status_code == 200
    assert response.json() == run_document(run)
    assert [s["name"] for s in response.json()["steps"]] == ["step1", "step2"]


def test_an_unknown_run_is_a_404(api, example):
    response = send(api, "GET", "/runs/999999")

    assert response.status_code == 404
    assert response.json() == {"message": "no run 999999"}


@pytest.mark.parametrize("run_id", ["0", "-1", "abc", str(2**63)])
def test_a_run_id_that_cannot_be_one_is_a_422(api, run_id):
    assert send(api, "GET", f"/runs/{run_id}").status_code == 422


def test_cancelling_a_queued_run_cancels_it_at_once(api, example):
    run = make_run(status="queued")

    response = send(api, "POST", f"/runs/{run.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_cancelling_a_running_run_asks_it_to_stop(api, example):
    run = make_run(status="running")

    response = send(api, "POST", f"/runs/{run.pk}/cancel")

    assert response.json()["status"] == "running"
    run.refresh_from_db()
    assert (run.cancel_requested, run.cancel_now) == (True, False)


def test_cancelling_now_asks_to_stop_the_running_step_at_once(api, example):
    run = make_run(status="running")

    send(api, "POST", f"/runs/{run.pk}/cancel?now=true")

    run.refresh_from_db()
    assert run.cancel_now is True


def test_cancelling_an_ended_run_is_a_409(api, example):
    run = make_run(status="succeeded")

    response = send(api, "POST", f"/runs/{run.pk}/cancel")

    assert response.status_code == 409
    assert response.json() == {"message": f"run {run.pk} has already succeeded", "run_id": run.pk}


def test_cancelling_a_cancelled_run_again_answers_it(api, example):
    run = make_run(status="cancelled")

    assert send(api, "POST", f"/runs/{run.pk}/cancel").status_code == 200


def test_resuming_a_failed_run_queues_a_new_run_from_its_failed_step(api, example):
    original = failed_run()

    response = send(api, "POST", f"/runs/{original.pk}/resume")

    assert response.status_code == 201
    new = Run.objects.get(resumed_from_id=original.pk)
    assert response.json() == run_document(new)
    assert (new.trigger, new.triggered_by) == ("resume", "ann")
    assert response["Location"] == f"/api/v1/runs/{new.pk}"


def test_resuming_with_the_current_definition_refuses_changed_earlier_steps(api, example):
    original = failed_run()
    Flow.objects.filter(pk=example.pk).update(flow_json=example.flow_json.replace("hello", "changed"))

    response = send(api, "POST", f"/runs/{original.pk}/resume", {"current_definition": True})

    assert response.status_code == 409
    assert response.json()["problems"] == ['step 1 \'step1\': params {"msg": "hello"} → {"msg": "changed"}']


def test_resuming_a_succeeded_run_is_a_409(api, example):
    run = make_run(status="succeeded")

    response = send(api, "POST", f"/runs/{run.pk}/resume")

    assert response.status_code == 409
    assert "nothing to resume" in response.json()["message"]


def test_the_log_lines_come_oldest_first_after_the_cursor(api, example):
    run = make_run(status="running")
    name = run_logger_name(run.pk)
    first = log("one", logger=name)
    second = log("two", logger=f"{name}.step1", level="WARNING")
    log("another run's", logger=run_logger_name(run.pk + 1))
    for line in (first, second):
        line.refresh_from_db()  # MySQL keeps milliseconds

    body = send(api, "GET", f"/runs/{run.pk}/logs").json()

    assert body["items"] == [
        {
            "id": first.id,
            "time": first.created_at.isoformat(),
            "level": "INFO",
            "logger": name,
            "message": "one",
        },
        {
            "id": second.id,
            "time": second.created_at.isoformat(),
            "level": "WARNING",
            "logger": f"{name}.step1",
            "message": "two",
        },
    ]
    # The run goes on: more lines may come after the last one.
    assert body["next"] == second.id
    assert send(api, "GET", f"/runs/{run.pk}/logs?after={first.id}").json()["items"][0]["message"] == "two"


def test_the_log_pages_hold_at_most_the_limit(api, example):
    run = make_run()
    lines = [log(f"line {n}", logger=run_logger_name(run.pk)) for n in range(5)]

    body = send(api, "GET", f"/runs/{run.pk}/logs?limit=2").json()

    assert [item["id"] for item in body["items"]] == [lines[0].id, lines[1].id]
    assert body["next"] == lines[1].id


def test_the_last_page_of_an_ended_run_has_no_next(api, example):
    run = make_run(status="succeeded")
    log("done", logger=run_logger_name(run.pk))

    assert send(api, "GET", f"/runs/{run.pk}/logs").json()["next"] is None


def test_a_log_page_over_500_lines_is_refused(api, example):
    run = make_run()

    assert send(api, "GET", f"/runs/{run.pk}/logs?limit=501").status_code == 422


def test_logs_that_cannot_be_read_are_a_503(api, example, monkeypatch):
    run = make_run()

    def unavailable(*args, **kwargs):
        raise LogsUnavailable("table wf_syslog is locked")

    monkeypatch.setattr("api.views.run_lines", unavailable)

    response = send(api, "GET", f"/runs/{run.pk}/logs")

    assert response.status_code == 503
    assert "wf_syslog is locked" in response.json()["message"]
