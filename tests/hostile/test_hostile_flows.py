"""Flows that are valid but hostile: each fails (or succeeds) with a clear record, and the
worker goes on to the next run."""

import json

import pytest
from django.db import connection

from tests.factories import flow_from_text, make_flow, step

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flow_whose_results_grow_fourfold_per_step_fails_at_the_result_limit(survival):
    steps = [step("s0", "echo", "Testing", seed="x" * 10)]
    steps += [step(f"s{i}", "echo", "Testing", **{k: f"@s{i - 1}" for k in "abcd"}) for i in range(1, 40)]
    flow = make_flow("fourfold", *steps)

    run = survival.finished(survival.start(flow), timeout=120)

    assert run.status == "failed"
    assert "the limit for one step" in run.error
    survival.assert_worker_goes_on()


def test_a_reference_with_an_index_of_thousands_of_digits_fails_its_step(survival):
    definition = {
        "procedures": [
            {"name": "s1", "mod": "Testing", "method": "echo", "params": {"msg": ["a"]}},
            {"name": "s2", "mod": "Testing", "method": "echo", "params": {"msg": "@s1.msg." + "9" * 5000}},
        ]
    }
    flow = flow_from_text("digits", json.dumps(definition))

    run = survival.finished(survival.start(flow))

    assert (run.status, run.failed_step) == ("failed", "s2")
    survival.assert_worker_goes_on()


@pytest.fixture
def syslog_gone():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wf_syslog RENAME TO wf_syslog_away")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE wf_syslog_away RENAME TO wf_syslog")


def test_runs_succeed_while_the_log_table_is_gone(survival, syslog_gone):
    survival.assert_worker_goes_on()
    survival.assert_worker_goes_on()
