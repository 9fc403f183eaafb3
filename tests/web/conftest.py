import json

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from flows.models import Flow, SysLog
from runner.models import Run

pytestmark = pytest.mark.django_db

ALL_PERMS = ("view_flow", "change_flow", "run_flow", "view_syslog")


def step(name: str, msg: object = "hello", **extra) -> dict:
    return {"name": name, "mod": "common.Kt", "method": "prt", "params": {"msg": msg, **extra}}


def definition(*steps: dict) -> str:
    return json.dumps({"procedures": list(steps)}, indent=2)


EXAMPLE = definition(step("step1"), step("step2", "@step1.msg"))


def make_user(username: str, *perms: str, staff: bool = True) -> User:
    user = User.objects.create_user(username, is_staff=staff)  # no password: fast, and force_login
    user.user_permissions.set(Permission.objects.filter(codename__in=perms, content_type__app_label="flows"))
    return user


def client_for(user: User, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


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
    return Flow.objects.create(flow_name="example", flow_json=EXAMPLE)


def make_run(flow_name: str = "example", status: str = "succeeded", **fields) -> Run:
    now = timezone.now()
    finished = status in Run.FINISHED and status != "cancelled"
    defaults = {
        "definition": EXAMPLE,
        "trigger": "web",
        "triggered_by": "operator",
        "status": status,
        "started_at": now if status != "queued" else None,
        "finished_at": now if finished else None,
        # As create_run does: the run keeps the id of the flow it belongs to.
        "flow_id": Flow.all_objects.filter(flow_name=flow_name).values_list("pk", flat=True).first(),
    }
    return Run.objects.create(flow_name=flow_name, **{**defaults, **fields})


def log(message: str, level: str = "INFO", logger: str = "workflow", **fields) -> SysLog:
    return SysLog.objects.create(
        created_at=fields.pop("created_at", timezone.now()), level=level, logger_name=logger, message=message
    )


@pytest.fixture
def world(flow):
    """One of everything the pages show: a flow with a revision, a run, a deleted flow, logs."""
    from flows.editing import record_revision

    deleted = Flow.objects.create(flow_name="gone", flow_json=EXAMPLE, deleted=True)
    revision = record_revision(flow, flow.flow_json, user="operator", note="created")
    run = make_run(status="running")
    log("a line", logger=f"workflow.run.{run.pk}")
    return {"flow": flow, "deleted": deleted, "revision": revision, "run": run}
