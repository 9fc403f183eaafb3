"""`manage.py apitoken ...` through the command line's own path (exit codes included)."""

import subprocess

import pytest

from api.management.commands.apitoken import Command
from api.models import ApiToken
from api.tokens import authenticate, create_token, digest
from tests.commands import command_line
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def cli(monkeypatch):
    return command_line(monkeypatch, Command, "apitoken")


@pytest.fixture
def bob(db):
    return make_user("bob", "view_flow")


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    return line


def test_create_prints_only_the_token_on_stdout(cli, bob):
    result = cli("create", "bob", "--name", "ci")

    assert result.returncode == 0, result.stderr
    (secret,) = result.stdout.split()
    assert secret == result.stdout.strip() and secret.startswith("wft_")
    assert "not shown again" in result.stderr
    assert secret not in result.stderr


def test_the_created_token_is_stored_as_its_digest_only(cli, bob):
    secret = cli("create", "bob").stdout.strip()

    token = ApiToken.objects.get()
    assert token.digest == digest(secret)
    assert secret not in {token.digest, token.prefix, token.name}
    assert secret.startswith(token.prefix)


def test_the_created_token_authenticates_as_its_user(cli, bob):
    secret = cli("create", "bob").stdout.strip()

    assert authenticate(secret).user == bob


def test_the_scope_defaults_to_read(cli, bob):
    cli("create", "bob")

    assert ApiToken.objects.get().scope == "read"


@pytest.mark.parametrize("scope", ["read", "run", "write"])
def test_create_takes_each_scope(cli, bob, scope):
    result = cli("create", "bob", "--scope", scope, "--name", "deploy")

    assert result.returncode == 0, result.stderr
    token = ApiToken.objects.get()
    assert (token.scope, token.name, token.user) == (scope, "deploy", bob)


def test_a_bad_scope_is_refused_with_one_line(cli, bob):
    line = refusal(cli("create", "bob", "--scope", "admin"))

    assert line.startswith("apitoken create:") and "read, run, write" in line
    assert not ApiToken.objects.exists()


def test_an_unknown_user_is_refused_with_one_line(cli, db):
    line = refusal(cli("create", "nobody"))

    assert line == "apitoken create: no user 'nobody'"


def test_a_missing_user_argument_exits_2(cli, db):
    assert cli("create").returncode == 2


def test_list_shows_the_tokens_without_their_secrets(cli, bob):
    token, secret = create_token(bob, name="ci", scope="run")

    result = cli("list")

    assert result.returncode == 0, result.stderr
    header, row = result.stdout.strip().splitlines()
    assert header.split()[:5] == ["ID", "PREFIX", "NAME", "SCOPE", "USER"]
    assert row.split()[:5] == [str(token.pk), token.prefix, "ci", "run", "bob"]
    assert secret not in result.stdout


def test_list_of_a_user_shows_only_their_tokens(cli, bob):
    create_token(make_user("alice"), name="alices")
    create_token(bob, name="bobs")

    result = cli("list", "bob")

    assert "bobs" in result.stdout and "alices" not in result.stdout


def test_list_of_an_unknown_user_is_refused(cli, db):
    assert refusal(cli("list", "nobody")) == "apitoken list: no user 'nobody'"


def test_revoke_by_prefix_stops_the_token(cli, bob):
    token, secret = create_token(bob)

    result = cli("revoke", token.prefix)

    assert result.returncode == 0, result.stderr
    assert "revoked" in result.stdout
    assert authenticate(secret) is None


def test_revoke_by_id_stops_the_token(cli, bob):
    token, _ = create_token(bob)

    assert cli("revoke", str(token.pk)).returncode == 0
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_revoked_token_is_listed_as_revoked(cli, bob):
    token, _ = create_token(bob)
    cli("revoke", str(token.pk))

    (_, row) = cli("list").stdout.strip().splitlines()

    assert row.split()[-1].endswith("Z")  # the revoked column holds a time, not "-"


def test_revoking_an_unknown_token_is_refused(cli, db):
    line = refusal(cli("revoke", "wft_nothing"))

    assert line == "apitoken revoke: no token with the id or prefix 'wft_nothing'"
