import os

import pytest
from cryptography.fernet import Fernet

from runner.log import shutdown_logging
from tests.processes import PACKAGES
from vault import store

# What the tests store: long enough to be told apart from anything else in a page or a log.
VALUE = "s3cr3t-Pa55word-4-tests"


def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def key(settings) -> str:
    """A WORKFLOW_SECRETS_KEY of one fresh key."""
    settings.WORKFLOW_SECRETS_KEY = new_key()
    return settings.WORKFLOW_SECRETS_KEY


@pytest.fixture(autouse=True)
def _no_secrets_in_the_environment(monkeypatch):
    # The tests' own secrets only, whatever the machine running them has set.
    for name in [name for name in os.environ if name.startswith(store.ENV_PREFIX)]:
        monkeypatch.delenv(name)


@pytest.fixture
def secret_procedures(settings):
    settings.WORKFLOW_PROCEDURE_PACKAGES = [*PACKAGES.split(","), "tests.secrets.procs"]


@pytest.fixture
def log_file(settings, tmp_path):
    """The run's log file, and a Log object of this test's own (one per process)."""
    path = tmp_path / "workflow.log"
    settings.WORKFLOW_LOG_FILE = str(path)
    shutdown_logging()
    yield path
    shutdown_logging()
