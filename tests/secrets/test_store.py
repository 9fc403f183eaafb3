"""The secret store: encrypted at rest, keys rotated, the environment first, clear refusals."""

import pytest
from django.db import connection

from tests.secrets.conftest import VALUE, new_key
from vault import store
from vault.models import Secret

pytestmark = pytest.mark.django_db


def stored_column(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM vault_secret WHERE name = %s", [name])
        return cursor.fetchone()[0]


def test_a_stored_value_is_encrypted_at_rest(key):
    store.add("DB_PASSWORD", VALUE, description="the reporting database", by="ana")

    column = stored_column("DB_PASSWORD")
    assert VALUE not in column
    assert store.reveal("DB_PASSWORD") == VALUE


def test_two_secrets_of_the_same_value_are_stored_differently(key):
    store.add("A", VALUE)
    store.add("B", VALUE)

    assert stored_column("A") != stored_column("B")


def test_rotation_encrypts_every_value_with_the_new_first_key(settings, key):
    store.add("A", VALUE)
    store.add("B", "other")
    before = Secret.objects.get(name="A").updated_at
    new = new_key()
    settings.WORKFLOW_SECRETS_KEY = f"{new},{key}"

    assert store.rotate() == (2, [])

    settings.WORKFLOW_SECRETS_KEY = new  # the old key dropped
    assert (store.reveal("A"), store.reveal("B")) == (VALUE, "other")
    assert Secret.objects.get(name="A").updated_at == before  # a rotation changes no value


def test_rotation_leaves_and_names_the_rows_no_key_opens(settings, key):
    store.add("OLD", VALUE)
    settings.WORKFLOW_SECRETS_KEY = new_key()
    store.add("NEW", VALUE)
    column = stored_column("OLD")

    assert store.rotate() == (1, ["OLD"])
    assert stored_column("OLD") == column


def test_a_value_under_another_key_is_refused_with_a_clear_error(settings, key):
    store.add("DB_PASSWORD", VALUE)
    settings.WORKFLOW_SECRETS_KEY = new_key()

    with pytest.raises(store.CannotDecrypt) as refused:
        store.reveal("DB_PASSWORD")

    assert str(refused.value).startswith(
        "secret DB_PASSWORD cannot be decrypted with WORKFLOW_SECRETS_KEY: it was encrypted with another key"
    )


def test_without_a_key_nothing_is_stored(settings):
    settings.WORKFLOW_SECRETS_KEY = ""

    with pytest.raises(store.KeyProblem, match="WORKFLOW_SECRETS_KEY is not set"):
        store.add("DB_PASSWORD", VALUE)
    assert not Secret.objects.exists()


def test_without_a_key_a_stored_value_cannot_be_read(settings, key):
    store.add("DB_PASSWORD", VALUE)
    settings.WORKFLOW_SECRETS_KEY = ""

    with pytest.raises(
        store.CannotDecrypt, match=r"^secret DB_PASSWORD cannot be decrypted with WORKFLOW_SECRETS_KEY: "
    ):
        store.reveal("DB_PASSWORD")


def test_a_malformed_key_is_named_by_its_position(settings, key):
    settings.WORKFLOW_SECRETS_KEY = f"{key}, not-a-key"

    assert store.key_problem() == (
        "WORKFLOW_SECRETS_KEY is not valid: key 2 of 2 is not a Fernet key (44 characters of url-safe"
        " base64; docs/secrets.md, 'The key', says how to make one)"
    )


def test_an_environment_variable_is_a_secret(monkeypatch, settings):
    settings.WORKFLOW_SECRETS_KEY = ""  # not needed for the environment's secrets
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    assert store.reveal("API_TOKEN") == VALUE
    assert store.known({"API_TOKEN", "OTHER"}) == {"API_TOKEN"}


def test_an_empty_environment_variable_is_unset(monkeypatch):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", "")

    with pytest.raises(store.UnknownSecret):
        store.reveal("API_TOKEN")


def test_the_environment_wins_over_the_table(monkeypatch, key):
    store.add("API_TOKEN", "from the table")
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", "from the environment")

    assert store.reveal("API_TOKEN") == "from the environment"
    # Listed both, the one that wins first.
    [from_environment, entry] = store.entries()
    assert (from_environment.source, entry.source, entry.hidden) == ("environment", "table", True)


def test_a_name_the_environment_sets_cannot_be_added_to_the_table(monkeypatch, key):
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    with pytest.raises(store.SecretsError, match="set by the environment variable WORKFLOW_SECRET_API_TOKEN"):
        store.add("API_TOKEN", "other")


def test_an_unknown_secret_says_where_secrets_come_from(key):
    with pytest.raises(store.UnknownSecret) as refused:
        store.reveal("NOPE")

    assert str(refused.value) == (
        'no secret is named "NOPE": set the environment variable WORKFLOW_SECRET_NOPE'
        " or add NOPE on the Secrets page (/secrets/)"
    )


@pytest.mark.parametrize("name", ["db-password", "a.b", "", "é", "x" * 101])
def test_names_are_letters_digits_and_underscores(key, name):
    with pytest.raises(store.SecretsError, match="letters, digits or underscores"):
        store.add(name, VALUE)


def test_names_differing_only_by_case_are_refused_on_every_database(key):
    store.add("Token", VALUE)

    with pytest.raises(store.SecretsError, match="exists already"):
        store.add("TOKEN", VALUE)


def test_names_are_case_sensitive(key):
    store.add("Token", VALUE)

    assert store.known({"Token", "TOKEN"}) == {"Token"}
    with pytest.raises(store.UnknownSecret):
        store.reveal("TOKEN")


def test_replacing_a_value_keeps_the_description_when_none_is_given(key):
    store.add("A", "old", description="kept")

    store.replace("A", VALUE, by="bo")

    row = Secret.objects.get(name="A")
    assert (store.reveal("A"), row.description, row.updated_by) == (VALUE, "kept", "bo")


def test_the_listing_flags_a_row_the_key_cannot_open(settings, key):
    store.add("A", VALUE)
    settings.WORKFLOW_SECRETS_KEY = new_key()

    [entry] = store.entries()

    assert entry.problem == "cannot be decrypted with WORKFLOW_SECRETS_KEY: it was encrypted with another key"
