import pytest
from playwright.sync_api import Page, expect

from flows.editing import record_revision
from flows.models import Flow
from tests.browser.conftest import log_in
from tests.factories import ALL_PERMS, EXAMPLE, make_flow, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_diagnostic_appears_while_typing_an_unknown_reference_and_the_fixed_text_saves(
    operator_page: Page, live_server
):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")
    editor = page.locator("#flow-json")
    expect(page.locator("#diagnostics")).to_contain_text("Valid")

    editor.fill(flow.flow_json.replace("@step1.msg", "@stepp1.msg"))
    expect(page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF]")).to_contain_text("stepp1")
    expect(page.locator("#diagram g.step.err")).to_have_count(1)

    fixed = flow.flow_json.replace('"hello"', '"hello there"')
    editor.fill(fixed)
    expect(page.locator("#diagnostics")).to_contain_text("Valid")
    page.click("#save-flow")

    expect(page.locator("#messages")).to_contain_text("Saved as revision")
    assert Flow.objects.get(pk=flow.pk).flow_json == fixed


def test_a_save_after_someone_else_saved_is_refused_with_a_diff_and_both_texts_are_kept(
    operator_page: Page, new_context, live_server
):
    flow = make_flow("example", *EXAMPLE)
    url = f"{live_server.url}/flows/example/"
    first = operator_page
    second = new_context().new_page()
    log_in(second.context, live_server, make_user("bea", *ALL_PERMS))
    first.goto(url)
    second.goto(url)

    theirs = flow.flow_json.replace('"hello"', '"from the first editor"')
    first.locator("#flow-json").fill(theirs)
    first.click("#save-flow")
    expect(first.locator("#messages")).to_contain_text("Saved as revision")

    mine = flow.flow_json.replace('"hello"', '"from the second editor"')
    second.locator("#flow-json").fill(mine)
    second.click("#save-flow")

    expect(second.locator("#conflict")).to_be_visible()
    expect(second.locator("#conflict-diff .diff-del")).to_contain_text("from the first editor")
    expect(second.locator("#conflict-diff .diff-add")).to_contain_text("from the second editor")
    expect(second.locator("#flow-json")).to_have_value(mine)
    assert Flow.objects.get(pk=flow.pk).flow_json == theirs


def test_a_refused_save_lands_on_the_flow_page_and_a_reload_keeps_the_text(operator_page: Page, live_server):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")
    mine = flow.flow_json.replace("@step1.msg", "@stepp1.msg")
    page.locator("#flow-json").fill(mine)
    page.click("#save-flow")

    expect(page.locator("#unsaved")).to_contain_text("Not saved")
    assert page.url == f"{live_server.url}/flows/example/"
    page.reload()  # a GET: nothing is posted again

    expect(page.locator("#flow-json")).to_have_value(mine)
    expect(page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF]")).to_be_visible()
    page.click("#discard-draft")
    expect(page.locator("#flow-json")).to_have_value(flow.flow_json)
    assert Flow.objects.get(pk=flow.pk).flow_json == flow.flow_json


def test_revisions_are_numbered_within_the_flow(operator_page: Page, live_server):
    page = operator_page
    other = make_flow("other", *EXAMPLE)
    for _ in range(3):
        record_revision(other, other.flow_json, user="", note="edit")
    flow = make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")

    page.locator("#flow-json").fill(flow.flow_json.replace('"hello"', '"hello there"'))
    page.click("#save-flow")

    # Revision 1 keeps the version this first save replaced.
    expect(page.locator("#messages")).to_contain_text("Saved as revision 2.")
    page.click("#history-list a:text('revision 2')")
    expect(page.locator("h1")).to_contain_text("Revision 2 of")
    assert page.url == f"{live_server.url}/flows/example/revisions/2/"


def test_the_flow_page_shows_who_disabled_the_flow_and_its_description(operator_page: Page, live_server):
    page = operator_page
    make_flow("example", *EXAMPLE)
    page.goto(f"{live_server.url}/flows/example/")

    page.click("#disable-flow")
    expect(page.locator("#history-list li").first).to_contain_text("disabled by operator")
    page.click("#edit-description")
    page.locator("#description").fill("Imports the <b>nightly</b> orders.")
    page.click("#save-description")

    expect(page.locator("#flow-description")).to_have_text("Imports the <b>nightly</b> orders.")
    expect(page.locator("#history-list li").first).to_contain_text("description changed by operator")
