"""The overview in Chromium: Run on a phone, and active runs followed without a reload."""

import re

import pytest
from playwright.sync_api import Page, expect

from runner.dispatch import start_run
from runner.models import Run
from tests.browser.conftest import WORKER_TIMEOUT, log_in
from tests.factories import EXAMPLE, make_flow, make_run, step

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server, operator) -> Page:
    """A page 390 px wide, as on a phone, logged in as the operator."""
    with browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/Paris"
    ) as context:
        log_in(context, live_server, operator)
        yield context.new_page()


def some_flows_with_history() -> None:
    """Names, states and ten runs per flow: what pushed the Run buttons off a phone's screen."""
    make_flow("example", *EXAMPLE)
    make_flow("nightly-warehouse-export-and-report", *EXAMPLE)
    make_flow("Weekly cleanup", *EXAMPLE, enabled=False)
    for name in ("example", "nightly-warehouse-export-and-report"):
        for i in range(10):
            make_run(name, status="failed" if i % 4 == 0 else "succeeded")


def first_run_button(page: Page):
    return page.locator("#flows tbody tr").first.locator(".run-button")


def assert_no_sideways_scrolling(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wrap = page.locator("#flows").locator("xpath=..")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth"), "the flows table scrolls sideways"


def test_on_a_phone_the_first_flows_run_button_and_marks_are_on_screen(phone: Page, live_server):
    some_flows_with_history()
    phone.goto(live_server.url + "/")

    expect(first_run_button(phone)).to_be_in_viewport()
    expect(phone.locator("#flows tbody tr").first.locator(".mark").last).to_be_in_viewport()
    expect(phone.locator("#flows thead")).to_be_hidden()  # no clipped headers: each line says what it is
    assert_no_sideways_scrolling(phone)


def test_on_a_phone_the_first_flows_run_button_queues_a_run_once_confirmed(phone: Page, live_server):
    some_flows_with_history()
    phone.goto(live_server.url + "/")
    prompts = []
    phone.once("dialog", lambda dialog: (prompts.append(dialog.message), dialog.accept()))

    first_run_button(phone).click()

    phone.wait_for_url(re.compile(r"/runs/\d+/$"))
    assert prompts == ["Run example now, with no input?"]
    run = Run.objects.latest("id")
    assert (run.flow_name, run.trigger) == ("example", "web")
    assert phone.url.endswith(f"/runs/{run.pk}/")


def test_run_queues_nothing_when_the_confirmation_is_dismissed(operator_page: Page, live_server):
    page = operator_page
    make_flow("example", *EXAMPLE)
    page.goto(live_server.url + "/")
    page.evaluate("window.stayedOnTheOverview = true")
    page.once("dialog", lambda dialog: dialog.dismiss())

    first_run_button(page).click()

    assert page.evaluate("window.stayedOnTheOverview") is True
    assert not Run.objects.exists()


def test_on_a_phone_run_opens_the_run_form_of_a_flow_that_reads_its_input(phone: Page, live_server):
    make_flow("greet", step("hello", msg="@_input.name"))
    phone.goto(live_server.url + "/")

    first_run_button(phone).click()

    phone.wait_for_url(re.compile(r"/flows/greet/#run-form$"))
    expect(phone.locator("#run-form")).to_be_in_viewport()
    assert not Run.objects.exists()


def test_the_overview_follows_a_run_to_succeeded_without_reloading(operator_page: Page, live_server, workers):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    run = start_run(flow, input={}, trigger="web", triggered_by="operator")
    page.goto(live_server.url + "/")
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#flow-{flow.pk}")
    expect(row.locator(".mark")).to_have_class(re.compile(r"\bmark-queued\b"))
    expect(page.locator("#overview-live[hx-get]")).to_have_count(1)

    workers.db(1)

    expect(row.locator(".mark")).to_have_class(re.compile(r"\bmark-succeeded\b"), timeout=WORKER_TIMEOUT)
    recent = page.locator(f"#overview-recent tr[data-run='{run.pk}'] [data-status]")
    expect(recent).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#overview-live[hx-get]")).to_have_count(0)  # the polling stopped
    expect(row.locator("time.ts-local")).to_have_count(1)  # refreshed times are shown in local time too
    assert page.evaluate("window.notReloaded") is True
