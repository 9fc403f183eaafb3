"""A run as one JSON object: what `runflow --json` prints and the HTTP API answers."""

from runner.models import Run


def run_outcome(run: Run) -> dict:
    """`runflow --json`'s object: run_id, flow, status, context, error, failed_step, steps."""
    return {
        "run_id": run.pk,
        "flow": run.flow_name,
        "status": run.status,
        "context": run.context,
        "error": run.error or None,
        "failed_step": run.failed_step or None,
        "steps": run_steps(run),
    }


def run_document(run: Run) -> dict:
    """The API's run: run_outcome plus who started it, how, and when."""
    return run_outcome(run) | {
        "input": run.input,
        "trigger": run.trigger,
        "triggered_by": run.triggered_by,
        "resumed_from": run.resumed_from_id,
        "parent_run": run.parent_run_id,
        "subflow_runs": list(
            Run.objects.filter(parent_run_id=run.pk).order_by("pk").values_list("pk", flat=True)
        ),
        "schedule_id": run.schedule_id,
        "created_at": _iso(run.created_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration": run.duration,
    }


def run_steps(run: Run) -> list[dict]:
    """Each step's status, its attempts, and the duration and error of its last attempt."""
    return [
        {
            "name": step.name,
            "status": step.status,
            "attempts": step.attempts,
            "duration": step.duration,
            "error": step.error or None,
        }
        for step in run.steps.all()  # RunStep orders by (run, index); .all() uses a prefetch
    ]


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None
