"""Revisions: every save is recorded (editor, restore, creation, admin); list, diff, restore."""

import pytest

from flows.editing import json_hash, record_revision
from flows.models import Flow, FlowRevision
from tests.factories import EXAMPLE_JSON, definition, step

pytestmark = pytest.mark.django_db

V2 = definition(step("step1", msg="second"), step("step2", msg="@step1.msg"))
V3 = definition(step("step1", msg="third"))


def test_a_save_records_a_revision_with_who_and_what(client, flow):
    client.post("/flows/example/save/", {"flow_json": V2, "base": json_hash(EXAMPLE_JSON)})

    revision = FlowRevision.objects.filter(note="edit").get()
    assert (revision.flow_id, revision.flow_name, revision.flow_json) == (flow.pk, "example", V2)
    assert revision.saved_by == "operator"


def test_the_first_save_also_keeps_the_version_it_replaced(client, flow):
    client.post("/flows/example/save/", {"flow_json": V2, "base": json_hash(EXAMPLE_JSON)})

    original = FlowRevision.objects.get(note="original")
    assert original.flow_json == EXAMPLE_JSON


def test_later_saves_record_one_revision_each(client, flow):
    client.post("/flows/example/save/", {"flow_json": V2, "base": json_hash(EXAMPLE_JSON)})
    client.post("/flows/example/save/", {"flow_json": V3, "base": json_hash(V2)})

    notes = list(FlowRevision.objects.order_by("id").values_list("note", flat=True))
    assert notes == ["original", "edit", "edit"]


def test_the_revision_list_marks_the_current_one(client, flow):
    old = record_revision(flow, V2, user="ann", note="edit")
    current = record_revision(flow, EXAMPLE_JSON, user="bob", note="edit")

    html = client.get("/flows/example/revisions/").content.decode()

    assert f"revision {old.number}" in html and f"revision {current.number}" in html
    assert html.count("= current") == 1
    assert html.index(f"revision {current.number}") < html.index(f"revision {old.number}")


def test_the_revision_list_pages_by_keyset(client, flow, monkeypatch):
    monkeypatch.setattr("flows.views.flows.REVISIONS_PAGE", 2)
    revisions = [record_revision(flow, EXAMPLE_JSON, user="", note="edit") for _ in range(3)]

    first = client.get("/flows/example/revisions/").content.decode()
    second = client.get(f"/flows/example/revisions/?before={revisions[1].number}").content.decode()

    assert f"?before={revisions[1].number}" in first
    assert f"revision {revisions[0].number}" in second and f"revision {revisions[2].number}" not in second


def test_a_revision_shows_its_diff_against_the_current_definition(client, flow):
    old = record_revision(flow, V2, user="ann", note="edit")

    html = client.get(f"/flows/example/revisions/{old.number}/").content.decode()

    assert 'id="revision-diff"' in html
    assert '<span class="diff-del">-' in html and "second" in html
    assert '<span class="diff-add">+' in html


def test_a_revision_number_another_flow_has_is_not_found(client, flow):
    other = Flow.objects.create(flow_name="other", flow_json=EXAMPLE_JSON)
    foreign = record_revision(other, EXAMPLE_JSON, user="", note="created")

    assert client.get(f"/flows/example/revisions/{foreign.number}/").status_code == 404


def test_revisions_are_numbered_within_their_flow(flow):
    other = Flow.objects.create(flow_name="other", flow_json=EXAMPLE_JSON)
    record_revision(flow, EXAMPLE_JSON, user="", note="created")
    record_revision(other, EXAMPLE_JSON, user="", note="created")

    second = record_revision(flow, V2, user="", note="edit")

    assert second.number == 2
    assert FlowRevision.objects.get(flow_id=other.pk).number == 1


def test_the_same_number_shows_each_flows_own_revision(client, flow):
    other = Flow.objects.create(flow_name="other", flow_json=EXAMPLE_JSON)
    record_revision(other, V3, user="", note="created")
    record_revision(flow, V2, user="", note="created")

    html = client.get("/flows/example/revisions/1/").content.decode()

    assert "second" in html and "third" not in html


