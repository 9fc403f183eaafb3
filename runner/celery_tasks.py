"""The same run tasks for Celery (WORKFLOW_QUEUE=celery); the watch is scheduled as in runner.tasks."""

from django.conf import settings

from runner import services
from runner.models import Run
from workflow_site.celery import app


@app.task(name="runner.execute_run", ignore_result=True)
def execute_run(run_id: int) -> str:
    return services.execute_run_task(
        run_id, on_claimed=lambda: watch_run.apply_async((run_id,), countdown=services.watch_delay())
    )


@app.task(name="runner.watch_run", ignore_result=True)
def watch_run(run_id: int) -> str:
    status = services.watch_run(run_id)
    if status == Run.Status.RUNNING:
        watch_run.apply_async((run_id,), countdown=settings.WORKFLOW_WORKER_LOST_SECONDS)
    return status
