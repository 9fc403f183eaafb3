"""A recorded run's step rows are written in batches: its queries do not grow with its steps,
and the run page still sees each step within a second (a running one too)."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import services
from runner.log import shutdown_logging
from runner.models import Run, RunStep
from tests.factories import make_flow, step
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _log_file(settings, tmp_path):
    settings.WORKFLOW_LOG_FILE = str(tmp_path / "workflow.log")
    yield
    shutdown_logging()


def queries_of_a_run(steps: int) -> int:
    # Each step takes the previous step's msg, as a real flow passes data along.
    chain = [step("s0", msg="hello"), *(step(f"s{i}", msg=f"@s{i - 1}.msg") for i in range(1, steps))]
    flow = make_flow(f"chain{steps}", *chain)
    run = services.create_run(flow, input={}, trigger="test", triggered_by="t")

    with CaptureQueriesContext(connection) as captured:
        finished = services.execute_run(run.pk)

    assert finished.status == Run.Status.SUCCEEDED
    assert RunStep.objects.filter(run=finished, status=RunStep.Status.SUCCEEDED).count() == steps
    return len(captured.captured_queries)


def test_the_queries_of_a_recorded_run_do_not_grow_with_its_steps():
    # A few more for the longer run at most: a batch of rows every half second (and an
    # INSERT per 500 rows), a cancel poll every half second, on a slow machine.
    assert queries_of_a_run(200) - queries_of_a_run(10) <= 4


def rows_of(run_id: int) -> list[tuple[str, str]]:
    return list(RunStep.objects.filter(run_id=run_id).order_by("index").values_list("name", "status"))


def test_a_running_step_gets_its_row_within_a_second_and_its_outcome_at_the_end(tmp_path):
    release = tmp_path / "release"
    hold = step("hold", "wait_for_file", "Testing", path=str(release), timeout=60)
    run = services.create_run(
        make_flow("held", step("first", msg="hi"), hold), input={}, trigger="test", triggered_by="t"
    )
    worker = threading.Thread(target=services.execute_run, args=(run.pk,))
    started = time.monotonic()
    worker.start()
    try:
        # The rows are due 0.5 s after the step starts; the bound leaves room for a busy machine.
        wait_until(lambda: len(rows_of(run.pk)) == 2, 30, "the running step's row")
        assert time.monotonic() - started < 2
        assert rows_of(run.pk) == [("first", "succeeded"), ("hold", "running")]
    finally:
        release.touch()
        worker.join(60)
    assert rows_of(run.pk) == [("first", "succeeded"), ("hold", "succeeded")]
