"""A flow's history: who enabled, disabled, deleted, restored or renamed it and when, beside
its revisions on the flow page, and in the admin's log."""

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType

from flows.editing import record_revision, set_enabled
from flows.models import Flow, FlowEvent
from tests.factories import EXAMPLE_JSON, client_for, make_user

pytestmark = pytest.mark.django_db

# action: (how the dashboard does it, the flow's state before)
STATE_CHANGES = {
    "disabled": ("/flows/example/disable/", {}),
    "enabled": ("/flows/example/enable/", {"enabled": False}),
    "deleted": ("/flows/example/delete/", {}),
    "restored": ("/flows/example/restore/", {"deleted": True}),
}


@pytest.mark.parametrize("action", STATE_CHANGES)
def test_a_state_change_is_recorded_with_who_did_it(client, flow, action):
    path, before = STATE_CHANGES[action]
    Flow.all_objects.filter(pk=flow.pk).update(**before)

    client.post(path)

    event = FlowEvent.objects.get(flow_id=flow.pk)
    assert (event.action, event.flow_name, event.by) == (action, "example", "operator")


@pytest.mark.parametrize("action", STATE_CHANGES)
def test_a_state_change_is_in_the_admin_log_of_the_flow(client, operator, flow, action):
    path, before = STATE_CHANGES[action]
    Flow.all_objects.filter(pk=flow.pk).update(**before)

    client.post(path)

    entry = LogEntry.objects.get()
    flag = DELETION if action == "deleted" else CHANGE
    assert (entry.user_id, entry.object_id, entry.action_flag) == (operator.pk, str(flow.pk), flag)
    assert entry.content_type == ContentType.objects.get_for_model(Flow)
    assert entry.get_change_message() == f"{action.capitalize()}."


def test_the_admin_shows_a_dashboard_change_among_its_recent_actions(flow):
    admin = make_user("root", "view_flow", "change_flow")
    admin.is_superuser = True
    admin.save()
    client = client_for(admin)

    client.post("/flows/example/disable/")

    assert f'href="/admin/flows/flow/{flow.pk}/change/">example</a>' in client.get("/admin/").content.decode()
    assert "Disabled." in client.get(f"/admin/flows/flow/{flow.pk}/history/").content.decode()


def test_a_state_change_and_its_record_are_written_together(flow, operator, monkeypatch):
    def refuse(**fields):
        raise RuntimeError("the history table is unavailable")

    monkeypatch.setattr(FlowEvent.objects, "create", refuse)

    with pytest.raises(RuntimeError):
        set_enabled(flow, False, by=operator)

    assert Flow.objects.get(pk=flow.pk).enabled is True


def test_a_rename_is_in_the_history_with_the_old_name(client, flow):
    client.post("/flows/example/rename/", {"new_name": "nightly"})

    html = client.get("/flows/nightly/").content.decode()

    assert "renamed from example by operator" in html


def test_the_flow_page_merges_revisions_and_events_newest_first(client, flow):
    record_revision(flow, EXAMPLE_JSON, user="ann", note="created")
    client_for(make_user("bob", "view_flow", "change_flow")).post("/flows/example/disable/")
    record_revision(flow, EXAMPLE_JSON, user="ann", note="edit")

    html = client.get("/flows/example/").content.decode()

    history = html[html.index('id="history-list"') :]
    second, disabled, first = (
        history.index('data-revision="2"'),
        history.index('data-event="disabled"'),
        history.index('data-revision="1"'),
    )
    assert second < disabled < first
    assert "saved by ann" in history and "disabled by bob" in history


def test_the_flow_page_shows_the_ten_newest_history_entries(client, flow):
    for _ in range(8):
        record_revision(flow, EXAMPLE_JSON, user="ann", note="edit")
    for _ in range(4):
        client.post("/flows/example/disable/")

    html = client.get("/flows/example/").content.decode()

    assert html.count("data-event=") == 4
    assert html.count("data-revision=") == 6
    assert 'data-revision="2"' not in html


def test_an_admin_change_of_the_enabled_state_is_in_the_history_once(admin_client, flow):
    form = admin_client.get(f"/admin/flows/flow/{flow.pk}/change/").context["adminform"].form
    data = {"flow_name": "example", "flow_json": EXAMPLE_JSON, "base_hash": form["base_hash"].value()}

    admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", data)  # "enabled" unticked

    assert list(FlowEvent.objects.values_list("action", "by")) == [("disabled", "admin")]
    assert LogEntry.objects.count() == 1  # Django's own entry for the change


def test_an_admin_rename_is_in_the_history(admin_client, flow):
    form = admin_client.get(f"/admin/flows/flow/{flow.pk}/change/").context["adminform"].form
    data = {
        "flow_name": "nightly",
        "flow_json": EXAMPLE_JSON,
        "enabled": "on",
        "base_hash": form["base_hash"].value(),
    }

    admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", data)

    event = FlowEvent.objects.get()
    assert (event.action, event.previous_name, event.flow_name) == ("renamed", "example", "nightly")


def test_an_admin_delete_is_in_the_history(admin_client, flow):
    admin_client.post(f"/admin/flows/flow/{flow.pk}/delete/", {"post": "yes"})

    assert list(FlowEvent.objects.values_list("action", flat=True)) == ["deleted"]
    assert Flow.all_objects.get(pk=flow.pk).deleted is True


def test_the_admins_restore_action_is_in_the_history_and_the_admin_log(admin_client, flow):
    Flow.all_objects.filter(pk=flow.pk).update(deleted=True)

    admin_client.post(
        "/admin/flows/flow/?deleted=1", {"action": "restore_selected", "_selected_action": [flow.pk]}
    )

    assert list(FlowEvent.objects.values_list("action", flat=True)) == ["restored"]
    assert LogEntry.objects.get().get_change_message() == "Restored."
