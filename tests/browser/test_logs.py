from datetime import UTC, datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from flows.models import SysLog
from tests.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)

TAIL_TIMEOUT = 10_000  # the tail polls every 2 s


def log(message: str, level: str = "INFO", logger: str = "workflow.worker") -> SysLog:
    return SysLog.objects.create(created_at=timezone.now(), level=level, logger_name=logger, message=message)


def test_live_tail_shows_a_new_line_at_the_top_without_reloading(operator_page: Page, live_server):
    page = operator_page
    log("worker started")
    page.goto(f"{live_server.url}/logs/")
    expect(page.locator("#log-lines tr.log-row")).to_have_count(1)

    page.check("#log-filters input[name=tail]")
    page.click("#log-filters button[type=submit]")
    expect(page.locator("#log-tail")).to_be_visible()
    page.evaluate("window.tailing = true")
    log("disk <b>almost</b> full", level="ERROR", logger="workflow.run.7")

    newest = page.locator("#log-lines tr.log-row").first
    expect(newest).to_contain_text("disk <b>almost</b> full", timeout=TAIL_TIMEOUT)
    expect(newest).to_contain_text("ERROR")
    expect(page.locator("#log-lines tr.log-row")).to_have_count(2)
    assert page.evaluate("window.tailing") is True


def test_a_run_loggers_name_links_to_the_run_page(operator_page: Page, live_server):
    run = make_run(status="failed")
    log("step1 failed", level="ERROR", logger=f"workflow.run.{run.pk}")
    page = operator_page
    page.goto(f"{live_server.url}/logs/")

    page.get_by_role("link", name=f"workflow.run.{run.pk}").click()

    expect(page).to_have_url(f"{live_server.url}/runs/{run.pk}/")


def test_log_times_show_milliseconds_in_the_browsers_zone_with_its_offset(operator_page: Page, live_server):
    SysLog.objects.create(
        created_at=datetime(2025, 3, 1, 12, 0, 5, 123000, tzinfo=UTC),
        level="INFO",
        logger_name="w",
        message="m",
    )
    page = operator_page
    page.goto(f"{live_server.url}/logs/")

    # The browser runs in Europe/Paris (tests/browser/conftest.py): UTC+1 in March.
    expect(page.locator("#log-lines time.ts-ms")).to_have_text("2025-03-01 13:00:05.123 +01:00")
    expect(page.locator("#log-table thead")).to_contain_text("(Europe/Paris)")
