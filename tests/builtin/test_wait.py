"""wait.Wait.sleep: waits, bounded, and a cancelled run stops waiting at once."""

import threading
import time

import pytest
from django.db import connection

from builtin._checks import ParamError
from builtin.wait.Wait import Wait
from runner import services
from runner.models import Run, RunStep
from tests.factories import make_flow, step
from tests.processes import wait_until


def test_it_waits_the_seconds_asked(logger):
    began = time.monotonic()

    answer = Wait(logger).sleep({}, {"seconds": 0.2})

    assert 0.2 <= time.monotonic() - began < 1
    assert 0.2 <= answer["waited"] < 1


def test_zero_seconds_is_no_wait(logger):
    assert Wait(logger).sleep({}, {"seconds": 0})["waited"] < 0.1


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (None, "param seconds is required: a number"),
        (-1, "param seconds must be between 0 and 60, not -1"),
        (61, "param seconds must be between 0 and 60, not 61"),
        ("5", "param seconds must be a number, not a string"),
        (True, "param seconds must be a number, not a boolean"),
    ],
)
def test_a_wait_outside_the_bounds_is_refused(logger, settings, seconds, message):
    settings.WORKFLOW_WAIT_MAX_SECONDS = 60

    with pytest.raises(ParamError, match=message):
        Wait(logger).sleep({}, {"seconds": seconds})


@pytest.mark.django_db(transaction=True)
def test_a_cancel_ends_the_wait_at_once(execute):
    flow = make_flow("waits", step("pause", "sleep", "wait.Wait", seconds=60), step("after", msg="never"))
    cancelled_at = []

    def cancel_when_waiting():
        try:
            wait_until(lambda: RunStep.objects.filter(name="pause", status="running").exists(), timeout=30)
            cancelled_at.append(time.monotonic())
            services.request_cancel(Run.objects.get().pk)
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_when_waiting)
    canceller.start()
    run = execute(flow)
    canceller.join()

    # The parent reads the request within 0.5 s and tells the child, whose wait returns then:
    # well within the grace period (5 s) after which the step would be stopped by force.
    assert time.monotonic() - cancelled_at[0] < 2.5
    assert "run cancelled while waiting" in run.error
    assert not run.steps.filter(name="after").exists()


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_wait_ends_the_step_and_the_run_cancelled(execute):
    flow = make_flow("waits", step("pause", "sleep", "wait.Wait", seconds=60))

    def cancel_when_waiting():
        try:
            wait_until(lambda: RunStep.objects.filter(name="pause", status="running").exists(), timeout=30)
            services.request_cancel(Run.objects.get().pk)
        finally:
            connection.close()

    canceller = threading.Thread(target=cancel_when_waiting)
    canceller.start()
    run = execute(flow)
    canceller.join()

    assert run.status == "cancelled"
    assert [(s.name, s.status) for s in run.steps.all()] == [("pause", "cancelled")]
