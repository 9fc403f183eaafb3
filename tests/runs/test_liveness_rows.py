"""Real processes stamp their WorkerProcess rows: a db worker (with the run it executes), a
Celery worker and a scheduler; each removes its row when stopped."""

import signal
import socket
import sys

import pytest

from runner import dispatch
from runner.models import WorkerProcess
from tests.factories import make_flow, step
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SCHEDULER = [sys.executable, "manage.py", "scheduler"]
CELERY_WORKER = [
    sys.executable,
    "-m",
    "celery",
    "-A",
    "workflow_site",
    "worker",
    "--pool",
    "solo",
    "--loglevel",
    "INFO",
]


def row_of(process, kind: str) -> WorkerProcess | None:
    return WorkerProcess.objects.filter(host=socket.gethostname(), pid=process.pid, kind=kind).first()


def held_run(tmp_path) -> tuple[int, object]:
    """A queued run whose only step waits until the returned path exists."""
    release = tmp_path / "release"
    hold = step("hold", "wait_for_file", "Testing", path=str(release), timeout=120)
    return dispatch.start_run(make_flow("held", hold), input={}, trigger="test", triggered_by="t").pk, release


def stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_a_db_worker_stamps_its_row_with_the_run_it_executes(workers, tmp_path):
    run_id, release = held_run(tmp_path)
    [worker] = workers.db()

    row = wait_until(
        lambda: (r := row_of(worker, "db_worker")) and r.current_run_id == run_id and r,
        60,
        lambda: f"the worker's row naming run {run_id}\n{workers.output()}",
    )
    assert row.queue == "default"
    release.touch()
    wait_until(lambda: row_of(worker, "db_worker").current_run_id is None, 30, "the row to go idle")
    first_seen = row_of(worker, "db_worker").last_seen
    wait_until(lambda: row_of(worker, "db_worker").last_seen > first_seen, 30, "another beat")

    stop(worker)

    assert row_of(worker, "db_worker") is None


def test_a_scheduler_stamps_its_row_each_pass_and_removes_it_on_stop(workers):
    [scheduler] = workers.start(SCHEDULER, WORKFLOW_SCHEDULER_WAKE_SECONDS="1")

    row = wait_until(lambda: row_of(scheduler, "scheduler"), 60, lambda: workers.output())
    wait_until(lambda: row_of(scheduler, "scheduler").last_seen > row.last_seen, 30, "a second pass")
    assert row.current_run_id is None

    stop(scheduler)

    assert row_of(scheduler, "scheduler") is None


def test_a_celery_worker_stamps_its_row(workers, celery_queue):
    [worker] = workers.start(CELERY_WORKER, **celery_queue)

    row = wait_until(lambda: row_of(worker, "celery"), 60, lambda: workers.output())

    assert row.queue == celery_queue["CELERY_TASK_DEFAULT_QUEUE"]
    # Its row may come before Celery handles SIGTERM: stop it once it says it is ready.
    wait_until(lambda: " ready." in workers.output(), 60, lambda: workers.output())
    stop(worker)
    assert row_of(worker, "celery") is None
