"""The engine listener that keeps a run's record up to date, step by step."""

from django.utils import timezone

from runner.engine import RunListener
from runner.jsonsafe import storable_result
from runner.models import Run, RunStep


class RunRecorder(RunListener):
    def __init__(self, run: Run) -> None:
        self.run = run
        self.results: dict = {}
        self._step: RunStep | None = None

    def step_started(self, run, step) -> None:
        self._step = RunStep.objects.create(
            run=self.run, index=step.index, name=step.name, started_at=timezone.now()
        )

    def step_finished(self, run, step, result, duration) -> None:
        self.results[step.name] = storable_result(result)
        self._end_step(RunStep.Status.SUCCEEDED, duration, "")

    def step_failed(self, run, step, error, duration) -> None:
        self._end_step(RunStep.Status.FAILED, duration, str(error))

    def _end_step(self, status: str, duration: float, error: str) -> None:
        step, self._step = self._step, None
        if step is not None:
            step.status, step.duration, step.error = status, duration, error
            step.save(update_fields=["status", "duration", "error"])

    def should_cancel(self) -> bool:
        # Asked by the engine before each step: one primary-key read, so a cancel request
        # stops the run exactly before its next step.
        return Run.objects.filter(pk=self.run.pk, cancel_requested=True).exists()
