import pytest
from playwright.sync_api import Page, expect

from tests.factories import EXAMPLE, make_flow

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_editors_live_region_stays_the_same_element_across_validations(operator_page: Page, live_server):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")
    region = page.locator("#analysis[aria-live=polite]")
    region.evaluate("el => { el.dataset.markedByTheTest = 'yes'; }")

    page.locator("#flow-json").fill(flow.flow_json.replace("@step1.msg", "@stepp1.msg"))

    expect(page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF]")).to_be_visible()
    # A screen reader only announces changes inside a region that was already there.
    expect(page.locator("#analysis[aria-live=polite][data-marked-by-the-test=yes]")).to_have_count(1)
    # CodeMirror's own announcer (search results for screen readers) is the editor's, not the page's.
    expect(page.locator("[aria-live=polite]:not(.cm-announced)")).to_have_count(1)


def test_links_in_the_page_text_are_underlined(operator_page: Page, live_server):
    page = operator_page
    make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")

    link = page.locator("p.meta a", has_text="revisions")
    assert link.evaluate("el => getComputedStyle(el).textDecorationLine") == "underline"
