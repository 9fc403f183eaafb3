"""Enable and disable, soft delete and restore, the deleted list, and new flows."""

import pytest

from flows.models import Flow

from .conftest import EXAMPLE, definition, step

pytestmark = pytest.mark.django_db


def test_disable_keeps_the_flow_visible_but_marked(client, flow):
    response = client.post("/flows/example/disable/")

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).enabled is False
    assert "○ disabled" in client.get("/").content.decode()


def test_enable_turns_a_disabled_flow_back_on(client, flow):
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    client.post("/flows/example/enable/")

    assert Flow.objects.get(pk=flow.pk).enabled is True


def test_delete_is_a_soft_delete_that_hides_the_flow(client, flow):
    response = client.post("/flows/example/delete/")

    assert response["Location"] == "/"
    assert Flow.all_objects.get(pk=flow.pk).deleted is True
    assert 'data-flow="example"' not in client.get("/").content.decode()


def test_deleted_flows_are_listed_for_restore(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    html = client.get("/deleted-flows/").content.decode()

    assert 'data-flow="example"' in html
    assert 'action="/flows/example/restore/"' in html


def test_the_deleted_list_has_an_empty_state(client, flow):
    assert "No deleted flows." in client.get("/deleted-flows/").content.decode()


def test_restore_brings_a_deleted_flow_back(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = client.post("/flows/example/restore/")

    assert response["Location"] == "/flows/example/"
    assert Flow.objects.filter(pk=flow.pk).exists()


def test_restore_of_a_flow_that_is_not_deleted_is_not_found(client, flow):
    assert client.post("/flows/example/restore/").status_code == 404


def test_a_new_flow_is_created_from_a_valid_definition(client):
    response = client.post("/new-flow/", {"flow_name": "nightly", "flow_json": EXAMPLE})

    assert response["Location"] == "/flows/nightly/"
    created = Flow.objects.get(flow_name="nightly")
    assert (created.flow_json, created.enabled, created.deleted) == (EXAMPLE, True, False)


def test_the_new_flow_form_starts_with_an_example(client):
    html = client.get("/new-flow/").content.decode()

    assert "common.Kt" in html
    assert "Valid: the definition can run" in html


def test_a_new_flow_with_an_invalid_definition_is_refused_keeping_the_text(client):
    text = definition(step("s", "@nope"))

    response = client.post("/new-flow/", {"flow_name": "bad", "flow_json": text})

    html = response.content.decode()
    assert response.status_code == 200
    assert "UNKNOWN_STEP_REF" in html
    assert "@nope" in html
    assert not Flow.all_objects.filter(flow_name="bad").exists()


@pytest.mark.parametrize("name", ["a/b", "", "x" * 129, "..", "tab\there"])
def test_a_new_flow_name_must_be_short_without_slashes_or_control_characters(client, name):
    response = client.post("/new-flow/", {"flow_name": name, "flow_json": EXAMPLE})

    assert response.status_code == 200
    assert 'id="name-errors"' in response.content.decode()
    assert not Flow.all_objects.exists()


def test_a_new_flow_name_must_be_unique_even_among_deleted_flows(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = client.post("/new-flow/", {"flow_name": "example", "flow_json": EXAMPLE})

    assert "already exists" in response.content.decode()
    assert Flow.all_objects.count() == 1


def test_the_new_flow_form_validates_as_you_type(client):
    response = client.post(
        "/new-flow/", {"flow_name": "", "flow_json": definition(step("s", "@x"))}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert "UNKNOWN_STEP_REF" in html
    assert "<html" not in html
    assert not Flow.all_objects.exists()


def test_check_on_the_new_flow_form_creates_nothing(client):
    client.post("/new-flow/", {"flow_name": "n", "flow_json": EXAMPLE, "check": "1"})

    assert not Flow.all_objects.exists()
