"""The run page: live while the run goes, then results, error, definition diff, own logs."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from flows.models import Flow
from runner.models import RunStep
from tests.factories import EXAMPLE_JSON, definition, log, make_run, step

pytestmark = pytest.mark.django_db


def add_step(run, index: int, name: str, status: str = "succeeded", duration: float | None = 0.25, **kw):
    started = kw.pop("started_at", timezone.now())
    return RunStep.objects.create(
        run=run, index=index, name=name, status=status, started_at=started, duration=duration, **kw
    )


def test_a_queued_run_page_polls_its_status_partial_every_second(client, flow):
    run = make_run(status="queued")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert f'hx-get="/runs/{run.pk}/status/"' in html
    assert 'hx-trigger="every 1s"' in html
    assert 'id="run-status" data-status="queued"' in html
    assert "Waiting for a worker" in html


def test_the_status_partial_of_a_running_run_keeps_polling(client, flow):
    run = make_run(status="running")

    html = client.get(f"/runs/{run.pk}/status/", HTTP_HX_REQUEST="true").content.decode()

    assert html.lstrip().startswith('<div id="run-live"')
    assert 'hx-trigger="every 1s"' in html
    assert "<html" not in html


def test_the_status_partial_of_a_finished_run_stops_the_polling(client, flow):
    run = make_run(status="succeeded")

    html = client.get(f"/runs/{run.pk}/status/", HTTP_HX_REQUEST="true").content.decode()

    assert 'id="run-status" data-status="succeeded"' in html
    assert "hx-trigger" not in html


def test_the_timeline_shows_each_step_with_status_duration_and_bar(client, flow):
    run = make_run(status="running")
    add_step(run, 0, "step1", duration=0.25, started_at=run.started_at)
    add_step(
        run, 1, "step2", status="running", duration=None, started_at=run.started_at + timedelta(seconds=1)
    )

    html = client.get(f"/runs/{run.pk}/status/").content.decode()

    assert 'data-step="step1" data-status="succeeded"' in html
    assert "250 ms" in html
    assert 'data-step="step2" data-status="running"' in html
    assert '<rect class="tl-bar" x="0.00" width="' in html


def test_steps_not_reached_yet_are_listed_as_waiting(client, flow):
    run = make_run(status="running")
    add_step(run, 0, "step1")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'data-step="step2" data-status="waiting"' in html


def test_a_finished_run_shows_the_context_per_step(client, flow):
    run = make_run(context={"_input": {}, "step1": {"msg": "hello"}, "step2": {"msg": "hello"}})
    add_step(run, 0, "step1")
    add_step(run, 1, "step2")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="run-context"' in html
    assert 'data-key="step1"' in html
    assert "&quot;msg&quot;: &quot;hello&quot;" in html
    assert html.index('data-key="step2"') < html.index('data-key="_input"')


def test_a_failed_run_shows_the_error_the_failed_step_and_the_traceback(client, flow):
    run = make_run(
        status="failed", error="boom", traceback="Traceback ...\nValueError: boom", failed_step="step2"
    )
    add_step(run, 0, "step1")
    add_step(run, 1, "step2", status="failed", error="boom")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="failed-step">step2<' in html
    assert 'id="run-traceback">Traceback ...\nValueError: boom</pre>' in html
    assert 'data-status="not-run"' not in html


def test_a_run_shows_its_own_log_lines_only(client, flow):
    run = make_run()
    other = make_run()
    log("msg=hello", logger=f"workflow.run.{run.pk}")
    log("someone else's line", logger=f"workflow.run.{other.pk}")
    log("a child logger's line", logger=f"workflow.run.{run.pk}.child")
    log("not mine either", logger=f"workflow.run.{run.pk}0")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "msg=hello" in html
    assert "a child logger&#x27;s line" in html
    assert "someone else" not in html
    assert "not mine either" not in html


def test_a_finished_run_reads_its_log_lines_by_primary_key_range(client, flow):
    run = make_run()
    before = log("before the run", logger=f"workflow.run.{run.pk}")
    inside = log("inside the run", logger=f"workflow.run.{run.pk}")
    run.log_first_id = run.log_last_id = inside.pk
    run.save()
    log("after the run", logger=f"workflow.run.{run.pk}")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "inside the run" in html
    assert "before the run" not in html and "after the run" not in html
    assert before.pk < inside.pk


def test_a_run_without_log_lines_says_so(client, flow):
    run = make_run()

    assert "This run logged nothing." in client.get(f"/runs/{run.pk}/").content.decode()


def test_the_definition_that_ran_is_compared_with_the_current_one(client, flow):
    run = make_run(definition=definition(step("step1", msg="old text")))

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="definition-diff"' in html
    assert "old text" in html


def test_an_unchanged_definition_says_so(client, flow):
    run = make_run(definition=EXAMPLE_JSON)

    assert 'id="definition-unchanged"' in client.get(f"/runs/{run.pk}/").content.decode()


def test_a_run_of_a_flow_that_no_longer_exists_still_renders(client):
    run = make_run(flow_name="vanished", definition="{broken")

    response = client.get(f"/runs/{run.pk}/")

    assert response.status_code == 200
    assert "no longer exists" in response.content.decode()


def test_the_cancel_button_of_a_running_run_says_the_running_step_may_finish(client, flow):
    run = make_run(status="running")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "Cancel run (the running step is allowed to finish)" in html


def test_the_cancel_button_of_a_queued_run_says_it_will_not_start(client, flow):
    run = make_run(status="queued")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "Cancel run (it will not start)" in html
    assert "allowed to finish" not in html


@pytest.mark.parametrize(
    "status, question",
    [
        ("queued", "It has not started and will not start."),
        ("running", "The running step is allowed to finish; the steps after it will not run."),
    ],
)
def test_cancel_asks_for_confirmation(client, flow, status, question):
    run = make_run(status=status)

    html = client.get(f"/runs/{run.pk}/").content.decode()

    form = html[html.index(f'action="/runs/{run.pk}/cancel/"') : html.index('id="cancel-run"')]
    assert f'data-confirm="Cancel run {run.pk}? {question}"' in form


def test_steps_are_numbered_from_one(client, flow):
    run = make_run(status="running")
    add_step(run, 0, "step1")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert '<span class="tl-name">1. step1</span>' in html
    assert '<span class="tl-name">2. step2</span>' in html  # not started yet


def test_a_message_confirming_the_start_is_not_shown_above_the_run(client, flow):
    response = client.post("/flows/example/run/", {"input": ""}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/runs/")
    assert "is queued" not in html and 'id="messages"' not in html
    assert 'id="run-status" data-status="queued"' in html


def test_a_message_confirming_the_start_is_not_shown_on_a_later_page_either(client, flow):
    client.post("/flows/example/run/", {"input": ""}, follow=True)

    assert "is queued" not in client.get("/runs/").content.decode()


def test_an_error_message_is_still_shown_above_the_run(client, flow):
    run = make_run()
    Flow.all_objects.filter(pk=flow.pk).update(enabled=False)

    html = client.post(f"/runs/{run.pk}/rerun/", follow=True).content.decode()

    assert "Not started: flow &#x27;example&#x27; is disabled" in html


def test_each_log_line_names_the_step_that_wrote_it(client, flow):
    run = make_run()
    log("run started", logger=f"workflow.run.{run.pk}")
    log("msg=hello", logger=f"workflow.run.{run.pk}.step1")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert '<td class="log-step" data-step="step1" title="written by step step1">step1</td>' in html
    assert '<td class="log-step" data-step=""></td>' in html  # the run's own line


def test_appended_log_lines_name_their_step_too(client, flow):
    run = make_run(status="running")
    log("msg=hello", logger=f"workflow.run.{run.pk}.step2")

    html = client.get(f"/runs/{run.pk}/logs/?after=0", HTTP_HX_REQUEST="true").content.decode()

    assert 'data-step="step2"' in html


def test_debug_lines_can_be_hidden(client, flow):
    run = make_run()
    log("step step1 started", level="DEBUG", logger=f"workflow.run.{run.pk}")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert '<input type="checkbox" id="hide-debug"> Hide DEBUG lines' in html
    assert '<tr class="log-row log-debug"' in html  # what the checkbox hides (workflow.css)


def test_a_finished_run_has_no_cancel_button_but_a_rerun_button(client, flow):
    run = make_run(status="failed")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="cancel-run"' not in html
    assert 'id="rerun"' in html


def test_the_run_input_is_shown_as_json(client, flow):
    run = make_run(input={"name": "Ann"})

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert json.dumps({"name": "Ann"}, indent=2).replace('"', "&quot;") in html


def test_an_unknown_run_is_not_found(client):
    assert client.get("/runs/999/").status_code == 404
    assert client.get("/runs/999/status/").status_code == 404


def test_a_run_of_a_deleted_flow_says_so_and_links_to_the_deleted_flow(client, flow):
    run = make_run()
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="flow-note"' in html
    assert "has since been deleted" in html
    assert 'href="/flows/example/"' in html


def test_a_run_of_a_renamed_flow_says_so_and_links_to_its_new_name(client, flow):
    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "has since been renamed to" in html
    assert 'href="/flows/nightly/"' in html
    assert 'id="definition-unchanged"' in html


def test_a_run_links_to_its_own_flow_not_to_a_new_flow_that_took_its_old_name(client, flow):
    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")
    Flow.objects.create(flow_name="example", flow_json=definition(step("other", msg="hello")))

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'href="/flows/example/"' not in html
    assert 'href="/flows/nightly/"' in html
    assert 'id="definition-unchanged"' in html


def test_the_run_page_appends_new_log_lines_by_cursor_apart_from_the_status_block(client, flow):
    run = make_run(status="running")
    first = log("first", logger=f"workflow.run.{run.pk}")
    last = log("second", logger=f"workflow.run.{run.pk}")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert f'hx-get="/runs/{run.pk}/logs/?after={last.pk}"' in html
    assert 'hx-target="#log-rows" hx-swap="beforeend"' in html
    assert html.index(f'data-id="{first.pk}"') < html.index(f'data-id="{last.pk}"')
    # The lines are outside the block that the status poll replaces.
    live = html[html.index('<div id="run-live"') : html.index('id="run-logs"')]
    assert "log-row" not in live


def test_the_status_poll_sends_no_log_lines(client, flow):
    run = make_run(status="running")
    log("msg=hello", logger=f"workflow.run.{run.pk}")

    html = client.get(f"/runs/{run.pk}/status/", HTTP_HX_REQUEST="true").content.decode()

    assert "msg=hello" not in html
    assert 'id="run-status" data-status="running"' in html


def test_the_log_poll_sends_only_the_newer_lines_oldest_first(client, flow):
    run = make_run(status="running")
    seen = log("already shown", logger=f"workflow.run.{run.pk}")
    log("someone else's", logger="workflow.run.999")
    newer = [log(f"line {i}", logger=f"workflow.run.{run.pk}") for i in range(3)]

    response = client.get(f"/runs/{run.pk}/logs/?after={seen.pk}", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "already shown" not in html and "someone else" not in html and "<html" not in html
    assert [html.index(f"line {i}") for i in range(3)] == sorted(html.index(f"line {i}") for i in range(3))
    # The poller comes back out of band with the next cursor and goes on polling.
    assert f'<tr id="log-poller" data-after="{newer[-1].pk}" hx-swap-oob="true"' in html
    assert f'hx-get="/runs/{run.pk}/logs/?after={newer[-1].pk}" hx-trigger="every 1s"' in html


def test_the_log_poll_takes_five_queries_however_many_lines(client, flow, django_assert_num_queries):
    run = make_run(status="running")
    for i in range(20):
        log(f"line {i}", logger=f"workflow.run.{run.pk}")

    # The session, the user, its permissions and its groups' (the access check, one query),
    # the run, and the lines: one query for all of them, the status block's queries not at all.
    with django_assert_num_queries(5):
        response = client.get(f"/runs/{run.pk}/logs/?after=0", HTTP_HX_REQUEST="true")

    assert response.content.decode().count('class="log-row') == 20


def test_the_log_poll_of_a_finished_run_stops_once_it_has_every_line(client, flow):
    run = make_run(status="succeeded")
    line = log("the last line", logger=f"workflow.run.{run.pk}")

    html = client.get(f"/runs/{run.pk}/logs/?after=0", HTTP_HX_REQUEST="true").content.decode()

    assert "the last line" in html
    assert f'<tr id="log-poller" data-after="{line.pk}" hx-swap-oob="true"' in html
    assert "hx-trigger" not in html


def test_the_log_poll_sends_at_most_200_lines_and_goes_on_for_the_rest(client, flow):
    run = make_run(status="succeeded")
    lines = [log(f"line {i}", logger=f"workflow.run.{run.pk}") for i in range(201)]

    html = client.get(f"/runs/{run.pk}/logs/?after=0", HTTP_HX_REQUEST="true").content.decode()

    assert html.count('class="log-row') == 200
    assert f'hx-get="/runs/{run.pk}/logs/?after={lines[199].pk}" hx-trigger="every 1s"' in html


def test_the_log_poll_needs_a_cursor(client, flow):
    run = make_run(status="running")

    assert client.get(f"/runs/{run.pk}/logs/").status_code == 400
    assert client.get(f"/runs/{run.pk}/logs/?after=x").status_code == 400
    assert client.get(f"/runs/{run.pk}/logs/?after=-1").status_code == 400
    assert client.get(f"/runs/{run.pk}/logs/?after={10**30}").status_code == 400
    assert client.get("/runs/999/logs/?after=0").status_code == 404
