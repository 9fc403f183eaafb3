"""Login, staff and one permission per action: refusals are 403s, not hidden buttons."""

import pytest
from django.test import Client
from django.urls import get_resolver, resolve
from pytest_django.asserts import assertNotContains

from flows.models import Flow
from runner.models import Run
from tests.factories import EXAMPLE_JSON, client_for, make_user

pytestmark = pytest.mark.django_db

PAGES = {
    "overview": ("/", "view_flow"),
    "flow": ("/flows/example/", "view_flow"),
    "deleted flow": ("/flows/gone/", "view_flow"),
    "new flow": ("/new-flow/", "change_flow"),
    "deleted flows": ("/deleted-flows/", "view_flow"),
    "procedures": ("/procedures/", "view_flow"),
    "procedure catalogue": ("/procedures/catalogue.json", "view_flow"),
    "revisions": ("/flows/example/revisions/", "view_flow"),
    "revision": ("/flows/example/revisions/{revision}/", "view_flow"),
    "runs": ("/runs/", "view_flow"),
    "run": ("/runs/{run}/", "view_flow"),
    "run status": ("/runs/{run}/status/", "view_flow"),
    "run log lines": ("/runs/{run}/logs/?after=0", "view_flow"),
    "run's flow": ("/runs/{run}/flow/", "view_flow"),  # a redirect to the flow's page
    "logs": ("/logs/", "view_syslog"),
    "log tail": ("/logs/tail/?after=0", "view_syslog"),
    "log download": ("/logs/download/?level=ERROR", "view_syslog"),
    "schedules": ("/schedules/", "view_flow"),
    "schedule preview": ("/schedules/preview/?cron=30+2+*+*+*&timezone=Europe/Berlin", "view_flow"),
    "schedule edit form": ("/schedules/{schedule}/edit/", "change_flow"),
    "workers": ("/workers/", "view_flow"),
    "storage": ("/storage/", "view_syslog"),
    "channels": ("/channels/", "view_flow"),
}

ACTIONS = {
    "validate": ("/flows/example/validate/", "view_flow", {"flow_json": EXAMPLE_JSON}),
    "save": ("/flows/example/save/", "change_flow", {"flow_json": EXAMPLE_JSON, "base": ""}),
    # Drops only the user's own unsaved text, kept in their session.
    "discard draft": ("/flows/example/discard-draft/", "view_flow", {}),
    "describe": ("/flows/example/description/", "change_flow", {"description": "nightly import"}),
    "enable": ("/flows/example/enable/", "change_flow", {}),
    "disable": ("/flows/example/disable/", "change_flow", {}),
    "delete": ("/flows/example/delete/", "change_flow", {}),
    "rename": ("/flows/example/rename/", "change_flow", {"new_name": "renamed"}),
    "restore": ("/flows/gone/restore/", "change_flow", {}),
    "create": ("/new-flow/", "change_flow", {"flow_name": "new", "flow_json": EXAMPLE_JSON}),
    "restore revision": ("/flows/example/revisions/{revision}/restore/", "change_flow", {"base": ""}),
    "run": ("/flows/example/run/", "run_flow", {"input": ""}),
    "cancel": ("/runs/{run}/cancel/", "run_flow", {}),
    "re-run": ("/runs/{run}/rerun/", "run_flow", {}),
    "resume": ("/runs/{run}/resume/", "run_flow", {}),
    "add schedule": ("/flows/example/schedules/add/", "change_flow", {"cron": "@daily", "timezone": "UTC"}),
    "edit schedule": ("/schedules/{schedule}/edit/", "change_flow", {"cron": "@hourly", "timezone": "UTC"}),
    "pause schedule": ("/schedules/{schedule}/pause/", "change_flow", {}),
    "resume schedule": ("/schedules/{schedule}/resume/", "change_flow", {}),
    "remove schedule": ("/schedules/{schedule}/remove/", "change_flow", {}),
    "add channel": ("/channels/add/", "manage_channels", {"name": "ops2", "url": "json://127.0.0.1:9/hook"}),
    "test channel": ("/channels/{channel}/test/", "manage_channels", {}),
    "remove channel": ("/channels/{channel}/remove/", "manage_channels", {}),
}

ALL = [*PAGES.values(), *ACTIONS.values()]
# Open without login, for load balancers and Prometheus (tests/web/test_health.py, test_metrics.py).
PUBLIC = {"health": "/health", "metrics": "/metrics"}


@pytest.fixture
def world(world):
    """The conftest's world, with a schedule of the example flow and a channel."""
    from alerts.models import Channel
    from schedules.editing import create

    schedule = create(world["flow"], cron_text="30 2 * * *", tz_name="Europe/Berlin")
    return {
        **world,
        "schedule": schedule,
        "channel": Channel.objects.create(name="ops", url="json://127.0.0.1:9/"),
    }


