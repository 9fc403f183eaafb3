"""A flow's optional description: written on the flow page or with a new flow, shown as text."""

import pytest

from flows.models import Flow, FlowDescription, FlowEvent
from tests.factories import EXAMPLE_JSON

pytestmark = pytest.mark.django_db


def describe(client, text: str, name: str = "example"):
    return client.post(f"/flows/{name}/description/", {"description": text})


def test_a_description_is_stored_and_shown_on_the_flow_page(client, flow):
    response = describe(client, "Imports the nightly orders.")

    assert response["Location"] == "/flows/example/"
    stored = FlowDescription.objects.get(flow_id=flow.pk)
    assert (stored.text, stored.updated_by) == ("Imports the nightly orders.", "operator")
    html = client.get("/flows/example/").content.decode()
    assert '<p class="description-text" id="flow-description">Imports the nightly orders.</p>' in html


def test_a_description_keeps_its_line_breaks_as_text(client, flow):
    describe(client, "first line\r\nsecond line")

    html = client.get("/flows/example/").content.decode()

    assert "first line<br>second line" in html


def test_html_in_a_description_is_shown_as_text(client, flow):
    describe(client, '<script>alert("x")</script>')

    html = client.get("/flows/example/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_an_empty_description_removes_it(client, flow):
    describe(client, "Imports the nightly orders.")

    describe(client, "   ")

    assert not FlowDescription.objects.exists()
    assert 'id="flow-description"' not in client.get("/flows/example/").content.decode()


def test_a_description_over_2000_characters_is_refused_with_a_clear_message(client, flow):
    response = describe(client, "x" * 2001)

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="description-errors"' in html
    assert "Ensure this value has at most 2000 characters (it has 2001)." in html
    assert not FlowDescription.objects.exists()


def test_line_breaks_count_as_one_character_as_in_the_browser(client, flow):
    text = ("x" * 99 + "\r\n") * 20  # 2,000 characters in the textarea, 2,020 as posted

    response = describe(client, text.strip())

    assert response.status_code == 302
    assert FlowDescription.objects.get().text == text.strip().replace("\r\n", "\n")


def test_a_description_change_is_in_the_history(client, flow):
    describe(client, "Imports the nightly orders.")

    event = FlowEvent.objects.get()
    assert (event.action, event.by) == ("described", "operator")
    assert "description changed by operator" in client.get("/flows/example/").content.decode()


def test_an_unchanged_description_records_nothing(client, flow):
    describe(client, "Imports the nightly orders.")

    response = describe(client, "Imports the nightly orders.")

    assert FlowEvent.objects.count() == 1
    assert "The description is unchanged." in client.get(response["Location"]).content.decode()


def test_a_user_without_change_flow_cannot_describe_a_flow(lacking, flow):
    response = describe(lacking("change_flow"), "mine now")

    assert response.status_code == 403
    assert not FlowDescription.objects.exists()


def test_a_user_without_change_flow_sees_the_description_without_the_form(lacking, flow):
    FlowDescription.objects.create(flow_id=flow.pk, text="Imports the nightly orders.")

    html = lacking("change_flow").get("/flows/example/").content.decode()

    assert "Imports the nightly orders." in html
    assert 'id="edit-description"' not in html


def test_a_deleted_flow_cannot_be_described(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    assert describe(client, "too late").status_code == 404


def test_the_description_form_is_the_one_the_form_declares_holding_the_description(client, flow):
    FlowDescription.objects.create(flow_id=flow.pk, text="Imports the nightly orders.")

    html = client.get("/flows/example/").content.decode()

    textarea = '<textarea name="description" cols="40" rows="3" id="description" maxlength="2000"'
    assert (
        textarea + ' aria-describedby="id_description_helptext">\nImports the nightly orders.</textarea>'
        in html
    )


def test_a_new_flow_may_have_a_description(client):
    client.post("/new-flow/", {"flow_name": "nightly", "flow_json": EXAMPLE_JSON, "description": "Orders."})

    flow = Flow.objects.get(flow_name="nightly")
    assert FlowDescription.objects.get(flow_id=flow.pk).text == "Orders."


def test_a_new_flow_without_a_description_stores_none(client):
    client.post("/new-flow/", {"flow_name": "nightly", "flow_json": EXAMPLE_JSON})

    assert Flow.objects.filter(flow_name="nightly").exists()
    assert not FlowDescription.objects.exists()


def test_a_new_flow_with_a_description_too_long_is_refused(client):
    response = client.post(
        "/new-flow/", {"flow_name": "nightly", "flow_json": EXAMPLE_JSON, "description": "x" * 2001}
    )

    assert 'id="description-errors"' in response.content.decode()
    assert not Flow.objects.exists()
