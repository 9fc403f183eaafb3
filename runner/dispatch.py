"""Handing runs to the configured queue: Django tasks on the database, or Celery.

The messages carry only a run id; the run record is the source of truth, and the claim in
services.execute_run makes a message delivered twice run the flow once. The run lifecycle
(runner.services) never imports this module: the web and `runflow --queue` call start_run,
and the task bodies (runner.tasks, runner.celery_tasks) call the lifecycle.
"""

from django.conf import settings
from django.db import transaction

from runner import services
from runner.models import Run
from runner.tasks import execute_run_task


def start_run(flow, **kwargs) -> Run:
    """Create a queued run and hand it to the queue; a worker executes it, never the caller."""
    return services.create_run(flow, **kwargs, on_created=hand_over)


def hand_over(run: Run) -> None:
    """Give a run being created to the queue (the `on_created` of services.create_run)."""
    if settings.WORKFLOW_QUEUE == "db":
        # Same database, same transaction: the run and its task row commit together.
        enqueue_run(run.pk)
    else:
        transaction.on_commit(lambda: _enqueue_or_fail(run.pk))


def _enqueue_or_fail(run_id: int) -> None:
    try:
        enqueue_run(run_id)
    except Exception as err:
        services.fail_unqueued(run_id, f"could not queue the run: {err}")
        raise services.CannotStart(f"could not queue the run: {err}") from err


def enqueue_run(run_id: int) -> None:
    if settings.WORKFLOW_QUEUE == "celery":
        # Lazy: Celery is an optional dependency (requirements-celery.txt), needed only
        # with WORKFLOW_QUEUE=celery; importing it here would make it a requirement.
        from runner import celery_tasks

        celery_tasks.execute_run.delay(run_id)
    else:
        execute_run_task.enqueue(run_id)
