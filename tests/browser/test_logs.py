import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from flows.models import SysLog

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
