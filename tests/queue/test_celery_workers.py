"""Runs executed by real Celery workers on the Redis broker (WORKFLOW_QUEUE=celery)."""

import sys
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from runner import dispatch
from runner.models import Run
from tests.factories import EXAMPLE, make_flow
from tests.processes import assert_each_ran_exactly_once, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_queue(settings):
    from workflow_site.celery import app

    broker = django_settings.CELERY_BROKER_URL
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
    except redis.RedisError as err:
        pytest.fail(f"Redis broker at {broker} is not reachable: {err}")
    queue_name = f"workflow-test-{uuid.uuid4().hex[:8]}"  # isolates this test's messages
    settings.WORKFLOW_QUEUE = "celery"
    app.conf.task_default_queue = queue_name
    yield {"WORKFLOW_QUEUE": "celery", "CELERY_TASK_DEFAULT_QUEUE": queue_name, "CELERY_BROKER_URL": broker}
    app.conf.task_default_queue = django_settings.CELERY_TASK_DEFAULT_QUEUE


def start_celery_workers(workers, env: dict, count: int):
    command = [sys.executable, "-m", "celery", "-A", "workflow_site", "worker", "--pool", "solo"]
    for n in range(count):
        workers.start([*command, "-n", f"w{n}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip"], **env)


def test_queued_runs_are_each_executed_exactly_once_by_two_celery_workers(workers, celery_queue):
    count = 200 if connection.vendor == "mysql" else 40
    flow = make_flow("example", *EXAMPLE)
    run_ids = [dispatch.start_run(flow, input={}, trigger="test", triggered_by="t").pk for _ in range(count)]

    start_celery_workers(workers, celery_queue, 2)

    wait_until(
        lambda: Run.objects.filter(pk__in=run_ids, status__in=Run.FINISHED).count() == count,
        timeout=240,
        message=lambda: f"{count} runs to finish; workers said:\n{workers.output()[-3000:]}",
    )
    assert_each_ran_exactly_once(run_ids, steps=2)
    assert Run.objects.filter(pk__in=run_ids).values("worker").distinct().count() == 2
