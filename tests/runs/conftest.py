import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from flows.models import Flow

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = "mod,tests.runs.procs"


@pytest.fixture(autouse=True)
def _procedure_packages(settings):
    settings.WORKFLOW_PROCEDURE_PACKAGES = PACKAGES.split(",")


def database_url() -> str:
    """The URL of the test database, for processes started by a test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"mysql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


def child_env(tmp_path, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "WORKFLOW_PROCEDURE_PACKAGES": PACKAGES,
        "WORKFLOW_LOG_FILE": str(tmp_path / "workflow.log"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@pytest.fixture
def runflow(tmp_path):
    """Run `manage.py runflow ...` in a child process against the test database."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "runflow", *args],
            cwd=ROOT,
            env=child_env(tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def step(name: str, method: str = "prt", mod: str = "common.Kt", **params) -> dict:
    return {"name": name, "mod": mod, "method": method, "params": params}


def make_flow(name: str, *steps: dict, **fields) -> Flow:
    return Flow.objects.create(flow_name=name, flow_json=json.dumps({"procedures": list(steps)}), **fields)


EXAMPLE = (step("step1", msg="hello"), step("step2", msg="@step1.msg"))
