"""Who may call what: a token needs its user's dashboard permissions and a wide enough scope;
a session needs the permissions and, to change anything, the CSRF token. Refusals are JSON."""

import pytest
from django.test import Client

from api.tokens import create_token, revoke
from tests.api.helpers import API, failed_run, send, token_client
from tests.factories import ALL_PERMS, client_for, make_run, make_user, step

pytestmark = pytest.mark.django_db

DEFINITION = {"definition": {"procedures": [step("s", msg="hi")]}}
# name: (method, path, body, permissions, scope, status when allowed)
ENDPOINTS = {
    "list flows": ("GET", "/flows", None, ("view_flow",), "read", 200),
    "get flow": ("GET", "/flows/example", None, ("view_flow",), "read", 200),
    "put flow": ("PUT", "/flows/example", DEFINITION, ("view_flow", "change_flow"), "write", 200),
    "validate": ("POST", "/validate", DEFINITION, ("view_flow",), "read", 200),
    "start run": ("POST", "/flows/example/runs", {"input": {}}, ("view_flow", "run_flow"), "run", 201),
    "list runs": ("GET", "/runs", None, ("view_flow",), "read", 200),
    "get run": ("GET", "/runs/{queued}", None, ("view_flow",), "read", 200),
    "cancel run": ("POST", "/runs/{queued}/cancel", None, ("view_flow", "run_flow"), "run", 200),
    "resume run": ("POST", "/runs/{failed}/resume", None, ("view_flow", "run_flow"), "run", 201),
    "run logs": ("GET", "/runs/{queued}/logs", None, ("view_flow", "view_syslog"), "read", 200),
}
NARROWER = {"run": "read", "write": "run"}


@pytest.fixture
def runs(example) -> dict:
    return {"queued": make_run(status="queued").pk, "failed": failed_run().pk}


def call(client: Client, name: str, runs: dict, **headers):
    method, path, body, *_ = ENDPOINTS[name]
    # "*" is an If-Match that any version of the flow meets.
    return send(client, method, path.format(**runs), body, **{"If-Match": "*", **headers})


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_answers_a_token_with_just_its_permissions_and_scope(name, runs):
    _, _, _, perms, scope, status = ENDPOINTS[name]
    client = token_client(make_user("bob", *perms), scope)

    response = call(client, name, runs)

    assert response.status_code == status, response.content


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_answers_401_without_credentials(name, runs):
    response = call(Client(), name, runs)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "message" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_answers_401_to_an_unknown_token(name, runs):
    client = Client(headers={"authorization": "Bearer wft_not-a-token"})

    response = call(client, name, runs)

    assert response.status_code == 401
    assert response.json() == {"message": "the token is unknown or revoked, or its user is inactive"}


@pytest.mark.parametrize(
    ("name", "perm"), [(name, perm) for name, spec in ENDPOINTS.items() for perm in spec[3]]
)
def test_every_endpoint_answers_403_naming_the_missing_permission(name, perm, runs):
    client = token_client(make_user("bob", *(p for p in ALL_PERMS if p != perm)), "write")

    response = call(client, name, runs)

    assert response.status_code == 403
    assert response.json() == {"message": f"missing permission: flows.{perm}"}


@pytest.mark.parametrize("name", [name for name, spec in ENDPOINTS.items() if spec[4] != "read"])
def test_every_endpoint_that_changes_something_answers_403_to_a_narrower_scope(name, runs):
    scope = ENDPOINTS[name][4]
    client = token_client(make_user("bob", *ALL_PERMS), NARROWER[scope])

    response = call(client, name, runs)

    assert response.status_code == 403
    assert response.json() == {"message": f"this token's scope is {NARROWER[scope]!r}; this needs {scope!r}"}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_a_session_has_no_scope_limit(name, runs):
    _, _, _, perms, _, status = ENDPOINTS[name]

    response = call(client_for(make_user("bob", *perms)), name, runs)

    assert response.status_code == status, response.content


def test_a_non_staff_user_is_refused_as_on_the_dashboard(example):
    client = token_client(make_user("bob", *ALL_PERMS, staff=False), "write")

    response = send(client, "GET", "/flows")

    assert response.status_code == 403
    assert response.json() == {"message": "the API is for staff users, as the dashboard is"}


def test_a_revoked_token_is_refused(operator, example):
    token, secret = create_token(operator, scope="write")
    revoke(token)

    response = send(Client(headers={"authorization": f"Bearer {secret}"}), "GET", "/flows")

    assert response.status_code == 401


def test_a_token_of_an_inactive_user_is_refused(operator, example):
    client = token_client(operator)
    operator.is_active = False
    operator.save()

    assert send(client, "GET", "/flows").status_code == 401


def test_an_authorization_header_of_another_scheme_is_refused(operator, example):
    response = send(Client(headers={"authorization": "Basic YW5uOnB3"}), "GET", "/flows")

    assert response.status_code == 401
    assert response.json() == {"message": "the Authorization header must be 'Bearer <token>'"}


def test_a_bad_token_is_refused_even_with_a_logged_in_session(operator, example):
    client = client_for(operator, headers={"authorization": "Bearer wft_wrong"})

    assert send(client, "GET", "/flows").status_code == 401


def test_a_request_without_credentials_gets_json_not_the_login_page(example):
    response = Client().get(f"{API}/flows")

    assert response.status_code == 401
    assert "Location" not in response


def test_a_session_post_without_the_csrf_token_is_refused(operator, example):
    client = client_for(operator, enforce_csrf_checks=True)

    response = send(client, "POST", "/validate", {"definition": {"procedures": []}})

    assert response.status_code == 403
    assert response.json()["message"].startswith("CSRF check failed")


def test_a_session_post_with_the_csrf_token_is_accepted(operator, example):
    client = client_for(operator, enforce_csrf_checks=True)
    client.get(f"{API}/docs")  # the docs page gives a logged-in user the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = send(client, "POST", "/validate", {"definition": {"procedures": []}}, **{"X-CSRFToken": token})

    assert response.status_code == 200


def test_a_session_read_needs_no_csrf_token(operator, example):
    client = client_for(operator, enforce_csrf_checks=True)

    assert send(client, "GET", "/flows/example").status_code == 200


def test_a_token_request_needs_no_csrf_token(operator, example):
    _, secret = create_token(operator, scope="write")
    client = Client(enforce_csrf_checks=True, headers={"authorization": f"Bearer {secret}"})

    response = send(client, "POST", "/validate", {"definition": {"procedures": []}})

    assert response.status_code == 200


def test_a_refusal_names_no_flow_to_a_caller_without_permission(example):
    client = token_client(make_user("bob"), "write")

    response = send(client, "GET", "/flows/does-not-exist")

    assert response.status_code == 403
