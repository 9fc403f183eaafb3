"""The screenshots in docs/screenshots/, taken on demand:

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_screenshots.py

Realistic data first: a few flows, runs that succeed and fail executed by a real worker
(so timelines, results and log lines are genuine), and log lines of every level.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from flows.models import Flow, SysLog
from runner import dispatch
from runner.models import Run, RunStep
from schedules import editing
from tests.browser.conftest import log_in
from tests.factories import EXAMPLE, make_flow, step
from tests.processes import ROOT

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("SCREENSHOTS") != "1", reason="screenshots are taken on demand: SCREENSHOTS=1"
    ),
]

OUT = Path(ROOT) / "docs" / "screenshots"
MOBILE = {"width": 390, "height": 844}


def fill(name: str, template: str, **values: str) -> dict:
    return step(name, "fill", "common.Text", template=template, values=values)


def seed_flows() -> dict[str, Flow]:
    flows = [
        make_flow(
            "nightly-report",
            step("extract", "sleep", "Testing", seconds=0.4),
            fill("summarize", "Nightly report for $day", day="@_input.day"),
            step("publish", msg="@summarize.text"),
            step("notify", "echo", "Testing", to="ops@example.com", subject="@summarize.text"),
        ),
        make_flow(
            "sync-customers",
            step("fetch", msg="@_input.customer"),
            step("upsert", "sleep", "Testing", seconds=0.2),
            step("report", msg="@fetch.msg"),
        ),
        make_flow(
            "import-orders",
            step("download", "sleep", "Testing", seconds=0.3),
            step("parse", "boom", "Testing", why="orders-2024-06.csv line 41: expected 7 columns, got 6"),
            step("store", msg="@parse.rows"),
        ),
        make_flow("example", *EXAMPLE),
        make_flow("cleanup-temp", step("sweep", msg="/var/tmp/workflow")),
    ]
    Flow.objects.filter(flow_name="cleanup-temp").update(enabled=False)
    return {flow.flow_name: flow for flow in flows}


def log(message: str, level: str = "INFO", logger: str = "workflow.worker") -> None:
    SysLog.objects.create(created_at=timezone.now(), level=level, logger_name=logger, message=message)


def seed_runs(flows: dict[str, Flow], workers) -> None:
    log("worker web-1:4121 started on queue default")
    log("polling the queue every 1.0 s", "DEBUG", "workflow.queue")
    inputs = [
        ("example", {}),
        ("nightly-report", {"day": "Monday"}),
        ("sync-customers", {"customer": "acme"}),
        ("import-orders", {}),
        ("nightly-report", {"day": "Tuesday"}),
        ("sync-customers", {}),
        ("nightly-report", {"day": "Wednesday"}),
        ("sync-customers", {"customer": "globex"}),
        ("import-orders", {"retry": True}),
        ("nightly-report", {}),
        ("sync-customers", {"customer": "initech"}),
        ("example", {}),
        ("nightly-report", {"day": "Thursday"}),
    ]
    for name, run_input in inputs:
        dispatch.start_run(flows[name], input=run_input, trigger="web", triggered_by="operator")
    [worker] = workers.db(1, "--batch")
    assert worker.wait(timeout=120) == 0, workers.output()
    log("run 9 heartbeat 6.2 s late: the worker was busy", "WARNING", "workflow.heartbeat")
    log(
        "could not reach smtp.example.com:587 to send the nightly report (attempt 3 of 3)\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/workflow/mod/mail/Smtp.py", line 42, in send\n'
        "    server = smtplib.SMTP(self.host, self.port, timeout=10)\n"
        "ConnectionRefusedError: [Errno 111] Connection refused",
        "ERROR",
        "workflow.mail",
    )
    log("worker web-1:4121 idle: queue empty")


def spread_over_the_day(minutes_apart: int = 47) -> None:
    """The worker ran everything within seconds: move each run, its steps and its log lines
    back in time so the history reads like a working day. A log line takes the shift of its
    run, or of the run before it, so times still grow with ids in the log viewer."""
    runs = list(Run.objects.order_by("id"))
    shifts = {run.pk: timedelta(minutes=minutes_apart * (len(runs) - 1 - i)) for i, run in enumerate(runs)}
    for run_id, shift in shifts.items():
        Run.objects.filter(pk=run_id).update(
            created_at=F("created_at") - shift,
            started_at=F("started_at") - shift,
            finished_at=F("finished_at") - shift,
        )
        RunStep.objects.filter(run_id=run_id).update(started_at=F("started_at") - shift)
    shift = shifts[runs[0].pk] + timedelta(minutes=minutes_apart)
    for line in SysLog.objects.order_by("id"):
        run_id = line.logger_name.removeprefix("workflow.run.").split(".")[0]
        shift = shifts.get(int(run_id), shift) if run_id.isdigit() else shift
        SysLog.objects.filter(pk=line.pk).update(created_at=line.created_at - shift)
    now = timezone.now()
    Flow.all_objects.update(created_at=now - timedelta(days=12), updated_at=now - timedelta(days=2))


def shoot(page: Page, name: str, full_page: bool = True) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / name, full_page=full_page)


def test_take_the_documentation_screenshots(page: Page, browser, live_server, operator, workers):
    OUT.mkdir(parents=True, exist_ok=True)
    flows = seed_flows()
    seed_runs(flows, workers)
    spread_over_the_day()
    report_run = Run.objects.filter(flow_name="nightly-report", status="succeeded").latest("id")
    report = flows["nightly-report"]
    editing.create(report, cron_text="30 2 * * *", tz_name="Europe/Berlin", note="after the ETL")
    editing.create(report, cron_text="@hourly", tz_name="UTC", catch_up="once")

    page.goto(f"{live_server.url}/admin/login/?next=/")
    shoot(page, "login.png", full_page=False)
    log_in(page.context, live_server, operator)

    page.goto(live_server.url + "/")
    shoot(page, "overview.png")

    page.goto(f"{live_server.url}/flows/nightly-report/")
    editor = page.locator("#flow-json")
    editor.fill(editor.input_value().replace("@summarize.text", "@sumarize.text", 1))
    expect(page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF]")).to_be_visible()
    shoot(page, "editor-diagnostic.png")

    page.goto(f"{live_server.url}/runs/{report_run.pk}/")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded")
    shoot(page, "run-succeeded.png")

    page.goto(f"{live_server.url}/logs/")
    shoot(page, "logs.png", full_page=False)

    page.goto(f"{live_server.url}/schedules/")
    shoot(page, "schedules.png")

    page.goto(f"{live_server.url}/flows/nightly-report/#schedules")
    page.locator("#schedules").scroll_into_view_if_needed()
    shoot(page, "flow-schedules.png", full_page=False)

    with browser.new_context(
        viewport=MOBILE, is_mobile=True, has_touch=True, timezone_id="Europe/Paris"
    ) as phone:
        log_in(phone, live_server, operator)
        mobile = phone.new_page()
        mobile.goto(live_server.url + "/")
        shoot(mobile, "overview-mobile.png")
        mobile.goto(f"{live_server.url}/runs/{report_run.pk}/")
        shoot(mobile, "run-succeeded-mobile.png")
