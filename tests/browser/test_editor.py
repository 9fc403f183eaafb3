"""The flow editor in Chromium: the page's own behaviour (saving, conflicts, drafts, history)
and the code editor over its textarea (static/js/editor.js, docs/editor.md)."""

import json
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from flows.editing import record_revision
from flows.models import Flow
from tests.browser.conftest import log_in
from tests.factories import ALL_PERMS, EXAMPLE, definition, make_flow, make_user, step
from tests.processes import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

# The shape GET /procedures/catalogue.json answers (the editor's completion reads it).
CATALOGUE = {
    "procedures": [
        {
            "mod": "common.Kt",
            "method": "prt",
            "summary": "Print a message and return it.",
            "doc": "Print a message and return it.",
            "params": [
                {
                    "name": "msg",
                    "type": "string",
                    "required": True,
                    "default": None,
                    "description": "",
                    "choices": [],
                }
            ],
            "results": [{"name": "msg", "type": "string", "description": "the message printed"}],
            "snippet": {"name": "prt", "mod": "common.Kt", "method": "prt", "params": {"msg": ""}},
        },
        {
            "mod": "common.Text",
            "method": "fill",
            "summary": "Fill a template.",
            "doc": "",
            "params": None,
            "results": None,
            "snippet": {"name": "fill", "mod": "common.Text", "method": "fill", "params": {}},
        },
    ]
}
# What the page reads the editor's state with: the bundle editor.js imports (the same module).
CURSOR = """async () => {
  const { EditorView } = await import("/static/vendor/codemirror/codemirror.js");
  return EditorView.findFromDOM(document.querySelector(".cm-editor")).state.selection.main.head;
}"""


def serve_catalogue(page: Page, body: dict | None = CATALOGUE) -> list[str]:
    """Answer the editor's catalogue request with `body` (None: a server error); the
    requests seen are returned, for counting."""
    seen: list[str] = []

    def answer(route: Route) -> None:
        seen.append(route.request.url)
        if body is None:
            route.fulfill(status=500, body="boom")
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/procedures/catalogue.json", answer)
    return seen


def open_editor(page: Page, url: str):
    page.goto(url)
    content = page.locator(".cm-content")
    expect(content).to_be_visible()
    return content


def put_cursor_in_line(page: Page, text: str, lefts: int = 0) -> None:
    """Click the editor's first line holding `text`, go to its end and `lefts` characters back."""
    page.locator(".cm-line", has_text=text).first.click()
    page.keyboard.press("End")
    for _ in range(lefts):
        page.keyboard.press("ArrowLeft")


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


def test_typing_in_the_code_editor_updates_the_textarea_and_the_live_validation(
    operator_page: Page, live_server
):
    page = operator_page
    make_flow("example", *EXAMPLE)
    open_editor(page, f"{live_server.url}/flows/example/")
    # The textarea is still the form's field, out of sight and out of the tab order.
    expect(page.locator("#flow-json")).to_have_attribute("tabindex", "-1")

    put_cursor_in_line(page, "@step1.msg", lefts=5)  # before ".msg"
    page.keyboard.type("x")

    expect(page.locator("#flow-json")).to_have_value(re.compile(r'"@step1x\.msg"'))
    expect(page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF]")).to_contain_text("step1x")
    expect(page.locator(".cm-content")).to_be_focused()


def test_tab_and_shift_tab_indent_and_keep_the_focus_in_the_editor(operator_page: Page, live_server):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    content = open_editor(page, f"{live_server.url}/flows/example/")
    put_cursor_in_line(page, '"method": "prt"')
    page.keyboard.press("Home")

    page.keyboard.press("Tab")

    expect(page.locator("#flow-json")).to_have_value(
        flow.flow_json.replace('      "method"', '        "method"', 1)
    )
    expect(content).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#flow-json")).to_have_value(flow.flow_json)
    expect(content).to_be_focused()


def test_ctrl_s_saves_the_flow(operator_page: Page, live_server):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    open_editor(page, f"{live_server.url}/flows/example/")
    put_cursor_in_line(page, '"hello"', lefts=1)
    page.keyboard.type(" there")

    page.keyboard.press("Control+s")

    expect(page.locator("#messages")).to_contain_text("Saved as revision")
    assert Flow.objects.get(pk=flow.pk).flow_json == flow.flow_json.replace('"hello"', '"hello there"')


