"""The database drops a worker's connections (a server restart, wait_timeout, a network
blip): the run's outcome still lands, cancel still works, and the worker goes on."""

import contextlib

import pytest
from django.db import connection

from flows.models import SysLog
from runner import services
from runner.models import Run, RunStep
from tests.factories import make_flow, step
from tests.hostile.conftest import Survival
from tests.hostile.proxy import DatabaseRelay
from tests.processes import wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "connection.vendor != 'mysql'", reason="needs a server whose connections can be killed"
    ),
]


def kill_other_connections() -> int:
    """KILL every connection to the test database but this one: what a restart does to them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        )
        ids = [row[0] for row in cursor.fetchall()]
        for pk in ids:
            with contextlib.suppress(Exception):  # it may have ended by itself meanwhile
                cursor.execute(f"KILL CONNECTION {int(pk)}")
    return len(ids)


def held_flow(tmp_path):
    release = tmp_path / "release"
    flow = make_flow(
        "held",
        step("hold", "wait_for_file", "Testing", path=str(release)),
        step("after", "echo", "Testing", said="after"),
    )
    return flow, release


def wait_for_step(run_id: int, name: str) -> None:
    wait_until(lambda: RunStep.objects.filter(run_id=run_id, name=name).exists(), message=f"step {name}")


def test_a_run_whose_connections_are_killed_mid_step_records_its_outcome(survival, tmp_path):
    flow, release = held_flow(tmp_path)
    run_id = survival.start(flow)
    wait_for_step(run_id, "hold")

    assert kill_other_connections() > 0
    release.touch()

    run = survival.finished(run_id)
    assert run.status == "succeeded", run.error
    assert [(s.name, s.status) for s in run.steps.all()] == [("hold", "succeeded"), ("after", "succeeded")]
    assert run.context["after"] == {"said": "after"}
    survival.assert_worker_goes_on()


def test_a_cancel_requested_after_the_connections_were_killed_stops_the_run(survival, tmp_path):
    flow, release = held_flow(tmp_path)
    run_id = survival.start(flow)
    wait_for_step(run_id, "hold")

    kill_other_connections()
    services.request_cancel(run_id)
    # The worker reads the request every 0.5 s (reconnecting first) and says so in the run's log.
    seen = SysLog.objects.of_logger_tree(f"workflow.run.{run_id}").filter(
        message__startswith="cancel requested"
    )
    wait_until(seen.exists, message="the worker seeing the cancel request")
    release.touch()

    run = survival.finished(run_id)
    assert run.status == "cancelled"
    assert [s.name for s in run.steps.all()] == ["hold"]
    survival.assert_worker_goes_on()


def test_an_idle_worker_whose_connections_are_killed_goes_on_with_the_next_run(survival):
    survival.assert_worker_goes_on()  # the worker has connected and is polling

    kill_other_connections()

    survival.assert_worker_goes_on()


def test_the_run_record_survives_a_kill_at_every_step(survival, tmp_path):
    release = tmp_path / "release"
    steps = [step(f"s{i}", "wait_for_file", "Testing", path=f"{release}{i}") for i in range(3)]
    run_id = survival.start(make_flow("thrice", *steps))
    for i in range(3):
        wait_for_step(run_id, f"s{i}")
        kill_other_connections()
        (tmp_path / f"release{i}").touch()

    run = survival.finished(run_id)
    assert run.status == "succeeded", run.error
    assert [s.status for s in run.steps.all()] == ["succeeded"] * 3
    assert Run.objects.get(pk=run_id).finished_at is not None


@pytest.fixture
def relay():
    db = connection.settings_dict
    relay = DatabaseRelay((db["HOST"] or "127.0.0.1", int(db["PORT"] or 3306)))
    yield relay
    relay.close()


@pytest.fixture
def survival_through_relay(workers, relay):
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    url = f"mysql://{auth}@127.0.0.1:{relay.port}/{db['NAME']}"
    return Survival(workers, DATABASE_URL=url)


def test_a_run_that_ends_while_the_database_is_down_is_recorded_when_it_returns(
    survival_through_relay, relay, tmp_path
):
    survival = survival_through_relay
    flow, release = held_flow(tmp_path)
    run_id = survival.start(flow)
    wait_for_step(run_id, "hold")

    relay.down()
    release.touch()
    wait_until(lambda: relay.refused >= 3, message="the worker trying to reconnect")
    relay.up()

    run = survival.finished(run_id)
    assert run.status == "succeeded", run.error
    assert [(s.name, s.status) for s in run.steps.all()] == [("hold", "succeeded"), ("after", "succeeded")]
    assert run.context["after"] == {"said": "after"}
    survival.assert_worker_goes_on()


def test_an_idle_worker_outlives_a_database_outage(survival_through_relay, relay):
    survival = survival_through_relay
    survival.assert_worker_goes_on()

    relay.down()
    wait_until(lambda: relay.refused >= 3, message="the worker polling a database that is down")
    relay.up()

    survival.assert_worker_goes_on()
