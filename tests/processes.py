"""Real processes started by tests (runflow, db_worker) against the test database."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = "mod,builtin,tests.runs.procs"
# Fast liveness for tests: a heartbeat every second, a run silent for 3 s is lost.
LIVENESS = {"WORKFLOW_HEARTBEAT_SECONDS": "1", "WORKFLOW_WORKER_LOST_SECONDS": "3"}


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


def run_manage(tmp_path, *args, **env: str) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a child process against the test database."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_until(predicate, timeout: float = 60, message="condition"):
    """Poll the database (the only place the workers' progress shows) until predicate holds."""
    deadline, tick = time.monotonic() + timeout, threading.Event()
    while not (value := predicate()):
        if time.monotonic() > deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        tick.wait(0.1)
    return value


def assert_each_ran_exactly_once(run_ids: list[int], steps: int) -> None:
    """What workers must leave behind: each run succeeded, with each step and log line once."""
    from django.db.models import Count

    from flows.models import SysLog
    from runner.models import Run, RunStep

    assert set(Run.objects.filter(pk__in=run_ids).values_list("status", flat=True)) == {"succeeded"}
    per_run = RunStep.objects.filter(run_id__in=run_ids).values("run_id").annotate(n=Count("id"))
    assert sorted(row["n"] for row in per_run) == [steps] * len(run_ids)
    # A step's lines are on its child of the run's logger (workflow.run.<id>.<step>).
    logged = sum(
        SysLog.objects.of_logger_tree(f"workflow.run.{pk}").filter(message__startswith="msg=").count()
        for pk in run_ids
    )
    assert logged == steps * len(run_ids)


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


SCHEDULER = [sys.executable, "manage.py", "scheduler"]
DB_WORKER = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval=0.1"]
REAP_EVERY = 1  # seconds between the reaps of a scheduler started by Processes


class Processes:
    """Children in their own session, so that a test can SIGKILL a worker's whole process
    group (a prefork Celery worker and its children) as a crashed machine would."""

    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.started: list[tuple[subprocess.Popen, object]] = []

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen:
        output = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(self.tmp_path, **LIVENESS, **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.name = name
        self.started.append((process, output))
        return process

    def scheduler(self, name: str = "scheduler", **env: str) -> subprocess.Popen:
        process = self.start(name, SCHEDULER, WORKFLOW_SCHEDULER_REAP_SECONDS=str(REAP_EVERY), **env)
        wait_until(lambda: "scheduler started" in self.output(process), 60, lambda: self.said(process))
        return process

    def output(self, process: subprocess.Popen) -> str:
        return (self.tmp_path / f"{process.name}.log").read_text()

    def said(self, *processes: subprocess.Popen) -> str:
        return "\n".join(f"--- {p.name} said:\n{self.output(p)[-3000:]}" for p in processes)

    def alive(self, *processes: subprocess.Popen) -> bool:
        dead = [p for p in processes if p.poll() is not None]
        assert not dead, f"{[p.name for p in dead]} exited early\n{self.said(*dead)}"
        return True

    def stop(self) -> None:
        for process, output in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            output.close()


def terminate(*processes: subprocess.Popen) -> list[int]:
    """SIGTERM each, as a service manager stops it; their exit codes."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    return [process.wait(timeout=30) for process in processes]


def kill_group(process: subprocess.Popen) -> float:
    """SIGKILL the process and all its children; the moment it happened (monotonic)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return time.monotonic()