def test_ctrl_s_on_the_new_flow_page_creates_the_flow(operator_page: Page, live_server):
    page = operator_page
    open_editor(page, f"{live_server.url}/new-flow/")
    page.locator("#id_flow_name").fill("greeting")
    put_cursor_in_line(page, '"hello"', lefts=1)
    page.keyboard.type(" there")

    page.keyboard.press("Control+s")

    expect(page.locator("#flow-name")).to_have_text("greeting")
    assert '"hello there"' in Flow.objects.get(flow_name="greeting").flow_json


def test_a_diagnostic_is_marked_on_its_value_and_clicking_it_moves_the_cursor_there(
    operator_page: Page, live_server
):
    page = operator_page
    flow = make_flow("example", *EXAMPLE)
    bad = flow.flow_json.replace("@step1.msg", "@stepp1.msg")
    content = open_editor(page, f"{live_server.url}/flows/example/")
    page.locator("#flow-json").fill(bad)

    mark = page.locator(".cm-lintRange-error")
    expect(mark).to_have_text('"@stepp1.msg"')
    expect(page.locator(".cm-line", has=mark)).to_have_text('        "msg": "@stepp1.msg"')
    page.keyboard.press("Control+Home")  # the cursor elsewhere first
    page.locator("#diagnostics [data-code=UNKNOWN_STEP_REF] .diag-message").click()

    expect(content).to_be_focused()
    expect(page.locator(".cm-lineNumbers .cm-activeLineGutter")).to_have_text("16")
    assert page.evaluate(CURSOR) == bad.index('"@stepp1.msg"')


def test_an_unknown_key_is_marked_on_the_key_and_a_missing_one_on_its_step(operator_page: Page, live_server):
    page = operator_page
    make_flow("example", *EXAMPLE)
    open_editor(page, f"{live_server.url}/flows/example/")
    text = definition({**step("first", msg="a"), "parms": {}}, {"name": "second", "mod": "common.Kt"})
    page.locator("#flow-json").fill(text)

    expect(page.locator("#diagnostics [data-mark=key]")).to_have_count(1)
    marks = page.locator(".cm-lintRange-error")
    expect(marks.filter(has_text='"parms"')).to_have_text(['"parms"'])
    # "method" is missing from the second step: the step itself is marked, from its brace.
    expect(marks.filter(has_text='"second"')).to_have_count(1)
    second = page.locator(".cm-line", has_text='"name": "second"')
    expect(second.locator(".cm-lintRange-error")).to_have_text('"name": "second",')


def test_invalid_json_is_marked_where_the_parser_stopped(operator_page: Page, live_server):
    page = operator_page
    make_flow("example", *EXAMPLE)
    open_editor(page, f"{live_server.url}/flows/example/")

    page.locator("#flow-json").fill('{"procedures": [\n  {"name": }')

    expect(page.locator("#diagnostics [data-code=INVALID_JSON]")).to_contain_text("line 2 column 12")
    expect(page.locator(".cm-lintRange-error")).to_have_text("}")


def test_typing_at_in_a_param_offers_the_earlier_steps_and_the_declared_inputs(
    operator_page: Page, live_server
):
    page = operator_page
    serve_catalogue(page, None)  # completion of references needs no catalogue
    text = json.dumps(
        {
            "inputs": {"who": {"type": "string"}},
            "procedures": [step("greet", msg="hi"), step("echo", msg="")],
        },
        indent=2,
    )
    Flow.objects.create(flow_name="example", flow_json=text)
    open_editor(page, f"{live_server.url}/flows/example/")
    put_cursor_in_line(page, '"msg": ""', lefts=1)

    page.keyboard.type("@")

    options = page.locator(".cm-tooltip-autocomplete li")
    expect(options.filter(has_text="@greet")).to_have_count(1)
    expect(options.filter(has_text="@_input.who")).to_have_count(1)
    expect(options.filter(has_text="@echo")).to_have_count(0)  # not earlier: itself
    # Clicked: Enter is ignored for the first 75 ms of a list (CodeMirror's interactionDelay).
    options.filter(has_text="@greet").click()
    expect(page.locator("#flow-json")).to_have_value(re.compile(r'"msg": "@greet"'))


