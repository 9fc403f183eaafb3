"""A real db_worker that every hostile run must leave alive and ready for the next run."""

import pytest

from runner import dispatch
from runner.models import Run
from tests.factories import EXAMPLE, make_flow
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


class Survival:
    """Queues runs for one long-lived worker and checks that it goes on after each."""

    def __init__(self, workers, **env: str) -> None:
        self.workers = workers
        [self.process] = workers.db(1, **env)
        self.normal = make_flow("normal", *EXAMPLE)

    def start(self, flow, **input) -> int:
        return dispatch.start_run(flow, input=input, trigger="test", triggered_by="t").pk

    def finished(self, run_id: int, timeout: float = 60) -> Run:
        return wait_until(
            lambda: Run.objects.filter(pk=run_id, status__in=Run.FINISHED).first(),
            timeout,
            lambda: f"run {run_id} to finish; worker output:\n{self.workers.output()}",
        )

    def assert_worker_goes_on(self) -> None:
        """A normal run queued behind the hostile one succeeds, on the same live worker."""
        run = self.finished(self.start(self.normal))
        assert run.status == "succeeded", (run.error, self.workers.output())
        assert self.process.poll() is None, self.workers.output()


@pytest.fixture
def survival(workers):
    return Survival(workers)
