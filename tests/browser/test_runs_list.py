"""The runs list in Chromium: it follows active runs without a reload, and fits a phone."""

import pytest
from playwright.sync_api import Page, expect

from runner.dispatch import start_run
from runner.models import Run
from tests.browser.conftest import WORKER_TIMEOUT
from tests.factories import make_flow, make_run, step

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def release(tmp_path, workers):
    """The file the slow step waits for; created at teardown too, so no worker waits on."""
    path = tmp_path / "release"
    yield path
    path.touch()


def test_a_running_run_in_the_list_turns_succeeded_without_a_reload(
    operator_page: Page, live_server, workers, release
):
    page = operator_page
    flow = make_flow("slow", step("hold", "wait_for_file", "Testing", path=str(release)))
    run = start_run(flow, input={}, trigger="web", triggered_by="operator")
    workers.db(1)
    page.goto(f"{live_server.url}/runs/")
    page.evaluate("window.stillTheSamePage = true")
    row = page.locator(f"#run-list tr[data-run='{run.pk}']")
    expect(row).to_have_attribute("data-status", "running", timeout=WORKER_TIMEOUT)
    expect(row.locator(".run-duration")).to_contain_text("…")  # its time so far

    release.touch()

    expect(row).to_have_attribute("data-status", "succeeded", timeout=WORKER_TIMEOUT)
    expect(row.locator(".run-duration")).not_to_contain_text("…")
    expect(page.locator("#run-list[hx-trigger]")).to_have_count(0)  # the polling stopped
    assert page.evaluate("window.stillTheSamePage") is True


def test_the_runs_list_fits_a_phone_without_sideways_scrolling(operator_page: Page, live_server):
    page = operator_page
    make_flow("a-flow-with-a-rather-long-name-for-a-phone-screen", step("one", msg="hi"))
    for status in ("succeeded", "failed", "running"):
        make_run(
            "a-flow-with-a-rather-long-name-for-a-phone-screen",
            status=status,
            triggered_by="somebody@example.com",
        )
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/runs/")

    newest = page.locator("#run-list tbody tr").first
    for cell in ("run-id", "run-flow", "run-status", "run-duration"):
        expect(newest.locator(f".{cell}")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    newest.locator(".run-id a").click()
    expect(page).to_have_url(f"{live_server.url}/runs/{Run.objects.latest('id').pk}/")
