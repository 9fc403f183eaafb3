"""The same run tasks for Celery (WORKFLOW_QUEUE=celery)."""

from runner import services
from workflow_site.celery import app


@app.task(name="runner.execute_run", ignore_result=True)
def execute_run(run_id: int) -> str:
    return services.execute_run_task(run_id)


@app.task(name="runner.watch_run", ignore_result=True)
def watch_run(run_id: int) -> str:
    return services.watch_run(run_id)
