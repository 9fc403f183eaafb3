"""The worker's queries per run: a fixed base plus a fixed number per step, pinned so that a
change adding a query to every step shows here. Only this thread's default connection is
counted: the log writer and the heartbeat have connections of their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runner import services
from runner.log import shutdown_logging
from runner.models import Run
from tests.factories import make_flow, step

pytestmark = pytest.mark.django_db(transaction=True)

# Claim (UPDATE), read the run, newest wf_syslog id, "is the flow still runnable", then after
# the steps the run's first and last log ids and the outcome (UPDATE).
BASE_QUERIES = 7
# The step's row (INSERT) and its outcome (UPDATE). The cancel request is read by the
# supervisor every 0.5 s, not per step: none in a run this short.
QUERIES_PER_STEP = 2


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
def test_a_run_takes_a_fixed_base_and_a_fixed_number_of_queries_per_step(steps):
    queries = queries_of_a_run(steps)

    assert len(queries) == BASE_QUERIES + QUERIES_PER_STEP * steps, "\n".join(queries)
