"""The run page's resume: the button, its refusals, the chain of resumes, and how steps show
reuse, timeouts and attempts."""

import json

import pytest
from django.contrib.messages import get_messages

from flows.models import Flow
from runner.models import Run, RunStep
from tests.factories import definition, make_run, step
from tests.web.test_run_page import add_step

pytestmark = pytest.mark.django_db

STEPS = (step("load", msg="a"), step("send", msg="@load.msg"), step("report", msg="@send.msg"))


@pytest.fixture
def nightly(db) -> Flow:
    return Flow.objects.create(flow_name="nightly", flow_json=definition(*STEPS))


def failed_at_send(context=None, **fields) -> Run:
    """A run of nightly whose step "send" failed, with the result of "load" stored."""
    run = make_run(
        "nightly",
        status="failed",
        definition=definition(*STEPS),
        failed_step="send",
        error="send failed",
        context={"load": {"msg": "a"}} if context is None else context,
        **fields,
    )
    add_step(run, 0, "load")
    add_step(run, 1, "send", status="failed", error="ConnectionError: refused")
    return run


def change_step(flow: Flow, index: int, **params) -> None:
    steps = [dict(s) for s in STEPS]
    steps[index] = {**steps[index], "params": params}
    Flow.objects.filter(pk=flow.pk).update(flow_json=definition(*steps))


def test_a_failed_run_offers_to_resume_from_its_failed_step(client, nightly):
    run = failed_at_send()

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="resume-run"' in html
    assert "Resume from send" in html
    assert f'action="/runs/{run.pk}/resume/"' in html


def test_a_succeeded_run_offers_no_resume(client, nightly):
    run = make_run("nightly", status="succeeded", definition=definition(*STEPS))

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="resume' not in html


def test_the_resume_button_is_hidden_from_a_user_without_run(lacking, nightly):
    run = failed_at_send()

    html = lacking("run_flow").get(f"/runs/{run.pk}/").content.decode()

    assert 'id="resume-run"' not in html


def test_resuming_queues_a_run_linked_to_the_original_and_opens_it(client, nightly):
    run = failed_at_send()

    response = client.post(f"/runs/{run.pk}/resume/")

    new = Run.objects.get(resumed_from_id=run.pk)
    assert response.status_code == 302
    assert response["Location"] == f"/runs/{new.pk}/"
    assert (new.status, new.trigger, new.triggered_by) == ("queued", "resume", "operator")
    assert new.definition == run.definition


def test_a_refused_resume_says_why_on_the_page_and_starts_nothing(client, nightly):
    run = failed_at_send(context={"load": {"__truncated__": True, "original_bytes": 10**6, "preview": ""}})

    response = client.post(f"/runs/{run.pk}/resume/", follow=True)

    assert response.status_code == 200
    assert Run.objects.filter(resumed_from_id=run.pk).count() == 0
    html = response.content.decode()
    assert "Not resumed:" in html
    assert 'id="resume-refused"' in html
    assert "not stored in full (truncated)" in html


def test_the_current_definition_is_offered_when_the_steps_before_the_failed_one_are_unchanged(
    client, nightly
):
    run = failed_at_send()
    change_step(nightly, 2, msg="changed")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="resume-current"' in html


def test_the_current_definition_is_refused_with_the_difference_when_an_earlier_step_changed(client, nightly):
    run = failed_at_send()
    change_step(nightly, 0, msg="changed")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="resume-current"' not in html
    assert 'id="resume-current-refused"' in html
    assert "step 1 &#x27;load&#x27;: params" in html


def test_posting_the_current_definition_after_an_earlier_step_changed_is_refused(client, nightly):
    run = failed_at_send()
    change_step(nightly, 0, msg="changed")

    response = client.post(f"/runs/{run.pk}/resume/", {"definition": "current"})

    assert response["Location"] == f"/runs/{run.pk}/"
    assert Run.objects.filter(resumed_from_id=run.pk).count() == 0
    assert "changed steps before 'send'" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_resuming_with_the_current_definition_runs_it(client, nightly):
    run = failed_at_send()
    change_step(nightly, 2, msg="changed")

    client.post(f"/runs/{run.pk}/resume/", {"definition": "current"})

    new = Run.objects.get(resumed_from_id=run.pk)
    assert json.loads(new.definition)["procedures"][2]["params"] == {"msg": "changed"}


def test_each_run_of_a_chain_shows_the_whole_chain_and_its_outcome(client, nightly):
    original = failed_at_send()
    first = failed_at_send(trigger="resume", resumed_from_id=original.pk)
    last = make_run("nightly", status="succeeded", trigger="resume", resumed_from_id=first.pk)

    for run in (original, first, last):
        html = client.get(f"/runs/{run.pk}/").content.decode()
        chain = html[html.index('id="resume-chain"') :]
        assert [f'data-run="{r.pk}"' in chain for r in (original, first, last)] == [True] * 3
        assert 'id="chain-outcome">final outcome: <span class="status status-succeeded"' in chain


def test_a_run_without_resumes_shows_no_chain(client, nightly):
    run = failed_at_send()

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'id="resume-chain"' not in html


def test_a_resume_names_the_run_it_resumes(client, nightly):
    original = failed_at_send()
    run = make_run("nightly", status="succeeded", trigger="resume", resumed_from_id=original.pk)

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert f'<a href="/runs/{original.pk}/" id="resumed-from">run {original.pk}</a>' in html


def test_a_reused_step_links_the_run_its_result_came_from(client, nightly):
    original = failed_at_send()
    run = make_run("nightly", status="succeeded", trigger="resume", resumed_from_id=original.pk)
    add_step(run, 0, "load", status="reused", duration=None, reused_from_run_id=original.pk)

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert f'<a href="/runs/{original.pk}/" class="reused-from">run {original.pk}</a>' in html
    assert 'data-step="load" data-status="reused"' in html


def test_a_step_shows_its_attempts_and_each_failed_one(client, nightly):
    retried = {**step("send", msg="b"), "retry": {"max_attempts": 3, "delay_seconds": 20}}
    run = make_run("nightly", status="succeeded", definition=definition(step("load", msg="a"), retried))
    add_step(run, 0, "load")
    failure = {
        "number": 2,
        "started_at": "2026-01-01T00:00:00Z",
        "duration": 0.5,
        "error": "ConnectionError: refused",
        "delay": 20,
    }
    add_step(run, 1, "send", attempts=3, attempt_log=[{**failure, "number": 1}, failure])

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert "3 attempts of at most 3" in html
    assert "attempt 2 of 3 failed: ConnectionError: refused; retrying in 20 s" in html


def test_a_timed_out_step_shows_its_status(client, nightly):
    run = failed_at_send()
    RunStep.objects.filter(run=run, name="send").update(status="timed_out", error="timed out after 2 s")

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert 'data-step="send" data-status="timed_out"' in html
    assert 'class="status status-timed_out"' in html
