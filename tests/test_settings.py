"""Settings behaviour, checked in fresh interpreters since settings load once per process."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")}
    # Settings are what is checked here, not a database: an embedded one always exists.
    environ["DATABASE_URL"] = "sqlite:///:memory:"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = manage("check", DEBUG="False")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_deploy_check_is_clean_with_debug_off_and_a_real_key():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="False", SECRET_KEY=secrets.token_urlsafe(50)
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["maybe", "true", "1", "0", "no", "off", ""])
def test_rejects_a_debug_value_other_than_true_or_false(value):
    result = manage("check", DEBUG=value)

    assert result.returncode != 0
    assert f"DEBUG must be True or False (exactly so spelled), got {value!r}" in result.stderr


def test_accepts_debug_true():
    result = manage("check", DEBUG="True")

    assert result.returncode == 0, result.stderr


def test_debug_refuses_to_serve_a_host_other_than_this_machine():
    result = manage("check", DEBUG="True", ALLOWED_HOSTS="localhost,flows.example.com")

    assert result.returncode != 0
    assert (
        "DEBUG=True is for the development server on this machine, but ALLOWED_HOSTS names" in result.stderr
    )
    assert "['flows.example.com']: set DEBUG=False" in result.stderr


def test_debug_serves_the_names_of_this_machine():
    result = manage("check", DEBUG="True", ALLOWED_HOSTS="127.0.0.1,localhost,[::1]")

    assert result.returncode == 0, result.stderr


def test_debug_off_serves_any_allowed_host():
    key = secrets.token_urlsafe(50)

    result = manage("check", DEBUG="False", SECRET_KEY=key, ALLOWED_HOSTS="flows.example.com")

    assert result.returncode == 0, result.stderr


def test_an_empty_database_url_means_the_default_sqlite_file():
    # Env files often carry "DATABASE_URL=" with nothing after it.
    code = "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"

    result = manage("shell", "--no-imports", "-c", code, DATABASE_URL="")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / "db.sqlite3")