def test_mod_method_and_result_keys_come_from_the_catalogue_read_once(operator_page: Page, live_server):
    page = operator_page
    requests = serve_catalogue(page)
    text = definition(
        step("greet", msg="hi"), {"name": "echo", "mod": "", "method": "", "params": {"msg": ""}}
    )
    Flow.objects.create(flow_name="example", flow_json=text)
    open_editor(page, f"{live_server.url}/flows/example/")
    options = page.locator(".cm-tooltip-autocomplete li")

    put_cursor_in_line(page, '"mod": ""', lefts=2)  # inside the quotes, before the comma
    page.keyboard.press("Control+Space")
    expect(options).to_have_text(["common.Kt1 procedure", "common.Text1 procedure"])
    options.first.click()  # clicked: Enter is ignored for the list's first 75 ms (interactionDelay)
    put_cursor_in_line(page, '"method": ""', lefts=2)
    page.keyboard.press("Control+Space")
    expect(options).to_have_text(["prtPrint a message and return it."])
    options.first.click()
    put_cursor_in_line(page, '"msg": ""', lefts=1)
    page.keyboard.type("@greet.")

    options.filter(has_text="@greet.msg").click()
    expect(page.locator("#flow-json")).to_have_value(
        re.compile(r'"mod": "common.Kt",\s*"method": "prt",\s*"params": \{\s*"msg": "@greet.msg"')
    )
    assert len(requests) == 1


def test_a_reader_gets_a_read_only_editor(page: Page, live_server):
    make_flow("example", *EXAMPLE)
    log_in(page.context, live_server, make_user("reader", "view_flow"))
    content = open_editor(page, f"{live_server.url}/flows/example/")

    expect(content).to_have_attribute("aria-readonly", "true")
    put_cursor_in_line(page, '"hello"', lefts=1)
    page.keyboard.type("x")
    expect(page.locator(".cm-line", has_text='"msg": "hello"')).to_have_count(1)
    expect(page.locator("#editor-keys")).to_have_count(0)


def test_without_javascript_the_textarea_is_the_editor(new_context, live_server, operator):
    flow = make_flow("example", *EXAMPLE)
    context = new_context(java_script_enabled=False)
    log_in(context, live_server, operator)
    page = context.new_page()
    page.goto(f"{live_server.url}/flows/example/")

    expect(page.locator(".cm-editor")).to_have_count(0)
    expect(page.locator("#editor-keys")).to_be_hidden()
    page.locator("#flow-json").fill(flow.flow_json.replace('"hello"', '"hello there"'))
    page.click("#save-flow")

    expect(page.locator("#messages")).to_contain_text("Saved as revision")
    assert '"hello there"' in Flow.objects.get(pk=flow.pk).flow_json


@pytest.mark.skipif(
    os.environ.get("SCREENSHOTS") != "1", reason="screenshots are taken on demand: SCREENSHOTS=1"
)
def test_take_the_editor_screenshot(operator_page: Page, live_server):
    """docs/images/editor.png: a diagnostic marked in the text and the completion list open."""
    page = operator_page
    page.set_viewport_size({"width": 1280, "height": 760})
    text = json.dumps(
        {
            "inputs": {"day": {"type": "string", "description": "the day to report on"}},
            "procedures": [
                step("load", msg="@_input.day"),
                step("summarize", msg="@lod.msg"),
                step("send", msg=""),
            ],
        },
        indent=2,
    )
    Flow.objects.create(flow_name="nightly-report", flow_json=text)
    open_editor(page, f"{live_server.url}/flows/nightly-report/")
    expect(page.locator(".cm-lintRange-error")).to_have_text('"@lod.msg"')
    put_cursor_in_line(page, '"msg": ""', lefts=1)
    page.keyboard.type("@")
    expect(page.locator(".cm-tooltip-autocomplete")).to_be_visible()
    page.locator("#editor").scroll_into_view_if_needed()

    out = Path(ROOT) / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    page.locator("#editor").screenshot(path=out / "editor.png")
