"""Every built-in procedure is declared for the catalogue, and `builtin` is allow-listed by default."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.engine.declare import declaration_of
from runner.engine.loader import ProcedureLoader

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = [
    ("http.Http", "request"),
    ("sql.Sql", "query"),
    ("sql.Sql", "execute"),
    ("wait.Wait", "sleep"),
    ("email.Email", "send"),
    ("flow.Flow", "run"),
]


@pytest.mark.parametrize(("mod", "method"), BUILTINS)
def test_each_builtin_is_declared_with_a_summary_params_and_results(mod, method):
    _, func = ProcedureLoader(["mod", "builtin"]).load(mod, method)

    declaration = declaration_of(func)

    assert declaration is not None
    assert declaration.summary
    assert declaration.params and declaration.results
    assert any(p.required for p in declaration.params.values())
    assert all(p.description or p.choices or p.has_default for p in declaration.params.values())


def settings_value(expression: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WORKFLOW_")}
    environ["DATABASE_URL"] = "sqlite:///:memory:"
    environ["DJANGO_SETTINGS_MODULE"] = "workflow_site.settings"
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_procedure_packages_are_mod_and_builtin_by_default():
    result = settings_value("settings.WORKFLOW_PROCEDURE_PACKAGES")

    assert result.stdout.strip() == "['mod', 'builtin']", result.stderr


def test_sql_connections_are_read_as_name_url_pairs():
    given = "reports = mysql://u:p@db:3306/r?x=1 , files=sqlite:////tmp/f.sqlite3"

    result = settings_value("settings.WORKFLOW_SQL_CONNECTIONS", WORKFLOW_SQL_CONNECTIONS=given)

    assert result.stdout.strip() == (
        "{'reports': 'mysql://u:p@db:3306/r?x=1', 'files': 'sqlite:////tmp/f.sqlite3'}"
    ), result.stderr


def test_a_sql_connection_without_a_name_refuses_to_start():
    result = settings_value("1", WORKFLOW_SQL_CONNECTIONS="mysql://u:p@db/r")

    assert result.returncode != 0
    assert "WORKFLOW_SQL_CONNECTIONS must be name=value pairs separated by commas" in result.stderr
