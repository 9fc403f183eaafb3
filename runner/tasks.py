"""The run tasks for Django's task framework (the default, database-backed queue).

Each task body calls the run lifecycle (runner.services). The liveness watch is scheduled
here, by the queue that runs it, so the lifecycle knows nothing of queues.
"""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from runner import liveness, services
from runner.models import Run


@task
def execute_run_task(run_id: int) -> str:
    with liveness.running(run_id):
        return services.execute_run_task(
            run_id, on_claimed=lambda: _schedule_watch(run_id, services.watch_delay())
        )


@task
def watch_run_task(run_id: int) -> str:
    status = services.watch_run(run_id)
    if status == Run.Status.RUNNING:
        _schedule_watch(run_id, settings.WORKFLOW_WORKER_LOST_SECONDS)
    return status


def _schedule_watch(run_id: int, delay: float) -> None:
    watch_run_task.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(run_id)
