import pytest
from playwright.sync_api import Page, expect

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
