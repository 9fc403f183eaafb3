import logging

import pytest
from django.db import connections

import runner.log
from flows.models import SysLog
from runner.log import shutdown_logging


@pytest.fixture(autouse=True)
def _no_log_object_left_behind(request):
    # The Log object is one per process; each test builds its own from its settings.
    # tests/conftest.py empties the wf_ tables only after tests that request
    # transactional_db by name, not after those marked django_db(transaction=True), so
    # wf_syslog is emptied here, before and after.
    marker = request.node.get_closest_marker("django_db")
    writes = marker is not None and marker.kwargs.get("transaction", False)
    shutdown_logging()
    if writes:
        SysLog.objects.all().delete()
    yield
    shutdown_logging()
    if writes:
        SysLog.objects.all().delete()


@pytest.fixture
def log_file(tmp_path, settings):
    path = tmp_path / "logs" / "workflow.log"
    settings.WORKFLOW_LOG_FILE = str(path)
    return path


def log_lines(path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def database_handler():
    return runner.log._pipeline.database


class LogDatabase:
    """A database alias for the log writer, on the test database, that a test can take down
    (a dead port, or a file SQLite cannot open) and bring back. Tests using it list it:
    @pytest.mark.django_db(transaction=True, databases=["default", LogDatabase.alias])."""

    alias = "logdb"

    def __init__(self, config: dict) -> None:
        # The writer's connection reads this very dict each time it connects.
        self.config = config
        if config["ENGINE"] == "django.db.backends.sqlite3":
            self.broken = {"NAME": "/nonexistent/directory/wf.sqlite3"}
        else:
            self.broken = {"HOST": "127.0.0.1", "PORT": 1}
        self.working = {key: config[key] for key in self.broken}

    def go_down(self) -> None:
        self.config.update(self.broken)

    def come_back(self) -> None:
        self.config.update(self.working)


@pytest.fixture(scope="module")
def _log_database_alias(django_db_setup):
    # Defined before pytest-django checks the test's `databases`, which is function-scoped.
    config = dict(connections["default"].settings_dict)
    connections.settings[LogDatabase.alias] = config
    yield config
    del connections.settings[LogDatabase.alias]


@pytest.fixture
def log_database(_log_database_alias, settings):
    database = LogDatabase(_log_database_alias)
    settings.WORKFLOW_LOG_DATABASE = database.alias
    yield database
    database.come_back()  # pytest-django flushes the alias after the test.
    shutdown_logging()


class Collect(logging.Handler):
    """An output for a bare LogPipeline: keeps the messages, optionally waiting on a gate."""

    def __init__(self, gate=None) -> None:
        super().__init__()
        self.gate = gate
        self.messages: list[str] = []

    def emit_batch(self, records) -> None:
        if self.gate is not None:
            self.gate.wait()
        self.messages.extend(record.getMessage() for record in records)
