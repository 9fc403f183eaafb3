"""Rules every template keeps: short lines, one query-string idiom, a stable live region in
the editor, fields rendered from the forms that declare them."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import EXAMPLE_JSON

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
MAX_LINE = 160
# Query strings are built by {% querystring %} only: no hand-made "?before=", "&amp;" or urlencode.
HAND_MADE_QUERY = re.compile(r"\?[a-z_]+=|&amp;|urlencode")


def template_lines():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            yield path.relative_to(TEMPLATES), number, line


def test_no_template_line_is_longer_than_160_characters():
    long = [
        f"{path}:{number} ({len(line)})" for path, number, line in template_lines() if len(line) > MAX_LINE
    ]

    assert long == []


def test_templates_build_query_strings_with_the_querystring_tag_only():
    hand_made = [
        f"{path}:{number}" for path, number, line in template_lines() if HAND_MADE_QUERY.search(line)
    ]

    assert hand_made == []


def test_the_editor_swaps_the_content_of_a_stable_live_region(client, flow):
    page = client.get("/flows/example/").content.decode()
    fragment = client.post(
        "/flows/example/validate/", {"flow_json": "{"}, HTTP_HX_REQUEST="true"
    ).content.decode()

    assert page.count('aria-live="polite"') == 1
    assert '<div id="analysis" class="analysis" aria-live="polite">' in page
    assert 'hx-target="#analysis" hx-swap="innerHTML"' in page
    # The answer is the region's content, not the region: it stays in the page, so a screen
    # reader announces every new analysis.
    assert 'id="analysis"' not in fragment and 'aria-live="polite"' not in fragment
    assert 'id="diagnostics"' in fragment


def test_the_new_flow_page_swaps_the_content_of_a_stable_live_region(client):
    page = client.get("/new-flow/").content.decode()
    fragment = client.post("/new-flow/", {"flow_json": EXAMPLE_JSON}, HTTP_HX_REQUEST="true").content.decode()

    assert '<div id="analysis" class="analysis" aria-live="polite">' in page
    assert 'hx-target="#analysis" hx-swap="innerHTML"' in page
    assert 'id="analysis"' not in fragment and 'id="diagnostics"' in fragment


def test_the_log_filters_are_the_fields_the_form_declares(client):
    html = client.get("/logs/?q=disk&tail=1").content.decode()

    logger = '<input type="text" name="logger" placeholder="workflow.run" size="18" maxlength="255"'
    assert logger + ' aria-describedby="id_logger_helptext" id="id_logger">' in html
    assert '<input type="search" name="q" value="disk" size="18" maxlength="200" id="id_q">' in html
    assert '<input type="checkbox" name="tail" id="id_tail" checked>' in html


def test_the_rename_field_is_the_one_the_form_declares_holding_the_current_name(client, flow):
    html = client.get("/flows/example/").content.decode()

    assert '<input type="text" name="new_name" value="example" id="new-name" autocomplete="off"' in html
    assert 'maxlength="128" required' in html


def test_the_new_flow_fields_are_the_ones_the_form_declares(client):
    html = client.get("/new-flow/").content.decode()

    name = '<input type="text" name="flow_name" autocomplete="off" maxlength="128" required'
    assert name + ' aria-describedby="id_flow_name_helptext" id="id_flow_name">' in html
    assert 'id="id_flow_name_helptext">(1 to 128 characters, no slash; unique)' in html
    textarea = '<textarea name="flow_json" cols="40" rows="18" spellcheck="false" autocomplete="off"'
    assert textarea + ' id="flow-json" aria-describedby="diagnostics" hx-post="/new-flow/"' in html
    assert '<label for="flow-json">Definition (JSON)</label>' in html
