"""`make run` / `scripts/serve`: the development server, a worker and the scheduler, stopped by Ctrl-C.

Ctrl-C makes the terminal send SIGINT to its whole foreground process group (make, the
script, the server, the worker): each test starts its command in a group of its own and
signals that group the same way."""

import os
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.processes import ROOT, child_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(tmp_path, *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )


def answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/", timeout=5)
    except urllib.error.HTTPError:
        return True  # any HTTP answer: the server is up
    except OSError:
        return False
    return True


def press_ctrl_c(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_ctrl_c_stops_the_server_the_worker_and_the_scheduler_with_status_0(tmp_path):
    port = free_port()
    serve = start(tmp_path, "scripts/serve", f"127.0.0.1:{port}")
    wait_until(lambda: answers(port), message="the development server to answer")

    output = press_ctrl_c(serve)

    assert serve.returncode == 0, output
    assert "Terminated" not in output and "Traceback" not in output, output
    wait_until(lambda: group_is_gone(serve.pid), message="the server, the worker and the scheduler to end")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_ctrl_c_on_make_run_prints_no_error(tmp_path):
    # -o setup: the database is the test's, already set up (and nothing gets installed).
    port = free_port()
    make = start(tmp_path, "make", "-o", "setup", "run", "HOST=127.0.0.1", f"PORT={port}")
    wait_until(lambda: answers(port), message="the development server to answer")

    output = press_ctrl_c(make)

    assert "make: ***" not in output and "Terminated" not in output, output
    # Make ends itself by the SIGINT it received, as GNU make always does on Ctrl-C, silently.
    assert make.returncode in (0, -signal.SIGINT), output


def test_the_worker_is_stopped_when_the_server_cannot_start(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        serve = start(tmp_path, "scripts/serve", f"127.0.0.1:{taken.getsockname()[1]}")

        output, _ = serve.communicate(timeout=60)

    assert serve.returncode != 0
    assert "That port is already in use" in output
    wait_until(lambda: group_is_gone(serve.pid), message="the worker to end")


def test_the_development_server_listens_on_this_machine_only(tmp_path):
    serve = start(tmp_path, "scripts/serve", "0.0.0.0:8000")

    output, _ = serve.communicate(timeout=60)

    assert serve.returncode == 2
    assert "0.0.0.0:8000 is not a loopback address" in output
