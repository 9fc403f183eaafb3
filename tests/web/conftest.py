import pytest
from django.contrib.auth.models import User
from django.test import Client

from flows.models import Flow
from tests.factories import ALL_PERMS, EXAMPLE_JSON, client_for, log, make_run, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db) -> User:
    """A staff user with every dashboard permission (not a superuser)."""
    return make_user("operator", *ALL_PERMS)


@pytest.fixture
def client(operator) -> Client:
    return client_for(operator)


@pytest.fixture
def lacking(db):
    """A client for a staff user with every dashboard permission except the one named."""

    def make(missing: str) -> Client:
        return client_for(make_user(f"no-{missing}", *(p for p in ALL_PERMS if p != missing)))

    return make


@pytest.fixture
def flow(db) -> Flow:
    return Flow.objects.create(flow_name="example", flow_json=EXAMPLE_JSON)


@pytest.fixture
def world(flow):
    """One of everything the pages show: a flow with a revision, a run, a deleted flow, logs."""
    from flows.editing import record_revision

    deleted = Flow.objects.create(flow_name="gone", flow_json=EXAMPLE_JSON, deleted=True)
    revision = record_revision(flow, flow.flow_json, user="operator", note="created")
    run = make_run(status="running")
    log("a line", logger=f"workflow.run.{run.pk}")
    return {"flow": flow, "deleted": deleted, "revision": revision, "run": run}
