"""The worker's queries per run: a fixed base, the step rows in one batch, pinned so that a
change adding a query to every run or every step shows here. Only this thread's default connection is
counted: the log writer and the heartbeat have connections of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import services
from runner.log import shutdown_logging
from runner.models import Run
from tests.factories import make_flow, step

pytestmark = pytest.mark.django_db(transaction=True)

# Claim (UPDATE), read the run with "is its flow still runnable", newest wf_syslog id, then
# after the steps the run's first and last log ids (one query), the step rows (one INSERT of
# them all: a run this short ends before a batch is due) and the outcome (UPDATE). The cancel
# request is read by the supervisor every 0.5 s, not per step: none in a run this short.
BASE_QUERIES = 6


@pytest.fixture(autouse=True)
def _log_file(settings, tmp_path):
    settings.WORKFLOW_LOG_FILE = str(tmp_path / "workflow.log")
    yield
    shutdown_logging()


def queries_of_a_run(steps: int) -> list[str]:
    flow = make_flow(f"n{steps}", *(step(f"s{i}", msg="hello") for i in range(steps)))
    run = services.create_run(flow, input={}, trigger="test", triggered_by="t")

    with CaptureQueriesContext(connection) as captured:
        finished = services.execute_run(run.pk)

    assert finished.status == Run.Status.SUCCEEDED
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("steps", [1, 3])
def test_a_short_run_takes_a_fixed_number_of_queries_whatever_its_steps(steps):
    queries = queries_of_a_run(steps)

    assert len(queries) == BASE_QUERIES, "\n".join(queries)
