"""/secrets/: staff with vault.manage_secret only; values write-only; clear errors."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tests.factories import ALL_PERMS, client_for, make_user
from tests.secrets.conftest import VALUE, new_key
from vault import store
from vault.models import Secret

pytestmark = pytest.mark.django_db

PAGES = ["/secrets/", "/secrets/DB_PASSWORD/"]
ACTIONS = {
    "/secrets/add/": {"name": "NEW", "value": VALUE},
    "/secrets/DB_PASSWORD/": {"value": "changed", "description": ""},
    "/secrets/DB_PASSWORD/delete/": {},
}


def keeper(username: str = "keeper", staff: bool = True) -> User:
    user = User.objects.create_user(username, is_staff=staff)
    user.user_permissions.add(
        Permission.objects.get(codename="manage_secret", content_type__app_label="vault")
    )
    return user


@pytest.fixture
def client(key) -> Client:
    store.add("DB_PASSWORD", VALUE, description="reporting <b>database</b>", by="ana")
    return client_for(keeper())


@pytest.mark.parametrize("path", PAGES)
def test_a_page_needs_a_login(client, path):
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("path", PAGES)
def test_a_page_is_refused_to_staff_without_the_permission(client, path):
    # Every permission of the dashboard, but not this one.
    response = client_for(make_user("operator", *ALL_PERMS)).get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_page_is_refused_to_non_staff_users_with_the_permission(client, path):
    response = client_for(keeper("outsider", staff=False)).get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", ACTIONS)
def test_an_action_is_refused_without_the_permission_and_changes_nothing(client, path):
    response = client_for(make_user("operator", *ALL_PERMS)).post(path, ACTIONS[path])

    assert response.status_code == 403
    assert list(Secret.objects.values_list("name", flat=True)) == ["DB_PASSWORD"]
    assert store.reveal("DB_PASSWORD") == VALUE


@pytest.mark.parametrize("path", ACTIONS)
def test_an_action_needs_the_csrf_token(client, path):
    user = User.objects.get(username="keeper")
    response = client_for(user, enforce_csrf_checks=True).post(path, ACTIONS[path])

    assert response.status_code == 403
    assert store.reveal("DB_PASSWORD") == VALUE


def test_the_menu_links_the_page_only_for_those_who_may_use_it(client):
    assert 'href="/secrets/"' in client.get("/").content.decode()
    others = client_for(make_user("operator", *ALL_PERMS)).get("/").content.decode()
    assert 'href="/secrets/"' not in others


def test_the_list_shows_names_descriptions_and_changes_never_a_value(client, monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", "from-the-environment")

    html = client.get("/secrets/").content.decode()

    assert 'data-secret="DB_PASSWORD" data-source="table"' in html
    assert 'data-secret="API_TOKEN" data-source="environment"' in html
    assert "reporting &lt;b&gt;database&lt;/b&gt;" in html
    assert "by ana" in html
    assert VALUE not in html
    assert "from-the-environment" not in html


def test_adding_a_secret_stores_it_encrypted_and_redirects(client):
    response = client.post("/secrets/add/", {"name": "API_KEY", "value": VALUE, "description": "billing"})

    assert (response.status_code, response["Location"]) == (303, "/secrets/")
    row = Secret.objects.get(name="API_KEY")
    assert (row.description, row.updated_by, store.reveal("API_KEY")) == ("billing", "keeper", VALUE)
    assert VALUE not in client.get("/secrets/").content.decode()


def test_a_refused_form_says_why_and_never_renders_the_value_back(client):
    response = client.post("/secrets/add/", {"name": "bad-name", "value": VALUE})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Name: a secret name is 1 to 100 letters, digits or underscores" in html
    assert VALUE not in html


def test_a_name_taken_is_refused(client):
    response = client.post("/secrets/add/", {"name": "db_password", "value": "x" * 8})

    assert response.status_code == 400
    assert "a secret named db_password exists already: replace its value instead" in response.content.decode()


def test_a_value_is_required(client):
    response = client.post("/secrets/add/", {"name": "EMPTY", "value": ""})

    assert response.status_code == 400
    assert "Value: This field is required." in response.content.decode()


def test_the_replace_page_does_not_show_the_value(client):
    html = client.get("/secrets/DB_PASSWORD/").content.decode()

    assert VALUE not in html
    assert 'type="password"' in html
    assert "reporting &lt;b&gt;database&lt;/b&gt;" in html  # the description, to edit


def test_replacing_the_value(client):
    response = client.post("/secrets/DB_PASSWORD/", {"value": "changed", "description": "new"})

    assert response.status_code == 303
    assert (store.reveal("DB_PASSWORD"), Secret.objects.get().description) == ("changed", "new")


def test_an_empty_value_keeps_the_current_one(client):
    client.post("/secrets/DB_PASSWORD/", {"value": "", "description": "only this"})

    assert (store.reveal("DB_PASSWORD"), Secret.objects.get().description) == (VALUE, "only this")


def test_deleting_a_secret(client):
    response = client.post("/secrets/DB_PASSWORD/delete/")

    assert response.status_code == 303
    assert not Secret.objects.exists()


def test_an_unknown_or_environment_secret_has_no_replace_page(client, monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    assert client.get("/secrets/NOPE/").status_code == 404
    assert client.get("/secrets/API_TOKEN/").status_code == 404
    assert client.post("/secrets/API_TOKEN/delete/").status_code == 404


def test_a_missing_key_is_said_on_the_page_and_adding_is_refused(client, settings):
    settings.WORKFLOW_SECRETS_KEY = ""

    page = client.get("/secrets/")
    refused = client.post("/secrets/add/", {"name": "NEW", "value": VALUE})

    assert page.status_code == 200
    assert "WORKFLOW_SECRETS_KEY is not set" in page.content.decode()
    assert refused.status_code == 400
    assert "WORKFLOW_SECRETS_KEY is not set" in refused.content.decode()
    assert not Secret.objects.filter(name="NEW").exists()


def test_a_row_the_key_cannot_open_is_flagged_on_the_page(client, settings):
    settings.WORKFLOW_SECRETS_KEY = new_key()

    html = client.get("/secrets/").content.decode()

    assert "cannot be decrypted with WORKFLOW_SECRETS_KEY: it was encrypted with another key" in html


def test_a_name_the_environment_sets_cannot_be_added(client, monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", "x")

    response = client.post("/secrets/add/", {"name": "API_TOKEN", "value": VALUE})

    assert response.status_code == 400
    assert (
        "set by the environment variable WORKFLOW_SECRET_API_TOKEN, which wins" in response.content.decode()
    )


def test_the_admin_lists_names_and_never_a_value_or_its_token(client):
    admin = client_for(User.objects.create_superuser("root"))
    token = Secret.objects.get().token

    listing = admin.get("/admin/vault/secret/").content.decode()
    detail = admin.get(f"/admin/vault/secret/{Secret.objects.get().pk}/change/")

    assert "DB_PASSWORD" in listing
    assert VALUE not in listing + detail.content.decode()
    assert token not in listing + detail.content.decode()
    assert admin.get("/admin/vault/secret/add/").status_code == 403
