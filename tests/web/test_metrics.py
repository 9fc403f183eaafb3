"""/metrics: Prometheus text from the database, behind a bearer token or on this machine only."""

from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from alerts.models import Notification
from runner.models import Run, WorkerProcess
from tests.factories import make_run

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


def scrape(client: Client | None = None, **headers) -> dict:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def samples(family, name: str | None = None) -> dict[tuple, float]:
    return {
        tuple(sorted(s.labels.items())): s.value for s in family.samples if name is None or s.name == name
    }


def finished_run(flow: str, status: str, seconds: float, ago: timedelta = timedelta(0)) -> Run:
    end = timezone.now() - ago
    return make_run(flow, status=status, started_at=end - timedelta(seconds=seconds), finished_at=end)


def test_the_run_counters_match_the_run_table(db):
    for flow, status in [("a", "succeeded"), ("a", "succeeded"), ("a", "failed"), ("b", "cancelled")]:
        make_run(flow, status=status)
    make_run("b", status="queued")
    make_run("b", status="running")

    families = scrape()

    table = Counter(Run.objects.values_list("flow_name", "status"))
    finished = {k: v for k, v in table.items() if k[1] in Run.FINISHED}
    active = {k: v for k, v in table.items() if k[1] not in Run.FINISHED}
    assert families["workflow_runs"].type == "counter"
    assert {
        (dict(k)["flow"], dict(k)["status"]): v for k, v in samples(families["workflow_runs"]).items()
    } == finished
    assert {
        (dict(k)["flow"], dict(k)["status"]): v for k, v in samples(families["workflow_runs_active"]).items()
    } == active


def test_last_success_is_the_newest_successful_finish_of_each_flow(db):
    newest = finished_run("a", "succeeded", 1, ago=timedelta(hours=1))
    finished_run("a", "succeeded", 1, ago=timedelta(hours=3))
    finished_run("a", "failed", 1)

    family = scrape()["workflow_last_success_timestamp_seconds"]

    assert samples(family) == {(("flow", "a"),): pytest.approx(newest.finished_at.timestamp())}


def test_the_duration_histogram_counts_the_last_24_hours_by_flow(db):
    finished_run("a", "succeeded", 3)
    finished_run("a", "failed", 40)
    finished_run("a", "succeeded", 2, ago=timedelta(hours=25))  # outside the window
    finished_run("b", "succeeded", 7000)

    families = scrape()

    buckets = samples(families["workflow_run_duration_seconds"], "workflow_run_duration_seconds_bucket")
    assert buckets[(("flow", "a"), ("le", "1.0"))] == 0
    assert buckets[(("flow", "a"), ("le", "5.0"))] == 1
    assert buckets[(("flow", "a"), ("le", "60.0"))] == 2
    assert buckets[(("flow", "a"), ("le", "+Inf"))] == 2
    assert buckets[(("flow", "b"), ("le", "3600.0"))] == 0
    assert buckets[(("flow", "b"), ("le", "7200.0"))] == 1
    # A gauge histogram (a window, not a counter): its count and sum are _gcount and _gsum.
    assert samples(families["workflow_run_duration_seconds_gcount"])[(("flow", "a"),)] == 2
    assert samples(families["workflow_run_duration_seconds_gsum"])[(("flow", "a"),)] == pytest.approx(43)


def test_queued_runs_and_the_oldest_wait_are_reported(db):
    oldest = make_run(status="queued")
    make_run(status="queued")
    Run.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(seconds=90))

    families = scrape()

    assert samples(families["workflow_queued_runs"]) == {(): 2}
    assert 89 < samples(families["workflow_oldest_queued_run_age_seconds"])[()] < 120


def seen(kind: str, seconds_ago: float, pid: int, dropped: int = 0) -> None:
    when = timezone.now() - timedelta(seconds=seconds_ago)
    WorkerProcess.objects.create(
        host="box", pid=pid, kind=kind, started_at=when, last_seen=when, log_records_dropped=dropped
    )


def test_processes_alive_scheduler_tick_age_and_dropped_log_records(db):
    seen("db_worker", 2, pid=1, dropped=3)
    seen("db_worker", 45, pid=2, dropped=4)  # stale: not alive, but its drops count
    seen("scheduler", 12, pid=3)

    families = scrape()

    alive = samples(families["workflow_processes_alive"])
    assert alive == {(("kind", "db_worker"),): 1, (("kind", "celery"),): 0, (("kind", "scheduler"),): 1}
    assert 11 < samples(families["workflow_scheduler_last_tick_age_seconds"])[()] < 30
    assert samples(families["workflow_log_records_dropped"]) == {(): 7}


def test_without_a_scheduler_there_is_no_tick_age(db):
    assert samples(scrape()["workflow_scheduler_last_tick_age_seconds"]) == {}


def test_notifications_sent_and_failed_are_counted(db):
    for i, status in enumerate(["sent", "sent", "failed", "pending"]):
        Notification.objects.create(
            run_id=1, flow_id=1, event="failed", channel="ops", dedup_key=f"1:failed:{i}", status=status
        )

    families = scrape()

    assert samples(families["workflow_notifications"]) == {
        (("status", "sent"),): 2,
        (("status", "failed"),): 1,
    }
    assert samples(families["workflow_notifications_pending"]) == {(): 1}


def test_a_scrape_takes_a_fixed_number_of_queries(db, django_assert_num_queries):
    for i in range(20):
        finished_run(f"flow-{i}", "succeeded", i)
    make_run(status="queued")

    # runs by flow and status, last successes, the histogram, the queued count and the
    # oldest one's time, the processes, the notifications.
    with django_assert_num_queries(7):
        scrape()


# Who may scrape


def test_without_a_token_this_machine_may_scrape(settings):
    settings.WORKFLOW_METRICS_TOKEN = ""

    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200


def test_without_a_token_another_address_is_refused(settings):
    settings.WORKFLOW_METRICS_TOKEN = ""

    response = Client(REMOTE_ADDR="10.1.2.3").get("/metrics")

    assert response.status_code == 403
    assert b"WORKFLOW_METRICS_TOKEN" in response.content


def test_without_a_token_a_request_forwarded_by_a_local_proxy_is_refused(settings):
    settings.WORKFLOW_METRICS_TOKEN = ""

    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 403


def test_with_a_token_set_a_request_without_it_is_refused_even_from_this_machine(settings):
    settings.WORKFLOW_METRICS_TOKEN = TOKEN

    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_with_a_token_set_a_wrong_token_is_refused(settings):
    settings.WORKFLOW_METRICS_TOKEN = TOKEN

    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")

    assert response.status_code == 401


def test_with_a_token_set_the_right_token_scrapes_from_anywhere(settings):
    settings.WORKFLOW_METRICS_TOKEN = TOKEN

    families = scrape(Client(REMOTE_ADDR="10.1.2.3"), HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert "workflow_queued_runs" in families
