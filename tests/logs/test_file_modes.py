"""Files the app creates are not world-readable: the log file (and its rotated copies) 0640,
the SQLite database 0600, as .secret_key already is."""

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runner.log import flush_logs, setup_logging

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    # The usual 022: group and others would get read access unless the app says otherwise.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_log_file_is_created_readable_by_its_owner_and_group_only(log_file):
    setup_logging()
    logging.getLogger("workflow.test").info("hello")

    assert flush_logs()
    assert mode(log_file) == 0o640


def test_rotated_log_files_stay_readable_by_their_owner_and_group_only(log_file, settings):
    settings.WORKFLOW_LOG_MAX_BYTES = 300
    setup_logging()
    for i in range(10):
        logging.getLogger("workflow.test").info("line %d %s", i, "x" * 60)
        assert flush_logs()

    rotated = log_file.with_name("workflow.log.1")
    assert rotated.exists()
    assert mode(log_file) == 0o640 and mode(rotated) == 0o640


# Run in a fresh process, as `make run` does; it lists the files while its connection is open
# (SQLite removes the -wal and -shm files when the last connection closes).
CONNECT = """
import json, os, stat, sys
import django
django.setup()
from django.db import connection
connection.cursor().execute("CREATE TABLE t (x)")
folder = sys.argv[1]
modes = {name: stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) for name in os.listdir(folder)}
print(json.dumps(modes))
"""


def test_the_sqlite_database_is_created_readable_by_its_owner_only(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "workflow_site.settings",
    }

    done = subprocess.run(
        [sys.executable, "-c", CONNECT, str(tmp_path)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )

    modes = json.loads(done.stdout)
    assert sorted(modes) == ["new.sqlite3", "new.sqlite3-shm", "new.sqlite3-wal"]
    assert modes == dict.fromkeys(modes, 0o600)
