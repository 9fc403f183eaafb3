"""Inbound webhooks: POST /hooks/<secret> starts a run with the JSON body as its input, and
the flow page's Webhook section creates, rotates and removes the secret URL."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from api import webhooks
from api.models import FlowHook
from api.tokens import digest
from flows.models import Flow
from runner import services
from runner.models import Run
from tests.factories import EXAMPLE, client_for, make_flow, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(db) -> Flow:
    return make_flow("example", *EXAMPLE)


@pytest.fixture
def secret(flow) -> str:
    return webhooks.rotate(flow.pk, created_by="operator")[1]


@pytest.fixture
def editor(db):
    return client_for(make_user("editor", "view_flow", "change_flow"))


def post(secret: str, body: object = None, *, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    # No session and no CSRF token: a webhook caller has neither.
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/hooks/{secret}", data, content_type="application/json")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def shown_url(response) -> str:
    (url,) = re.findall(r'id="webhook-url"[^>]*value="([^"]+)"', response.content.decode())
    return url


# --- the hook ---------------------------------------------------------------------------


def test_a_post_queues_a_run_and_answers_202_with_its_id(secret):
    status, body = post(secret, {"n": 3})

    run = Run.objects.get()
    assert (status, body) == (202, {"run_id": run.pk, "status": "queued"})


def test_the_run_input_is_the_body(secret):
    post(secret, {"n": 3, "who": {"name": "ada", "tags": ["x"]}})

    assert Run.objects.get().input == {"n": 3, "who": {"name": "ada", "tags": ["x"]}}


def test_the_run_says_it_came_from_the_webhook(secret, flow):
    post(secret, {})

    run = Run.objects.get()
    assert (run.flow_id, run.trigger, run.triggered_by) == (flow.pk, "webhook", "webhook")


def test_an_empty_body_is_an_empty_input(secret):
    status, _ = post(secret)

    assert status == 202
    assert Run.objects.get().input == {}


def test_the_hook_notes_when_it_was_used(secret):
    post(secret, {})

    assert FlowHook.objects.get().last_used_at is not None


def test_an_unknown_secret_is_a_404(secret):
    status, body = post("not-" + secret, {})

    assert status == 404 and body["message"]
    assert not Run.objects.exists()


def test_a_get_is_a_405_in_json(secret):
    response = Client().get(f"/hooks/{secret}")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["message"]


def test_bad_json_is_a_400(secret):
    status, body = post(secret, raw=b'{"n": ')

    assert status == 400 and "not valid JSON" in body["message"]
    assert not Run.objects.exists()


@pytest.mark.parametrize("body", [[1, 2], "text", 3, None], ids=["list", "string", "number", "null"])
def test_a_body_that_is_not_an_object_is_a_400(secret, body):
    status, answer = post(secret, raw=json.dumps(body).encode())

    assert status == 400 and "JSON object" in answer["message"]
    assert not Run.objects.exists()


@override_settings(WORKFLOW_API_MAX_BODY_BYTES=100)
def test_a_body_over_the_limit_is_a_413(secret):
    status, body = post(secret, {"text": "x" * 200})

    assert status == 413 and "100 bytes" in body["message"]
    assert not Run.objects.exists()


def test_a_number_json_cannot_carry_is_a_422(secret):
    status, body = post(secret, raw=b'{"n": NaN}')

    assert status == 422 and body["problems"]
    assert not Run.objects.exists()


def test_input_that_does_not_fit_the_flows_inputs_is_a_422_with_the_problems(secret, monkeypatch):
    def refuse(flow, **kwargs):
        raise services.BadInput(["n: required", "who: must be text"])

    monkeypatch.setattr("runner.dispatch.start_run", refuse)

    status, body = post(secret, {})

    assert status == 422
    assert body["problems"] == ["n: required", "who: must be text"]
    assert "n: required" in body["message"]


def test_a_disabled_flow_is_a_409(secret, flow):
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    status, body = post(secret, {})

    assert status == 409 and "disabled" in body["message"]
    assert not Run.objects.exists()


def test_a_deleted_flow_is_a_409(secret, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    status, body = post(secret, {})

    assert status == 409 and "deleted" in body["message"]


def test_a_flow_whose_definition_is_invalid_is_a_422(secret, flow):
    Flow.objects.filter(pk=flow.pk).update(flow_json='{"procedures": [{"name": "x"}]}')

    status, body = post(secret, {})

    assert status == 422 and "invalid" in body["message"]
    assert not Run.objects.exists()


def test_a_flow_already_running_under_skip_if_running_is_a_409_naming_the_run(secret, settings):
    settings.WORKFLOW_SKIP_IF_RUNNING = ["example"]
    _, first = post(secret, {})

    status, body = post(secret, {})

    assert status == 409 and body["run_id"] == first["run_id"]


@override_settings(WORKFLOW_HOOK_RATE_PER_MINUTE=3)
def test_requests_over_the_rate_limit_are_429_with_retry_after(secret):
    client = Client()
    answers = [client.post(f"/hooks/{secret}", b"{}", content_type="application/json") for _ in range(4)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert Run.objects.count() == 3


@override_settings(WORKFLOW_HOOK_RATE_PER_MINUTE=3)
def test_the_rate_limit_starts_again_in_the_next_minute(secret):
    hook = FlowHook.objects.get()
    now = timezone.now().replace(second=30)
    assert [webhooks.count_hit(hook, now) for _ in range(4)] == [0, 0, 0, 30]

    later = now + timedelta(minutes=1)
    assert [webhooks.count_hit(hook, later) for _ in range(4)] == [0, 0, 0, 30]


@override_settings(WORKFLOW_HOOK_RATE_PER_MINUTE=3)
def test_the_rate_limit_is_per_hook(secret):
    other = make_flow("other", *EXAMPLE)
    _, other_secret = webhooks.rotate(other.pk)
    for _ in range(3):
        post(secret, {})

    assert post(other_secret, {})[0] == 202


def test_the_secret_is_stored_as_its_digest_only(secret):
    hook = FlowHook.objects.get()

    assert hook.digest == digest(secret)
    assert len(secret) >= 40


def test_rotating_invalidates_the_old_secret(secret, flow):
    _, new_secret = webhooks.rotate(flow.pk)

    assert post(secret, {})[0] == 404
    assert post(new_secret, {})[0] == 202
    assert FlowHook.objects.count() == 1


# --- the flow page's Webhook section ------------------------------------------------------


def test_the_flow_page_offers_to_create_a_webhook(editor, flow):
    response = editor.get("/flows/example/")

    assertContains(response, 'id="webhook"')
    assertContains(response, 'id="create-webhook"')


def test_the_flow_page_says_when_the_webhook_was_made_and_last_used(editor, secret):
    post(secret, {})

    response = editor.get("/flows/example/")

    assertContains(response, 'id="rotate-webhook"')
    assertContains(response, "last used <time")
    assertNotContains(response, secret)


def test_creating_a_webhook_shows_its_full_url_once(editor, flow):
    response = editor.post("/flows/example/webhook/", {"action": "create"})

    url = shown_url(response)
    assert url.startswith("http://testserver/hooks/")
    assert "no-store" in response["Cache-Control"]
    assertNotContains(editor.get("/flows/example/"), url.rsplit("/", 1)[1])


def test_the_url_shown_starts_a_run(editor, flow):
    url = shown_url(editor.post("/flows/example/webhook/", {"action": "create"}))

    response = Client().post(url.removeprefix("http://testserver"), {"n": 1}, content_type="application/json")

    assert response.status_code == 202
    assert Run.objects.get().input == {"n": 1}


def test_rotating_on_the_page_invalidates_the_old_url(editor, secret):
    response = editor.post("/flows/example/webhook/", {"action": "rotate"})

    new_secret = shown_url(response).rsplit("/", 1)[1]
    assert new_secret != secret
    assert post(secret, {})[0] == 404
    assert post(new_secret, {})[0] == 202


def test_removing_the_webhook_stops_its_url(editor, secret):
    response = editor.post("/flows/example/webhook/", {"action": "remove"})

    assert response.status_code == 303 and response["Location"] == "/flows/example/"
    assert not FlowHook.objects.exists()
    assert post(secret, {})[0] == 404


def test_a_user_without_change_permission_sees_no_webhook_section(flow, secret):
    viewer = client_for(make_user("viewer", "view_flow", "run_flow"))

    assertNotContains(viewer.get("/flows/example/"), 'id="webhook"')


@pytest.mark.parametrize("action", ["create", "rotate", "remove"])
def test_a_user_without_change_permission_is_refused_every_webhook_action(flow, secret, action):
    viewer = client_for(make_user("viewer", "view_flow", "run_flow"))

    response = viewer.post("/flows/example/webhook/", {"action": action})

    assert response.status_code == 403
    assert FlowHook.objects.get().digest == digest(secret)


def test_the_webhook_action_takes_post_only(editor, flow):
    assert editor.get("/flows/example/webhook/").status_code == 405


def test_a_webhook_action_without_the_csrf_token_changes_nothing(flow, secret):
    strict = client_for(make_user("editor", "view_flow", "change_flow"), enforce_csrf_checks=True)

    assert strict.post("/flows/example/webhook/", {"action": "remove"}).status_code == 403
    assert FlowHook.objects.exists()


def test_markup_in_a_flow_name_is_escaped_on_the_webhook_pages(editor):
    name = "<img src=x onerror=alert(1)>"
    evil = make_flow(name, *EXAMPLE)
    webhooks.rotate(evil.pk)
    page = editor.get(f"/flows/{name}/")
    created = editor.post(f"/flows/{name}/webhook/", {"action": "rotate"})

    for response in (page, created):
        assertNotContains(response, name)
        assertContains(response, "&lt;img src=x onerror=alert(1)&gt;")
