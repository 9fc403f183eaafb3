"""`manage.py secrets`: set (from --value or standard input), list, delete, rotate."""

import io

import pytest

from tests.commands import command_line
from tests.secrets.conftest import VALUE, new_key
from vault import store
from vault.management.commands.secrets import Command
from vault.models import Secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def secrets(monkeypatch, key):
    return command_line(monkeypatch, Command, "secrets")


def test_set_reads_the_value_from_standard_input_without_its_line_end(secrets, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(VALUE + "\n"))

    done = secrets("set", "DB_PASSWORD", "--description", "reporting")

    assert (done.returncode, done.stdout.strip()) == (0, "secret DB_PASSWORD added")
    assert store.reveal("DB_PASSWORD") == VALUE
    assert Secret.objects.get().description == "reporting"


def test_set_replaces_a_value_and_keeps_the_description(secrets):
    store.add("DB_PASSWORD", "old", description="kept")

    done = secrets("set", "DB_PASSWORD", "--value", VALUE)

    assert done.stdout.strip() == "secret DB_PASSWORD replaced"
    assert (store.reveal("DB_PASSWORD"), Secret.objects.get().description) == (VALUE, "kept")


def test_list_never_prints_a_value(secrets, monkeypatch):
    store.add("DB_PASSWORD", VALUE)
    monkeypatch.setenv("WORKFLOW_SECRET_API_TOKEN", VALUE)

    done = secrets("list")

    assert done.returncode == 0
    assert [line.split()[:2] for line in done.stdout.splitlines()] == [
        ["NAME", "FROM"],
        ["API_TOKEN", "environment"],
        ["DB_PASSWORD", "table"],
    ]
    assert VALUE not in done.stdout


def test_delete(secrets):
    store.add("DB_PASSWORD", VALUE)

    assert secrets("delete", "DB_PASSWORD").returncode == 0
    assert not Secret.objects.exists()


def test_a_refusal_exits_2_with_its_reason(secrets):
    done = secrets("delete", "NOPE")

    assert (done.returncode, done.stderr.strip()) == (2, "secrets delete: the table has no secret named NOPE")


def test_rotate_then_drop_the_old_key(secrets, settings, key):
    store.add("DB_PASSWORD", VALUE)
    new = new_key()
    settings.WORKFLOW_SECRETS_KEY = f"{new},{key}"

    done = secrets("rotate")

    assert (done.returncode, done.stdout.strip()) == (
        0,
        "1 secret(s) encrypted with the first key of WORKFLOW_SECRETS_KEY",
    )
    settings.WORKFLOW_SECRETS_KEY = new
    assert store.reveal("DB_PASSWORD") == VALUE


def test_rotate_names_the_secrets_no_key_opens(secrets, settings):
    store.add("DB_PASSWORD", VALUE)
    settings.WORKFLOW_SECRETS_KEY = new_key()

    done = secrets("rotate")

    assert done.returncode == 2
    assert done.stderr.startswith(
        "secrets rotate: no key of WORKFLOW_SECRETS_KEY decrypts DB_PASSWORD: left as they were"
    )


def test_without_a_key_set_is_refused_clearly(secrets, settings):
    settings.WORKFLOW_SECRETS_KEY = ""

    done = secrets("set", "DB_PASSWORD", "--value", VALUE)

    assert done.returncode == 2
    assert done.stderr.startswith("secrets set: WORKFLOW_SECRETS_KEY is not set")
