"""Enable and disable, soft delete and restore, rename, the deleted list, and new flows."""

import pytest
from pytest_django.asserts import assertNotContains

from flows.models import Flow
from tests.factories import EXAMPLE_JSON, definition, make_run, step

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
    assertNotContains(client.get("/"), 'data-flow="example"')


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
    response = client.post("/new-flow/", {"flow_name": "nightly", "flow_json": EXAMPLE_JSON})

    assert response["Location"] == "/flows/nightly/"
    created = Flow.objects.get(flow_name="nightly")
    assert (created.flow_json, created.enabled, created.deleted) == (EXAMPLE_JSON, True, False)


def test_the_new_flow_form_starts_with_an_example(client):
    html = client.get("/new-flow/").content.decode()

    assert "common.Kt" in html
    assert "Valid: the definition can run" in html


def test_a_new_flow_with_an_invalid_definition_is_refused_keeping_the_text(client):
    text = definition(step("s", msg="@nope"))

    response = client.post("/new-flow/", {"flow_name": "bad", "flow_json": text})

    html = response.content.decode()
    assert response.status_code == 200
    assert "UNKNOWN_STEP_REF" in html
    assert "@nope" in html
    assert not Flow.all_objects.filter(flow_name="bad").exists()


@pytest.mark.parametrize("name", ["a/b", "", "x" * 129, "..", "tab\there"])
def test_a_new_flow_name_must_be_short_without_slashes_or_control_characters(client, name):
    response = client.post("/new-flow/", {"flow_name": name, "flow_json": EXAMPLE_JSON})

    assert response.status_code == 200
    assert 'id="name-errors"' in response.content.decode()
    assert not Flow.all_objects.exists()


def test_a_new_flow_name_must_be_unique_even_among_deleted_flows(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    response = client.post("/new-flow/", {"flow_name": "example", "flow_json": EXAMPLE_JSON})

    assert "already exists" in response.content.decode()
    assert Flow.all_objects.count() == 1


def test_the_new_flow_form_validates_as_you_type(client):
    response = client.post(
        "/new-flow/", {"flow_name": "", "flow_json": definition(step("s", msg="@x"))}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert "UNKNOWN_STEP_REF" in html
    assert "<html" not in html
    assert not Flow.all_objects.exists()


def test_check_on_the_new_flow_form_creates_nothing(client):
    client.post("/new-flow/", {"flow_name": "n", "flow_json": EXAMPLE_JSON, "check": "1"})

    assert not Flow.all_objects.exists()


def rename(client, new_name: str, name: str = "example"):
    return client.post(f"/flows/{name}/rename/", {"new_name": new_name})


def test_rename_moves_the_flow_to_its_new_address(client, flow):
    response = rename(client, "nightly")

    assert response["Location"] == "/flows/nightly/"
    assert "Renamed example to nightly" in client.get("/flows/nightly/").content.decode()
    assert Flow.objects.get(pk=flow.pk).flow_name == "nightly"
    assert client.get("/flows/example/").status_code == 404


def test_a_renamed_flow_keeps_its_runs_and_revisions(client, flow):
    from flows.editing import record_revision

    revision = record_revision(flow, flow.flow_json, user="operator", note="created")
    run = make_run()

    rename(client, "nightly")

    html = client.get("/flows/nightly/").content.decode()
    assert f'data-run="{run.pk}"' in html
    assert f"/flows/nightly/revisions/{revision.number}/" in html
    assert client.get(f"/flows/nightly/revisions/{revision.number}/").status_code == 200


def test_a_new_flow_under_a_renamed_flows_old_name_starts_without_history(client, flow):
    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")  # as the admin or a legacy writer would

    client.post("/new-flow/", {"flow_name": "example", "flow_json": EXAMPLE_JSON})

    assertNotContains(client.get("/flows/example/"), f'data-run="{run.pk}"')
    assert f'data-run="{run.pk}"' in client.get("/flows/nightly/").content.decode()


def test_the_overview_shows_a_renamed_flows_runs_on_its_row_only(client, flow):
    run = make_run()
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")
    Flow.objects.create(flow_name="example", flow_json=EXAMPLE_JSON)

    html = client.get("/").content.decode()

    renamed_row = html[html.index('data-flow="nightly"') :]
    new_row = html[html.index('data-flow="example"') : html.index('data-flow="nightly"')]
    assert f"run {run.pk} succeeded" in renamed_row
    assert "never run" in new_row


def test_rename_refuses_a_name_taken_even_by_a_deleted_flow(client, flow):
    Flow.objects.create(flow_name="gone", flow_json=EXAMPLE_JSON, deleted=True)

    response = rename(client, "gone")

    assert response.status_code == 400
    assert "already exists (perhaps among the deleted flows)" in response.content.decode()
    assert Flow.objects.get(pk=flow.pk).flow_name == "example"


@pytest.mark.parametrize("name", ["a/b", "", "  ", "x" * 129, ".", "..", "tab\there", "\u202eevil"])
def test_rename_follows_the_same_name_rules_as_a_new_flow(client, flow, name):
    response = rename(client, name)

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="rename-errors"' in html
    assert 'id="rename" open' in html
    assert Flow.objects.get(pk=flow.pk).flow_name == "example"


def test_rename_to_the_same_name_changes_nothing(client, flow):
    response = rename(client, "example")

    assert response["Location"] == "/flows/example/"
    assert Flow.objects.get(pk=flow.pk).flow_name == "example"


def test_a_deleted_flow_cannot_be_renamed(client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    assert rename(client, "nightly").status_code == 404
    assert Flow.all_objects.get(pk=flow.pk).flow_name == "example"


def test_a_rename_is_recorded_in_the_history_with_who_did_it(client, flow):
    from flows.models import FlowEvent

    rename(client, "nightly")

    event = FlowEvent.objects.get(flow_id=flow.pk)
    assert (event.action, event.previous_name, event.flow_name, event.by) == (
        "renamed",
        "example",
        "nightly",
        "operator",
    )


def test_a_rename_records_no_revision_since_the_definition_is_unchanged(client, flow):
    from flows.models import FlowRevision

    rename(client, "nightly")

    assert not FlowRevision.objects.exists()


def test_the_flow_page_offers_rename_to_users_who_may_change_it(client, flow):
    html = client.get("/flows/example/").content.decode()

    assert 'action="/flows/example/rename/"' in html
    assert 'name="new_name"' in html
