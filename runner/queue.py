"""Handing runs to the configured queue: Django tasks on the database, or Celery.

Both only carry a run id; the run record is the source of truth, and the claim in
services.execute_run makes a message delivered twice run the flow once.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def _celery() -> bool:
    return settings.WORKFLOW_QUEUE == "celery"


def enqueue_run(run_id: int) -> None:
    if _celery():
        from runner.celery_tasks import execute_run

        execute_run.delay(run_id)
    else:
        from runner.tasks import execute_run_task

        execute_run_task.enqueue(run_id)


def schedule_watch(run_id: int, delay: float) -> None:
    """Ask a worker to check on the run after delay seconds (worker-lost detection)."""
    if _celery():
        from runner.celery_tasks import watch_run

        watch_run.apply_async((run_id,), countdown=delay)
    else:
        from runner.tasks import watch_run_task

        watch_run_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(run_id)
