"""The admin for runs is read-only; flow revisions are visible there but not editable."""

import pytest

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
