"""/health: JSON for load balancers, no login, 503 with the reasons when something is wrong."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from runner import liveness
from runner.models import Run, WorkerProcess
from schedules import editing
from tests.factories import make_run
from tests.processes import run_manage

pytestmark = pytest.mark.django_db


def get_health():
    return Client().get("/health")


def seen(kind: str, seconds_ago: float = 0, pid: int = 4242) -> WorkerProcess:
    when = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerProcess.objects.create(host="box", pid=pid, kind=kind, started_at=when, last_seen=when)


def test_it_is_200_without_login_when_nothing_waits(db):
    response = get_health()

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": True,
        "workers_alive": {"db_worker": 0, "celery": 0},
        "scheduler_alive": False,
        "oldest_queued_run_age_seconds": None,
        "reasons": [],
    }


def test_it_is_503_when_runs_are_queued_and_no_worker_was_seen(db):
    make_run(status="queued")

    response = get_health()

    assert response.status_code == 503
    assert response.json()["reasons"] == ["runs are queued and no db_worker has been seen for 30 s"]
    assert response.json()["oldest_queued_run_age_seconds"] >= 0


def test_a_worker_seen_31_seconds_ago_does_not_count(db):
    make_run(status="queued")
    seen("db_worker", seconds_ago=31)

    assert get_health().status_code == 503


def test_it_is_200_when_runs_are_queued_and_a_worker_is_alive(db):
    make_run(status="queued")
    seen("db_worker", seconds_ago=5)

    response = get_health()

    assert response.status_code == 200
    assert response.json()["workers_alive"] == {"db_worker": 1, "celery": 0}


def test_a_celery_worker_is_the_one_that_counts_with_the_celery_queue(settings):
    settings.WORKFLOW_QUEUE = "celery"
    make_run(status="queued")
    seen("db_worker")

    response = get_health()

    assert response.status_code == 503
    assert response.json()["reasons"] == ["runs are queued and no celery has been seen for 30 s"]


def test_the_oldest_queued_run_age_is_reported(db):
    oldest = make_run(status="queued")
    make_run(status="queued")
    Run.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    seen("db_worker")

    age = get_health().json()["oldest_queued_run_age_seconds"]

    assert 299 < age < 330


def test_it_is_503_when_schedules_are_enabled_and_no_scheduler_was_seen(flow):
    editing.create(flow, cron_text="@daily", tz_name="UTC")

    response = get_health()

    assert response.status_code == 503
    assert response.json()["reasons"] == ["schedules are enabled and no scheduler has been seen for 30 s"]


def test_paused_schedules_need_no_scheduler(flow):
    schedule = editing.create(flow, cron_text="@daily", tz_name="UTC")
    type(schedule).objects.filter(pk=schedule.pk).update(enabled=False, next_due=None)

    assert get_health().status_code == 200


def test_it_is_200_with_enabled_schedules_and_a_live_scheduler(flow):
    editing.create(flow, cron_text="@daily", tz_name="UTC")
    seen("scheduler")

    response = get_health()

    assert response.status_code == 200
    assert response.json()["scheduler_alive"] is True


def test_it_only_answers_get(db):
    assert Client().post("/health").status_code == 405


def test_an_unreachable_database_is_a_503_naming_no_secret(monkeypatch, db):
    def refuse(report, now):
        from django.db import OperationalError

        raise OperationalError("(2003, \"Can't connect to MySQL server on 'db.internal' (user root)\")")

    monkeypatch.setattr(liveness, "_measure", refuse)

    response = get_health()

    assert response.status_code == 503
    assert response.json()["database"] is False
    assert response.json()["reasons"] == ["the database is unreachable (OperationalError)"]
    assert b"db.internal" not in response.content and b"root" not in response.content


# A real process whose database is not there: DEBUG off, so it also shows that /health is
# exempt from the HTTPS redirect and that its middleware needs no database.
PROBE = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
health, page = client.get("/health"), client.get("/")
print(health.status_code, health.content.decode())
print("page", page.status_code, page.get("Location"))
"""


def unreachable_database_url(tmp_path) -> str:
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path}/no-such-directory/db.sqlite3"
    return "mysql://root:hunter2@127.0.0.1:1/workflow"  # nothing listens on port 1


def test_a_process_whose_database_is_unreachable_answers_503_over_plain_http(tmp_path):
    url = unreachable_database_url(tmp_path)

    result = run_manage(tmp_path, "shell", "-c", PROBE, DATABASE_URL=url, DEBUG="False", SECRET_KEY="x" * 50)

    health_line, page_line = result.stdout.strip().splitlines()[-2:]
    status, body = health_line.split(" ", 1)
    assert status == "503", result.stdout + result.stderr
    assert json.loads(body)["database"] is False
    assert json.loads(body)["reasons"] == ["the database is unreachable (OperationalError)"]
    assert "hunter2" not in body and "no-such-directory" not in body
    # Every other page still goes to HTTPS.
    assert page_line == "page 301 https://localhost/"
