"""Everything user-supplied is escaped: names, JSON, log lines, errors, tracebacks, inputs."""

import json

import pytest
from pytest_django.asserts import assertNotContains

from flows.editing import record_revision
from flows.models import Flow
from tests.factories import EXAMPLE_JSON, definition, log, make_run, step

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert ESCAPED in html


def test_a_log_message_with_a_script_tag_renders_as_text(client):
    log(SCRIPT, level="ERROR", logger="workflow")

    assert_escaped(client.get("/logs/").content.decode())


def test_log_lines_are_escaped_in_the_tail_and_on_the_overview(client):
    log(SCRIPT, level="ERROR", logger=SCRIPT)

    assert_escaped(client.get("/logs/tail/?after=0").content.decode())
    assert_escaped(client.get("/").content.decode())


def test_a_folded_long_log_message_is_escaped(client):
    log(SCRIPT + "\n" + "x" * 400)

    assert_escaped(client.get("/logs/").content.decode())


def test_a_flow_name_is_escaped_everywhere_it_appears(client):
    Flow.objects.create(flow_name=SCRIPT, flow_json=EXAMPLE_JSON)
    make_run(SCRIPT)

    for url in ("/", "/runs/"):
        assert_escaped(client.get(url).content.decode())


def test_the_flow_json_is_escaped_in_the_editor_and_the_diagram(client):
    text = definition(step(SCRIPT, msg=SCRIPT), step("s2", msg="@" + SCRIPT + ".msg"))
    Flow.objects.create(flow_name="x", flow_json=text)

    html = client.get("/flows/x/").content.decode()

    assert SCRIPT not in html
    assert "alert(1)&lt;/script&gt;" in html


def test_the_json_in_a_validate_response_is_escaped(client):
    Flow.objects.create(flow_name="x", flow_json=EXAMPLE_JSON)
    text = definition(step("s", msg="@" + SCRIPT))

    response = client.post("/flows/x/validate/", {"flow_json": text}, HTTP_HX_REQUEST="true")

    assertNotContains(response, "<script>")


def test_an_invalid_legacy_text_with_markup_is_escaped(client):
    Flow.objects.create(flow_name="x", flow_json=SCRIPT)

    assert_escaped(client.get("/flows/x/").content.decode())


def test_errors_tracebacks_inputs_and_results_of_a_run_are_escaped(client):
    run = make_run(
        status="failed",
        error=SCRIPT,
        traceback=f"Traceback\n{SCRIPT}",
        failed_step=SCRIPT,
        input={"x": SCRIPT},
        context={SCRIPT: {"msg": SCRIPT}},
        triggered_by=SCRIPT,
        worker=SCRIPT,
        definition=json.dumps({"procedures": [{"name": SCRIPT}]}),
    )

    html = client.get(f"/runs/{run.pk}/").content.decode()

    assert SCRIPT not in html
    assert html.count(ESCAPED) >= 6


def test_the_run_form_input_is_escaped_when_shown_back(client):
    Flow.objects.create(flow_name="x", flow_json=EXAMPLE_JSON)

    response = client.post("/flows/x/run/", {"input": SCRIPT})

    assertNotContains(response, SCRIPT, status_code=400)


def test_revisions_and_diffs_are_escaped(client):
    flow = Flow.objects.create(flow_name="x", flow_json=EXAMPLE_JSON)
    revision = record_revision(flow, SCRIPT, user=SCRIPT, note="edit")

    assert_escaped(client.get("/flows/x/revisions/").content.decode())
    assert_escaped(client.get(f"/flows/x/revisions/{revision.number}/").content.decode())
