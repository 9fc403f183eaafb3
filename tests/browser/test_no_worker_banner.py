"""The no-worker banner in Chromium: shown while a run is queued and no worker is alive, gone
without a reload once a worker starts."""

import pytest
from playwright.sync_api import Page, expect

from runner.dispatch import start_run
from tests.browser.conftest import WORKER_TIMEOUT
from tests.factories import EXAMPLE, make_flow

pytestmark = pytest.mark.django_db(transaction=True)


def queued_run() -> int:
    return start_run(make_flow("example", *EXAMPLE), input={}, trigger="test", triggered_by="t").pk


def test_the_overview_banner_goes_away_when_a_worker_starts(operator_page: Page, live_server, workers):
    queued_run()
    operator_page.goto(live_server.url + "/")
    banner = operator_page.locator("#no-worker")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("No worker is running: queued runs will wait.")

    workers.db()

    expect(banner).to_have_count(0, timeout=WORKER_TIMEOUT)


def test_a_queued_run_page_shows_the_banner_until_a_worker_takes_the_run(
    operator_page: Page, live_server, workers
):
    run_id = queued_run()
    operator_page.goto(f"{live_server.url}/runs/{run_id}/")
    expect(operator_page.locator("#no-worker")).to_be_visible()

    workers.db()

    expect(operator_page.locator("#run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=WORKER_TIMEOUT
    )
    expect(operator_page.locator("#no-worker")).to_have_count(0)