def test_the_save_message_gives_the_flows_own_revision_number(client, flow):
    other = Flow.objects.create(flow_name="other", flow_json=EXAMPLE_JSON)
    for _ in range(3):
        record_revision(other, EXAMPLE_JSON, user="", note="edit")
    record_revision(flow, EXAMPLE_JSON, user="", note="created")

    response = client.post(
        "/flows/example/save/", {"flow_json": V2, "base": json_hash(EXAMPLE_JSON)}, follow=True
    )

    assert "Saved as revision 2." in response.content.decode()


def test_the_restore_message_gives_both_revision_numbers(client, flow):
    record_revision(flow, V2, user="", note="created")
    record_revision(flow, EXAMPLE_JSON, user="", note="edit")

    response = client.post(
        "/flows/example/revisions/1/restore/", {"base": json_hash(EXAMPLE_JSON)}, follow=True
    )

    assert "Restored revision 1 as revision 3." in response.content.decode()


def test_a_renamed_flow_keeps_its_revision_numbers(client, flow):
    record_revision(flow, V2, user="", note="created")
    Flow.objects.filter(pk=flow.pk).update(flow_name="nightly")

    record_revision(Flow.objects.get(pk=flow.pk), V3, user="", note="edit")

    assert client.get("/flows/nightly/revisions/1/").status_code == 200
    assert list(FlowRevision.objects.order_by("number").values_list("number", flat=True)) == [1, 2]


def test_two_revisions_of_one_flow_cannot_share_a_number(flow):
    from django.db import IntegrityError, transaction

    record_revision(flow, EXAMPLE_JSON, user="", note="created")

    with pytest.raises(IntegrityError), transaction.atomic():
        FlowRevision.objects.create(flow_id=flow.pk, number=1, flow_name="example", flow_json=V2)


def test_restoring_a_revision_saves_it_as_a_new_revision(client, flow):
    old = record_revision(flow, V2, user="ann", note="edit")

    response = client.post(
        f"/flows/example/revisions/{old.number}/restore/", {"base": json_hash(EXAMPLE_JSON)}
    )

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).flow_json == V2
    assert FlowRevision.objects.order_by("-id").first().note == "restore"


def test_restoring_a_revision_that_is_invalid_today_is_refused(client, flow):
    old = record_revision(flow, definition(step("s", msg="@missing")), user="", note="edit")

    response = client.post(
        f"/flows/example/revisions/{old.number}/restore/", {"base": json_hash(EXAMPLE_JSON)}
    )

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).flow_json == EXAMPLE_JSON
    assert "was not restored" in client.get(response["Location"]).content.decode()


def test_restoring_over_a_newer_save_is_refused(client, flow):
    old = record_revision(flow, V2, user="ann", note="edit")
    Flow.objects.filter(pk=flow.pk).update(flow_json=V3)

    client.post(f"/flows/example/revisions/{old.number}/restore/", {"base": json_hash(EXAMPLE_JSON)})

    assert Flow.objects.get(pk=flow.pk).flow_json == V3


def test_creating_a_flow_records_its_first_revision(client):
    client.post("/new-flow/", {"flow_name": "fresh", "flow_json": EXAMPLE_JSON})

    assert FlowRevision.objects.get().note == "created"


def test_an_admin_save_records_a_revision(admin_client, flow):
    admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {"flow_name": "example", "flow_json": V2, "enabled": "on"}
    )

    notes = list(FlowRevision.objects.order_by("id").values_list("note", "flow_json"))
    assert notes == [("original", EXAMPLE_JSON), ("admin", V2)]


def test_an_admin_add_records_a_revision(admin_client):
    admin_client.post(
        "/admin/flows/flow/add/", {"flow_name": "added", "flow_json": EXAMPLE_JSON, "enabled": "on"}
    )

    assert FlowRevision.objects.get().flow_name == "added"


def test_an_admin_save_without_a_json_change_records_nothing(admin_client, flow):
    admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {"flow_name": "example", "flow_json": EXAMPLE_JSON}
    )

    assert not FlowRevision.objects.exists()
