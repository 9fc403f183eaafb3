"""The run tasks for Django's task framework (the default, database-backed queue)."""

from django.tasks import task

from runner import services


@task
def execute_run_task(run_id: int) -> str:
    return services.execute_run_task(run_id)


@task
def watch_run_task(run_id: int) -> str:
    return services.watch_run(run_id)
