"""The admin: runs read-only, revisions visible but not editable, flows edited under the dashboard's rules,
the product's records first, and the product's own login and logout pages."""

import re

import pytest
from django.test import Client

from flows.models import Flow
from runner.models import RunStep
from tests.factories import make_run, make_user

pytestmark = pytest.mark.django_db


def test_the_run_admin_lists_and_shows_runs_with_their_steps(admin_client, flow):
    run = make_run(status="failed", traceback="Traceback <boom>")
    RunStep.objects.create(run=run, index=0, name="step1", status="failed", started_at=run.started_at)

    listing = admin_client.get("/admin/runner/run/")
    detail = admin_client.get(f"/admin/runner/run/{run.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    html = detail.content.decode()
    assert "step1" in html
    assert "Traceback &lt;boom&gt;" in html
    assert f'href="/runs/{run.pk}/"' in html


def test_the_run_admin_cannot_add_change_or_delete(admin_client, flow):
    run = make_run()

    assert admin_client.get("/admin/runner/run/add/").status_code == 403
    assert admin_client.post(f"/admin/runner/run/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/runner/run/{run.pk}/change/", {"status": "queued"}).status_code == 403


def test_the_revision_admin_is_read_only(admin_client):
    assert admin_client.get("/admin/flows/flowrevision/").status_code == 200
    assert admin_client.get("/admin/flows/flowrevision/add/").status_code == 403


EXAMPLE_TEXT = (
    '{"procedures": [{"name": "s", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}}]}'
)


def test_an_admin_save_over_someone_elses_newer_version_is_refused(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)
    data = loaded_form(admin_client, flow)
    Flow.objects.filter(pk=flow.pk).update(flow_json=EXAMPLE_TEXT.replace("hello", "theirs"))

    response = admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {**data, "flow_json": EXAMPLE_TEXT.replace("hello", "mine")}
    )

    assert response.status_code == 200
    assert b"Someone else saved this flow" in response.content
    assert "theirs" in Flow.objects.get(pk=flow.pk).flow_json


def loaded_form(admin_client, flow: Flow) -> dict:
    """The change form's fields as the admin page rendered them (its version token included)."""
    html = admin_client.get(f"/admin/flows/flow/{flow.pk}/change/").content.decode()
    token = re.search(r'name="base_hash" value="([0-9a-f]+)"', html).group(1)
    return {"flow_name": flow.flow_name, "flow_json": flow.flow_json, "enabled": "on", "base_hash": token}


def test_an_admin_save_with_nothing_changed_meanwhile_is_stored(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)
    data = loaded_form(admin_client, flow)

    mine = EXAMPLE_TEXT.replace("hello", "mine")

    response = admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", {**data, "flow_json": mine})

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).flow_json == mine


def test_an_admin_save_does_not_re_enable_a_flow_disabled_meanwhile(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)
    data = loaded_form(admin_client, flow)
    Flow.objects.filter(pk=flow.pk).update(enabled=False)

    response = admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", data)

    assert b"Someone else saved this flow" in response.content
    assert Flow.objects.get(pk=flow.pk).enabled is False


def test_an_admin_save_is_refused_for_a_flow_renamed_meanwhile(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)
    data = loaded_form(admin_client, flow)
    Flow.objects.filter(pk=flow.pk).update(flow_name="theirs")

    response = admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", data)

    assert b"Someone else saved this flow" in response.content
    assert Flow.objects.get(pk=flow.pk).flow_name == "theirs"


def test_an_admin_save_is_refused_for_a_flow_deleted_meanwhile(admin_client):
    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)
    data = loaded_form(admin_client, flow)
    Flow.objects.filter(pk=flow.pk).update(deleted=True)

    response = admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", {**data, "enabled": ""})

    assert b"Someone else saved this flow" in response.content
    assert Flow.all_objects.get(pk=flow.pk).enabled is True


def test_a_new_admin_flow_named_like_a_deleted_one_is_refused_with_a_message(admin_client):
    Flow.objects.create(flow_name="gone", flow_json=EXAMPLE_TEXT, deleted=True)

    response = admin_client.post(
        "/admin/flows/flow/add/", {"flow_name": "gone", "flow_json": EXAMPLE_TEXT, "enabled": "on"}
    )

    assert response.status_code == 200
    assert b"already exists (perhaps among the deleted flows)" in response.content
    assert Flow.all_objects.count() == 1


def test_an_admin_rename_to_a_deleted_flows_name_is_refused_with_a_message(admin_client):
    Flow.objects.create(flow_name="gone", flow_json=EXAMPLE_TEXT, deleted=True)
    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)

    response = admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {**loaded_form(admin_client, flow), "flow_name": "gone"}
    )

    assert response.status_code == 200
    assert b"already exists (perhaps among the deleted flows)" in response.content
    assert Flow.objects.get(pk=flow.pk).flow_name == "f"


@pytest.mark.parametrize("name", [".", "..", "a/b", "/", "tab\there", "nul\x00", "\u202eevil"])
def test_the_admin_refuses_the_names_the_dashboard_refuses(admin_client, name):
    response = admin_client.post(
        "/admin/flows/flow/add/", {"flow_name": name, "flow_json": EXAMPLE_TEXT, "enabled": "on"}
    )

    assert response.status_code == 200
    assert b"errornote" in response.content
    assert not Flow.all_objects.exists()


def test_an_admin_edit_keeps_a_legacy_name_the_rules_would_refuse_today(admin_client):
    flow = Flow.objects.create(flow_name="a/b", flow_json=EXAMPLE_TEXT)

    response = admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/", {**loaded_form(admin_client, flow), "enabled": ""}
    )

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).enabled is False


