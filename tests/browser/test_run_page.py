import pytest
from playwright.sync_api import Page, expect

from flows.models import SysLog
from runner.models import Run, RunStep
from tests.browser.conftest import WORKER_TIMEOUT
from tests.factories import EXAMPLE, make_flow, step
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def land_on_run_page(page: Page, live_server, flow_name: str) -> None:
    """Run the flow from its page, wait for the run page, and mark the window: a reload
    or any other navigation would lose the mark."""
    page.goto(f"{live_server.url}/flows/{flow_name}/")
    page.click("#run-flow")
    page.wait_for_url("**/runs/*/")
    page.evaluate("window.landedOnRunPage = true")


def step_row(page: Page, name: str):
    return page.locator(f"#step-timeline li[data-step='{name}']")


def test_the_run_page_follows_a_run_to_succeeded_without_reloading(operator_page: Page, live_server, workers):
    page = operator_page
    make_flow("example", *EXAMPLE)
    land_on_run_page(page, live_server, "example")
    # No worker yet, so the page is certainly showing the run before it started.
    expect(page.locator("#run-status")).to_have_attribute("data-status", "queued")

    workers.db(1)

    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=WORKER_TIMEOUT)
    expect(step_row(page, "step1")).to_have_attribute("data-status", "succeeded")
    expect(step_row(page, "step2")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("#run-logs")).to_contain_text("msg=hello")
    expect(page.locator("#run-live[hx-get]")).to_have_count(0)  # the polling stopped
    assert page.evaluate("window.landedOnRunPage") is True


@pytest.fixture
def release(tmp_path, workers):
    """The file the slow step waits for; created at teardown too, so no worker waits on."""
    path = tmp_path / "release"
    yield path
    path.touch()


def test_a_cancelled_run_stops_after_its_running_step_and_never_starts_the_next(
    operator_page: Page, live_server, workers, release
):
    page = operator_page
    make_flow(
        "slow",
        step("hold", "wait_for_file", "Testing", path=str(release)),
        step("after", "echo", "Testing"),
    )
    workers.db(1)
    land_on_run_page(page, live_server, "slow")
    expect(step_row(page, "hold")).to_have_attribute("data-status", "running", timeout=WORKER_TIMEOUT)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cancel-run")
    expect(page.locator("#cancel-requested")).to_be_visible()
    # The worker reads the request every 0.5 s and says so in the run's log.
    lines = SysLog.objects.of_logger_tree(f"workflow.run.{Run.objects.get().pk}")
    seen = lines.filter(message__startswith="cancel requested")
    wait_until(seen.exists, message="the worker seeing the cancel request")
    release.touch()

    expect(page.locator("#run-status")).to_have_attribute("data-status", "cancelled", timeout=WORKER_TIMEOUT)
    expect(step_row(page, "hold")).to_have_attribute("data-status", "succeeded")
    expect(step_row(page, "after")).to_have_attribute("data-status", "not-run")
    run = Run.objects.get()
    assert run.status == "cancelled"
    assert not RunStep.objects.filter(run=run, name="after").exists()


def test_an_unfolded_log_message_stays_unfolded_while_new_lines_arrive(
    operator_page: Page, live_server, workers, release
):
    page = operator_page
    make_flow(
        "chatty",
        step("first", "echo", "Testing", text="a long line " * 40),
        step("hold", "wait_for_file", "Testing", path=str(release)),
        step("after", "echo", "Testing", text="a later line"),
    )
    workers.db(1)
    land_on_run_page(page, live_server, "chatty")
    folded = page.locator("#log-rows details.fold").first
    expect(folded).to_be_visible(timeout=WORKER_TIMEOUT)
    folded.locator("summary").click()
    folded.evaluate("el => { el.dataset.unfoldedByTheTest = 'yes'; }")

    release.touch()

    expect(page.locator("#log-rows")).to_contain_text("a later line", timeout=WORKER_TIMEOUT)
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded")
    # The same element, still open: the lines were appended, not re-rendered.
    expect(page.locator("#log-rows details[data-unfolded-by-the-test='yes'][open]")).to_have_count(1)
    expect(page.locator("#log-rows")).to_contain_text("succeeded")  # the run's last line
    rows = page.locator("#log-rows tr.log-row")
    ids = [int(i) for i in rows.evaluate_all("rows => rows.map(r => r.dataset.id)")]
    assert ids == sorted(set(ids))  # each line once, in order
    expect(page.locator("#log-poller[hx-get]")).to_have_count(0)  # the polling stopped
    assert page.evaluate("window.landedOnRunPage") is True


def test_a_run_that_failed_shows_no_queued_banner_and_numbers_its_steps_from_one(
    operator_page: Page, live_server, workers
):
    page = operator_page
    make_flow("doomed", step("first", "echo", "Testing", text="ok"), step("second", "boom", "Testing"))
    land_on_run_page(page, live_server, "doomed")
    expect(page.locator("#run-status")).to_have_attribute("data-status", "queued")

    workers.db(1)

    expect(page.locator("#run-status")).to_have_attribute("data-status", "failed", timeout=WORKER_TIMEOUT)
    expect(page.locator("#messages")).to_have_count(0)
    expect(page.get_by_text("is queued")).to_have_count(0)
    expect(step_row(page, "first").locator(".tl-name")).to_have_text("1. first")
    expect(step_row(page, "second").locator(".tl-name")).to_have_text("2. second")
    assert page.evaluate("window.landedOnRunPage") is True


def test_dismissing_the_cancel_confirmation_leaves_the_run_alone(operator_page: Page, live_server):
    page = operator_page
    make_flow("example", *EXAMPLE)
    land_on_run_page(page, live_server, "example")
    expect(page.locator("#cancel-run")).to_have_text("⊘ Cancel run (it will not start)")

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#cancel-run")

    expect(page.locator("#run-status")).to_have_attribute("data-status", "queued")
    assert page.evaluate("window.landedOnRunPage") is True
    assert Run.objects.get().cancel_requested is False


def test_debug_lines_stay_hidden_while_new_lines_arrive_and_each_line_names_its_step(
    operator_page: Page, live_server, workers
):
    page = operator_page
    make_flow("example", *EXAMPLE)
    land_on_run_page(page, live_server, "example")
    page.check("#hide-debug")

    workers.db(1)

    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=WORKER_TIMEOUT)
    expect(page.locator("#log-poller[hx-get]")).to_have_count(0)  # every line is in
    hello = page.locator("#log-rows tr", has_text="msg=hello").first
    expect(hello).to_be_visible()
    expect(hello.locator(".log-step")).to_have_text("step1")
    debug = page.locator("#log-rows tr.log-debug")
    assert debug.count() > 0  # the engine's "step ... started" lines, at the default level
    expect(debug.filter(visible=True)).to_have_count(0)

    page.uncheck("#hide-debug")

    expect(debug.first).to_be_visible()
    assert page.evaluate("window.landedOnRunPage") is True
