"""GET /runs/{id}?wait=N: the answer comes when the run ends or after N seconds, and the
request holds no database connection while it waits. The clock is the test's: no test sleeps."""

import threading

import pytest
from django.db import connection

from api import views
from runner.models import Run
from tests.api.helpers import send
from tests.factories import make_run

pytestmark = pytest.mark.django_db


class FakeClock:
    """time.monotonic and time.sleep for api.views: sleeping moves the clock, instantly."""

    def __init__(self, on_sleep=None) -> None:
        self.now, self.naps, self.on_sleep = 1000.0, [], on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(self)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(views, "clock", fake.monotonic)
    monkeypatch.setattr(views, "sleep", fake.sleep)
    return fake


def test_a_run_that_has_ended_is_answered_at_once(api, example, clock):
    run = make_run(status="succeeded")

    response = send(api, "GET", f"/runs/{run.pk}?wait=30")

    assert response.json()["status"] == "succeeded"
    assert clock.naps == []


def test_a_queued_run_is_answered_as_it_is_after_the_wait(api, example, clock):
    run = make_run(status="queued")

    response = send(api, "GET", f"/runs/{run.pk}?wait=1")

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert sum(clock.naps) == pytest.approx(1.0)


def test_the_polls_start_at_a_quarter_second_and_grow_to_one_second(api, example, clock):
    run = make_run(status="running")

    send(api, "GET", f"/runs/{run.pk}?wait=5")

    assert clock.naps == [0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 0.25]


def test_without_wait_a_running_run_is_answered_at_once(api, example, clock):
    run = make_run(status="running")

    assert send(api, "GET", f"/runs/{run.pk}").json()["status"] == "running"
    assert clock.naps == []


def test_a_wait_over_the_maximum_is_refused(api, example, settings):
    run = make_run(status="queued")

    response = send(api, "GET", f"/runs/{run.pk}?wait={settings.WORKFLOW_API_MAX_WAIT_SECONDS + 1}")

    assert response.status_code == 422


@pytest.mark.django_db(transaction=True)
def test_a_run_that_ends_while_waiting_is_answered_when_it_ends(api, example, monkeypatch):
    run = make_run(status="running")
    connection_while_waiting = []

    def finish_in_another_thread(clock: FakeClock) -> None:
        connection_while_waiting.append(connection.connection)
        if len(clock.naps) == 2:
            worker = threading.Thread(target=finish, args=(run.pk,))
            worker.start()
            worker.join()

    fake = FakeClock(on_sleep=finish_in_another_thread)
    monkeypatch.setattr(views, "clock", fake.monotonic)
    monkeypatch.setattr(views, "sleep", fake.sleep)

    response = send(api, "GET", f"/runs/{run.pk}?wait=30")

    assert response.json()["status"] == "succeeded"
    assert fake.naps == [0.25, 0.5]
    # Between two reads the request had closed its database connection.
    assert connection_while_waiting == [None, None]


def finish(run_id: int) -> None:
    try:
        Run.objects.filter(pk=run_id).update(status=Run.Status.SUCCEEDED)
    finally:
        connection.close()
