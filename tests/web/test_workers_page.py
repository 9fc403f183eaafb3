"""/workers/ and the banners: who is there, and a warning when queued runs or enabled
schedules have nobody to take them."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from runner import liveness
from runner.models import WorkerProcess
from schedules import editing
from tests.factories import make_run

pytestmark = pytest.mark.django_db


def seen(kind: str, seconds_ago: float = 0, pid: int = 4242, **fields) -> WorkerProcess:
    when = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerProcess.objects.create(
        host="box", pid=pid, kind=kind, started_at=when, last_seen=when, **fields
    )


# The page


def test_the_page_lists_each_process_with_its_current_run(client):
    run = make_run(status="running")
    seen("db_worker", pid=11, queue="default", current_run_id=run.pk)
    seen("scheduler", pid=12)

    response = client.get("/workers/")

    assertContains(response, 'data-kind="db_worker"')
    assertContains(response, f'<a href="/runs/{run.pk}/">run {run.pk}</a>', html=True)
    assertContains(response, "<td>12</td>", html=True)
    assertContains(response, "idle")
    assertNotContains(response, "data-stale")


def test_a_process_not_seen_for_30_seconds_is_marked_stale(client):
    row = seen("db_worker", seconds_ago=31)

    response = client.get("/workers/")

    assertContains(response, f'id="worker-{row.pk}" data-kind="db_worker" class="stale" data-stale')
    assertContains(response, ">stale</span>")


def test_with_no_process_the_page_says_how_to_start_one(client):
    response = client.get("/workers/")

    assertContains(response, 'id="no-workers"')
    assertContains(response, "python manage.py db_worker")


def test_the_navigation_links_to_the_page(client):
    assertContains(client.get("/runs/"), '<a href="/workers/">Workers</a>', html=True)


# Stamping and removing rows


def test_a_beat_creates_the_row_and_the_next_updates_it(db):
    started = timezone.now()

    liveness.beat("db_worker", "default", started_at=started)
    first = WorkerProcess.objects.get()
    liveness.beat("db_worker", "default", started_at=started, current_run_id=7)

    row = WorkerProcess.objects.get()
    assert (row.pk, row.host, row.pid, row.started_at) == (first.pk, liveness.HOST, os.getpid(), started)
    assert row.current_run_id == 7
    assert row.last_seen >= first.last_seen


def test_the_current_run_is_known_only_while_the_task_body_runs(db):
    with liveness.running(41):
        assert liveness._current_run == 41
    assert liveness._current_run is None


def test_rows_silent_for_an_hour_are_removed(db):
    seen("db_worker", seconds_ago=3601, pid=1)
    kept = seen("celery", seconds_ago=3500, pid=2)

    assert liveness.remove_stale() == 1
    assert list(WorkerProcess.objects.values_list("pk", flat=True)) == [kept.pk]


def test_a_stopping_process_removes_its_own_row(db):
    liveness.beat("scheduler", started_at=timezone.now())
    seen("scheduler", pid=os.getpid() + 1)

    liveness.forget("scheduler")

    assert list(WorkerProcess.objects.values_list("pid", flat=True)) == [os.getpid() + 1]


# The banner


def test_the_overview_warns_when_runs_are_queued_and_no_worker_is_alive(client):
    make_run(status="queued")

    response = client.get("/")

    assertContains(response, 'id="no-worker"')
    assertContains(response, "No worker is running: queued runs will wait.")
    assertContains(response, "python manage.py db_worker")


def test_the_banner_names_the_celery_command_with_the_celery_queue(client, settings):
    settings.WORKFLOW_QUEUE = "celery"
    make_run(status="queued")

    assertContains(client.get("/"), "celery -A workflow_site worker")


@pytest.mark.parametrize("seconds_ago", [0, 29])
def test_no_warning_while_a_worker_was_seen_within_30_seconds(client, seconds_ago):
    make_run(status="queued")
    seen("db_worker", seconds_ago=seconds_ago)

    assertNotContains(client.get("/"), 'id="no-worker"')


def test_no_warning_when_nothing_is_queued(client):
    make_run(status="running")

    assertNotContains(client.get("/"), 'id="no-worker"')


def test_the_overview_warns_when_schedules_are_enabled_and_no_scheduler_is_alive(client, flow):
    editing.create(flow, cron_text="@daily", tz_name="UTC")

    response = client.get("/")

    assertContains(response, 'id="no-scheduler"')
    assertContains(response, "python manage.py scheduler")


def test_no_scheduler_warning_while_one_is_alive(client, flow):
    editing.create(flow, cron_text="@daily", tz_name="UTC")
    seen("scheduler")

    assertNotContains(client.get("/"), 'id="no-scheduler"')


def test_the_overview_refresh_brings_the_banner_out_of_band(client):
    make_run(status="queued")

    response = client.get("/?live=1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="overview-live")

    assertContains(response, 'id="liveness-warning" role="status" hx-swap-oob="true"')
    assertContains(response, 'id="no-worker"')


def test_a_queued_run_page_and_its_status_poll_show_the_warning(client):
    run = make_run(status="queued")

    assertContains(client.get(f"/runs/{run.pk}/"), 'id="no-worker"')
    assertContains(client.get(f"/runs/{run.pk}/status/"), 'id="no-worker"')


def test_a_running_run_page_shows_no_warning(client):
    make_run(status="queued")
    running = make_run(status="running")

    assertNotContains(client.get(f"/runs/{running.pk}/"), 'id="liveness-warning"')


def test_the_banner_state_is_one_query(db, django_assert_num_queries):
    make_run(status="queued")

    with django_assert_num_queries(1):
        warnings = liveness.warnings()

    assert warnings == liveness.Warnings(no_worker=True, no_scheduler=False)