def url(template: str, world) -> str:
    return template.format(
        revision=world["revision"].number,
        run=world["run"].pk,
        schedule=world["schedule"].pk,
        channel=world["channel"].pk,
    )


def test_the_matrix_covers_every_named_route_of_the_dashboard():
    # A new page or action must say who may use it: add it to PAGES or ACTIONS.
    dashboard = {pattern.name for pattern in get_resolver("flows.urls").url_patterns if pattern.name}
    listed = {
        resolve(template.split("?")[0].format(revision=1, run=1, schedule=1, channel=1)).url_name
        for template, *_ in ALL
    } | {resolve(path).url_name for path in PUBLIC.values()}

    assert dashboard - listed == set(), "routes missing from the access matrix"


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_for_a_permitted_staff_user(client, world, name):
    response = client.get(url(PAGES[name][0], world), follow=True)

    assert response.status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(world, name):
    response = Client().get(url(PAGES[name][0], world))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("name", ACTIONS)
def test_anonymous_posts_are_sent_to_the_login_page_and_change_nothing(world, name):
    path, _, data = ACTIONS[name]

    response = Client().post(url(path, world), data)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert Run.objects.count() == 1


def test_an_htmx_request_without_a_session_redirects_the_whole_page_to_login(world):
    response = Client().get(
        "/runs/1/status/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/runs/1/"
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/admin/login/?next=%2Fruns%2F1%2F"


@pytest.mark.parametrize("name", PAGES)
def test_non_staff_users_are_refused_every_page(world, name):
    user = make_user("outsider", "view_flow", "change_flow", "run_flow", "view_syslog", staff=False)

    response = client_for(user).get(url(PAGES[name][0], world))

    assert response.status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_non_staff_users_are_refused_every_action(world, name):
    user = make_user("outsider", "view_flow", "change_flow", "run_flow", "view_syslog", staff=False)
    path, _, data = ACTIONS[name]

    response = client_for(user).post(url(path, world), data)

    assert response.status_code == 403


@pytest.mark.parametrize("name", PAGES)
def test_a_page_is_refused_without_its_permission(world, lacking, name):
    path, perm = PAGES[name]

    response = lacking(perm).get(url(path, world))

    assert response.status_code == 403


def test_the_new_flow_page_needs_view_flow_as_well_as_change_flow(world, lacking):
    response = lacking("view_flow").get("/new-flow/")

    assert response.status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_an_action_is_refused_without_its_permission(world, lacking, name):
    path, perm, data = ACTIONS[name]

    response = lacking(perm).post(url(path, world), data)

    assert response.status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_an_action_is_refused_without_the_view_permission(world, lacking, name):
    path, _, data = ACTIONS[name]

    response = lacking("view_flow").post(url(path, world), data)

    assert response.status_code == 403


def test_refused_actions_change_nothing(world, lacking):
    no_change = lacking("change_flow")
    no_run = lacking("run_flow")

    no_change.post("/flows/example/disable/")
    no_change.post("/flows/example/delete/")
    no_change.post("/flows/example/rename/", {"new_name": "renamed"})
    no_change.post("/flows/gone/restore/")
    no_run.post("/flows/example/run/", {"input": ""})
    no_run.post(f"/runs/{world['run'].pk}/cancel/")

    example = Flow.all_objects.get(pk=world["flow"].pk)
    assert (example.flow_name, example.enabled, example.deleted) == ("example", True, False)
    assert Flow.all_objects.get(flow_name="gone").deleted is True
    assert Run.objects.count() == 1
    assert Run.objects.get().cancel_requested is False


@pytest.mark.parametrize("name", ["validate", "save", "rename", "run", "cancel"])
def test_actions_refuse_get(client, world, name):
    response = client.get(url(ACTIONS[name][0], world))

    assert response.status_code == 405


def test_the_editor_hides_save_and_state_buttons_from_a_user_without_change(world, lacking):
    html = lacking("change_flow").get("/flows/example/").content.decode()

    assert 'id="save-flow"' not in html
    assert 'id="delete-flow"' not in html
    assert 'id="rename-flow"' not in html
    assert "readonly" in html


def test_the_editor_hides_the_run_form_from_a_user_without_run(world, lacking):
    response = lacking("run_flow").get("/flows/example/")

    assertNotContains(response, 'id="run-flow"')


def test_the_logs_link_is_hidden_from_a_user_without_view_syslog(world, lacking):
    response = lacking("view_syslog").get("/")

    assertNotContains(response, 'href="/logs/"')
    assertNotContains(response, 'id="recent-errors"')


def test_a_superuser_may_do_everything(world, admin_client):
    assert admin_client.get("/").status_code == 200
    assert admin_client.get("/logs/").status_code == 200