def test_an_admin_rename_keeps_the_flows_runs_and_records_a_revision(admin_client, client):
    from flows.models import FlowRevision

    flow = Flow.objects.create(flow_name="f", flow_json=EXAMPLE_TEXT)
    run = make_run("f")
    data = {**loaded_form(admin_client, flow), "flow_name": "g"}

    admin_client.post(f"/admin/flows/flow/{flow.pk}/change/", data)

    assert Flow.objects.get(pk=flow.pk).flow_name == "g"
    assert f'data-run="{run.pk}"' in client.get("/flows/g/").content.decode()
    assert FlowRevision.objects.filter(flow_id=flow.pk, flow_name="g").exists()


WITH_LONG_INTEGER = EXAMPLE_TEXT.replace('"hello"', "1" * 5000)


def test_the_admin_flow_list_shows_a_row_with_an_integer_over_4300_digits_as_invalid_json(admin_client):
    Flow.objects.create(flow_name="big", flow_json=WITH_LONG_INTEGER)

    response = admin_client.get("/admin/flows/flow/")

    assert response.status_code == 200
    assert b"invalid JSON" in response.content


def test_adding_a_flow_with_an_integer_over_4300_digits_in_the_admin_is_refused(admin_client):
    response = admin_client.post(
        "/admin/flows/flow/add/", {"flow_name": "big", "flow_json": WITH_LONG_INTEGER, "enabled": "on"}
    )

    assert response.status_code == 200
    assert b"a number in the JSON has more than 4300 digits" in response.content
    assert not Flow.all_objects.filter(flow_name="big").exists()


def test_the_flow_list_offers_no_bulk_delete(admin_client, flow):
    html = admin_client.get("/admin/flows/flow/").content.decode()

    assert 'value="delete_selected"' not in html
    assert '<option value="restore_selected">Restore selected flows</option>' in html


def test_a_bulk_delete_posted_anyway_deletes_nothing(admin_client, flow):
    admin_client.post(
        "/admin/flows/flow/", {"action": "delete_selected", "_selected_action": [flow.pk], "post": "yes"}
    )

    assert Flow.all_objects.get(pk=flow.pk).deleted is False


def test_the_action_button_does_not_read_run(admin_client, flow):
    html = admin_client.get("/admin/flows/flow/").content.decode()

    assert ">Apply to selected</button>" in html
    assert ">Run</button>" not in html


def test_the_flow_delete_page_says_the_delete_is_soft_and_restorable(admin_client, flow):
    html = admin_client.get(f"/admin/flows/flow/{flow.pk}/delete/").content.decode()

    assert 'id="soft-delete-note"' in html and "can be restored" in html
    assert "All of the following related items will be deleted" not in html


def app_captions(html: str) -> list[str]:
    return re.findall(r'<a href="/admin/[a-z_]+/" class="section"[^>]*>([^<]+)</a>', html)


def test_the_admin_index_lists_the_product_first_and_the_queue_plumbing_last(admin_client):
    html = admin_client.get("/admin/").content.decode()

    captions = app_captions(html)
    assert captions[0] == "Workflows"
    assert captions[-1] == "Task queue internals (read-only)"
    assert captions.index("Runner") < captions.index("Authentication and Authorization")


def test_the_workflows_app_lists_flows_revisions_and_log_lines_in_that_order(admin_client):
    html = admin_client.get("/admin/").content.decode()

    flows = html.index('href="/admin/flows/flow/"')
    assert flows < html.index('href="/admin/flows/flowrevision/"') < html.index('href="/admin/flows/syslog/"')


def test_the_admin_sidebar_lists_the_apps_in_the_same_order(admin_client):
    html = admin_client.get("/admin/flows/flow/").content.decode()

    sidebar = html[html.index('id="nav-sidebar"') :]
    captions = app_captions(sidebar)
    assert captions[0] == "Workflows" and captions[-1] == "Task queue internals (read-only)"


def test_the_admin_says_workflows_not_django(admin_client):
    html = admin_client.get("/admin/").content.decode()

    assert "Workflows administration" in html
    assert "Django administration" not in html


def test_task_results_are_read_only(admin_client):
    assert admin_client.get("/admin/django_tasks_database/dbtaskresult/").status_code == 200
    assert admin_client.get("/admin/django_tasks_database/dbtaskresult/add/").status_code == 403


def test_the_login_page_has_the_products_header_and_stylesheet():
    html = Client().get("/admin/login/?next=/").content.decode()

    assert '<a class="brand" href="/">⚙ Workflows</a>' in html
    assert "/static/css/workflow.css" in html
    assert "Django administration" not in html
    assert '<input type="hidden" name="next" value="/">' in html


def test_the_login_page_shows_no_menu_to_a_visitor():
    html = Client().get("/admin/login/").content.decode()

    assert 'href="/runs/"' not in html and "Log out" not in html


def test_a_wrong_password_is_refused_on_the_branded_page(db):
    make_user("ann", password="a-long-test-password")

    response = Client().post("/admin/login/", {"username": "ann", "password": "wrong", "next": "/"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="login-errors"' in html and "correct username and password" in html
    assert "/static/css/workflow.css" in html


def test_logging_out_shows_the_products_logged_out_page(admin_client):
    response = admin_client.post("/admin/logout/")

    html = response.content.decode()
    assert 'id="logged-out"' in html and '<a class="brand" href="/">⚙ Workflows</a>' in html
    assert "Django administration" not in html
