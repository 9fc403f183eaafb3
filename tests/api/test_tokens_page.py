"""/tokens/: each person's own API tokens; a new secret is shown once, on the answer to its POST."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from api.models import ApiToken
from api.tokens import authenticate, create_token, digest
from tests.factories import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return make_user("alice", "view_flow")


@pytest.fixture
def client(alice):
    return client_for(alice)


def created_secret(response) -> str:
    (secret,) = re.findall(r'id="token-secret"[^>]*value="(wft_[^"]+)"', response.content.decode())
    return secret


def test_the_page_lists_only_the_users_own_tokens(client, alice):
    create_token(alice, name="mine")
    create_token(make_user("bob"), name="bobs")

    response = client.get("/tokens/")

    assertContains(response, "mine")
    assertNotContains(response, "bobs")


def test_a_superuser_sees_only_their_own_tokens_too(alice):
    create_token(alice, name="alices")
    boss = User.objects.create_superuser("boss", password=None)
    create_token(boss, name="boss-token")

    response = client_for(boss).get("/tokens/")

    assertContains(response, "boss-token")
    assertNotContains(response, "alices")


def test_the_page_shows_prefix_scope_and_never_the_digest(client, alice):
    token, _ = create_token(alice, name="ci", scope="run")

    response = client.get("/tokens/")

    assertContains(response, f"<code>{token.prefix}…</code>", html=False)
    assertContains(response, "<td>run</td>", html=False)
    assertNotContains(response, token.digest)


def test_the_navigation_links_to_the_tokens_page(client):
    response = client.get("/tokens/")

    assertContains(response, 'href="/tokens/" aria-current="page">API tokens</a>', html=False)


def test_creating_a_token_shows_its_secret(client, alice):
    response = client.post("/tokens/", {"name": "ci", "scope": "run"})

    assert response.status_code == 200
    secret = created_secret(response)
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope) == (alice, "ci", "run")
    assert token.digest == digest(secret)
    assertContains(response, "shown this once and never again")


def test_the_secret_is_never_shown_again(client):
    secret = created_secret(client.post("/tokens/", {"name": "ci", "scope": "read"}))

    assertNotContains(client.get("/tokens/"), secret)


def test_the_page_showing_a_secret_is_not_cached(client):
    response = client.post("/tokens/", {"name": "ci", "scope": "read"})

    assert "no-store" in response["Cache-Control"]


def test_a_created_token_authenticates_as_its_user(client, alice):
    secret = created_secret(client.post("/tokens/", {"name": "", "scope": "write"}))

    assert authenticate(secret).user == alice


def test_a_bad_scope_is_a_400_and_creates_nothing(client):
    response = client.post("/tokens/", {"name": "ci", "scope": "root"})

    assertContains(response, 'id="token-errors"', status_code=400)
    assert not ApiToken.objects.exists()


def test_markup_in_a_token_name_is_escaped(client, alice):
    create_token(alice, name="<script>alert(1)</script>")

    response = client.get("/tokens/")

    assertNotContains(response, "<script>alert(1)</script>")
    assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")


def test_revoking_a_token_stops_it(client, alice):
    token, secret = create_token(alice)

    response = client.post(f"/tokens/{token.pk}/revoke/")

    assert response.status_code == 303 and response["Location"] == "/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate(secret) is None


def test_a_revoked_token_is_listed_as_revoked_without_a_revoke_button(client, alice):
    token, _ = create_token(alice)
    client.post(f"/tokens/{token.pk}/revoke/")

    response = client.get("/tokens/")

    assertContains(response, 'data-revoked="true"')
    assertNotContains(response, f'id="revoke-token-{token.pk}"')


def test_nobody_can_revoke_someone_elses_token(client):
    token, secret = create_token(make_user("bob"))

    response = client.post(f"/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    assert authenticate(secret) is not None


def test_revoking_takes_post_only(client, alice):
    token, _ = create_token(alice)

    assert client.get(f"/tokens/{token.pk}/revoke/").status_code == 405


def test_a_revoke_without_the_csrf_token_changes_nothing(alice):
    token, secret = create_token(alice)
    strict = client_for(alice, enforce_csrf_checks=True)

    assert strict.post(f"/tokens/{token.pk}/revoke/").status_code == 403
    assert authenticate(secret) is not None


def test_anonymous_visitors_are_sent_to_the_login_page(db):
    response = Client().get("/tokens/")

    assert response.status_code == 302 and "login" in response["Location"]


def test_non_staff_users_are_refused(db):
    response = client_for(make_user("outsider", staff=False)).get("/tokens/")

    assert response.status_code == 403


def test_the_admin_lists_tokens_without_their_digests_and_cannot_add_one(alice):
    token, _ = create_token(alice, name="ci")
    admin = client_for(User.objects.create_superuser("boss", password=None))

    listing = admin.get("/admin/api/apitoken/")
    detail = admin.get(f"/admin/api/apitoken/{token.pk}/change/")

    assertContains(listing, token.prefix)
    assertNotContains(detail, token.digest)
    assert admin.get("/admin/api/apitoken/add/").status_code == 403


def test_the_admin_revokes_the_selected_tokens(alice):
    token, secret = create_token(alice)
    admin = client_for(User.objects.create_superuser("boss", password=None))

    admin.post("/admin/api/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})

    assert authenticate(secret) is None
