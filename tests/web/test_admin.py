"""The admin for runs is read-only; flow revisions are visible there but not editable."""

import pytest

from flows.editing import json_hash
from flows.models import Flow
from runner.models import RunStep

from .conftest import make_run

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
    loaded = json_hash(flow.flow_json)
    Flow.objects.filter(pk=flow.pk).update(flow_json=EXAMPLE_TEXT.replace("hello", "theirs"))

    response = admin_client.post(
        f"/admin/flows/flow/{flow.pk}/change/",
        {
            "flow_name": "f",
            "flow_json": EXAMPLE_TEXT.replace("hello", "mine"),
            "enabled": "on",
            "base_hash": loaded,
        },
    )

    assert response.status_code == 200
    assert b"Someone else saved this flow" in response.content
    assert "theirs" in Flow.objects.get(pk=flow.pk).flow_json
