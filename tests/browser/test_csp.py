"""The Content-Security-Policy holds in a real browser: using the editor, the run page, the
log tail and the admin reports no violation (each would be a broken feature)."""

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from flows.models import SysLog
from runner.models import Run
from tests.browser.conftest import WORKER_TIMEOUT, log_in
from tests.factories import EXAMPLE, make_flow

pytestmark = pytest.mark.django_db(transaction=True)

# Playwright's init scripts run whatever the page's policy, so this listener sees every
# violation, including those Chromium does not print to the console.
LISTEN = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


class Watched:
    """A page that records every CSP violation, printed on the console or not."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)
        page.add_init_script(LISTEN)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.console.append(message.text)

    def assert_no_violation(self) -> None:
        assert self.console == []
        assert self.page.evaluate("window.cspViolations") == []


@pytest.fixture
def watched(operator_page: Page) -> Watched:
    watched = Watched(operator_page)
    yield watched
    assert watched.console == []  # also after the test's last check


def test_the_editor_and_the_run_page_work_without_any_csp_violation(watched: Watched, live_server, workers):
    page = watched.page
    flow = make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")
    expect(page.locator("#diagnostics")).to_contain_text("Valid")

    page.locator("#flow-json").fill(flow.flow_json.replace("@step1.msg", "@stepp1.msg"))
    expect(page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF]")).to_contain_text("stepp1")
    page.locator("#flow-json").fill(flow.flow_json.replace('"hello"', '"hello there"'))
    expect(page.locator("#diagnostics")).to_contain_text("Valid")
    page.click("#save-flow")
    expect(page.locator("#messages")).to_contain_text("Saved as revision")
    watched.assert_no_violation()

    page.click("#run-flow")
    page.wait_for_url("**/runs/*/")
    workers.db(1)
    expect(page.locator("#run-status")).to_have_attribute("data-status", "succeeded", timeout=WORKER_TIMEOUT)
    expect(page.locator("#step-timeline .tl-bar")).to_have_count(2)
    # The bars are drawn without a style attribute: each has a width on the page.
    assert page.locator("#step-timeline .tl-bar").first.bounding_box()["width"] > 0
    watched.assert_no_violation()
    assert Run.objects.get().status == "succeeded"


def test_the_log_tail_works_without_any_csp_violation(watched: Watched, live_server):
    page = watched.page
    page.goto(f"{live_server.url}/logs/?tail=1")
    SysLog.objects.create(
        created_at=timezone.now(), level="ERROR", logger_name="workflow.test", message="fresh"
    )

    expect(page.locator("#log-lines tr.log-row").first).to_contain_text("fresh", timeout=10_000)
    watched.assert_no_violation()


def test_the_admin_works_without_any_csp_violation(watched: Watched, live_server):
    page = watched.page
    make_flow("example", *EXAMPLE)
    log_in(page.context, live_server, User.objects.create_superuser("root", password=None))

    for path in (
        "/admin/",
        "/admin/flows/flow/",
        "/admin/flows/flow/add/",
        "/admin/runner/run/",
        "/admin/flows/syslog/",
    ):
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#content")).to_be_visible()
        watched.assert_no_violation()
    page.goto(f"{live_server.url}/admin/flows/flow/")
    page.click("text=example")
    expect(page.locator("textarea[name=flow_json]")).to_be_visible()
    page.click("#nav-sidebar-toggle, .toggle-nav-sidebar")  # the admin's own script
    watched.assert_no_violation()
