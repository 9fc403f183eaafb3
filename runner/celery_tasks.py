"""The same run tasks for Celery (WORKFLOW_QUEUE=celery); the watch is scheduled as in runner.tasks."""

from celery import signals
from django.conf import settings

from runner import liveness, services
from runner.models import Run
from workflow_site.celery import app


@app.task(name="runner.execute_run", ignore_result=True)
def execute_run(run_id: int) -> str:
    with liveness.running(run_id):
        return services.execute_run_task(
            run_id, on_claimed=lambda: watch_run.apply_async((run_id,), countdown=services.watch_delay())
        )


@app.task(name="runner.watch_run", ignore_result=True)
def watch_run(run_id: int) -> str:
    status = services.watch_run(run_id)
    if status == Run.Status.RUNNING:
        watch_run.apply_async((run_id,), countdown=settings.WORKFLOW_WORKER_LOST_SECONDS)
    return status


# Each process that executes tasks beats: the worker itself with the solo and threads pools,
# each child with the prefork pool (the parent runs no task, so it has no current run).
_beater: liveness.Beater | None = None


def _start_beating(**_signal) -> None:
    global _beater
    if _beater is None:
        _beater = liveness.Beater(liveness.Kind.CELERY, settings.CELERY_TASK_DEFAULT_QUEUE).start()


def _stop_beating(**_signal) -> None:
    global _beater
    if _beater is not None:
        _beater.stop()
        _beater = None


@signals.worker_ready.connect
def _worker_ready(sender=None, **_signal) -> None:
    # The solo and prefork pools said worker_process_init already; the threads pool does not.
    if not _is_prefork(getattr(sender, "controller", None)):
        _start_beating()


def _is_prefork(controller) -> bool:
    pool = getattr(controller, "pool_cls", None)
    name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    return "prefork" in str(name)


signals.worker_process_init.connect(_start_beating)
signals.worker_process_shutdown.connect(_stop_beating)
signals.worker_shutdown.connect(_stop_beating)
