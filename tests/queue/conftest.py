import subprocess
import sys
import threading
import time

import pytest

from tests.runs.conftest import ROOT, _procedure_packages, child_env, runflow  # noqa: F401 (fixtures)

# Fast liveness for tests: a heartbeat every second, a run silent for 3 s is lost.
LIVENESS = {"WORKFLOW_HEARTBEAT_SECONDS": "1", "WORKFLOW_WORKER_LOST_SECONDS": "3"}


def wait_until(predicate, timeout: float = 60, message="condition"):
    """Poll the database (the only place the workers' progress shows) until predicate holds."""
    deadline, tick = time.monotonic() + timeout, threading.Event()
    while not (value := predicate()):
        if time.monotonic() > deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        tick.wait(0.1)
    return value


class Workers:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.outputs: list = []

    def start(self, command: list[str], count: int = 1, **env: str) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            output = open(self.tmp_path / f"worker-{len(self.processes)}.log", "w")  # noqa: SIM115
            self.outputs.append(output)
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_env(self.tmp_path, **LIVENESS, **env),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            self.processes.append(process)
            started.append(process)
        return started

    def db(self, count: int = 1, *extra: str, **env: str) -> list[subprocess.Popen]:
        command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
        return self.start([*command, "--interval", "0.1", *extra], count, **env)

    def output(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.tmp_path.glob("worker-*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for output in self.outputs:
            output.close()


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    yield pool
    pool.stop()
