"""The rows and definitions tests build: one step, one example flow, one of each record."""

import json

from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from flows.models import Flow, SysLog
from runner.models import Run

ALL_PERMS = ("view_flow", "change_flow", "run_flow", "view_syslog", "manage_channels")


def step(name: str, method: str = "prt", mod: str = "common.Kt", **params) -> dict:
    return {"name": name, "mod": mod, "method": method, "params": params}


def definition(*steps: dict) -> str:
    """A flow's JSON, pretty-printed as someone editing it by hand would keep it."""
    return json.dumps({"procedures": list(steps)}, indent=2)


# The example flow `example`: two steps, the second reading the first's result.
EXAMPLE = (step("step1", msg="hello"), step("step2", msg="@step1.msg"))
EXAMPLE_JSON = definition(*EXAMPLE)


def make_flow(name: str, *steps: dict, **fields) -> Flow:
    return Flow.objects.create(flow_name=name, flow_json=definition(*steps), **fields)


def flow_from_text(name: str, text: str) -> Flow:
    """A flow whose JSON text is stored exactly as given (escapes included)."""
    json.loads(text)  # the test's own text must at least be JSON
    return Flow.objects.create(flow_name=name, flow_json=text)


def make_user(username: str, *perms: str, password: str | None = None, staff: bool = True) -> User:
    # Without a password the user is fast to create; tests log in with force_login.
    user = User.objects.create_user(username, password=password, is_staff=staff)
    # The dashboard's permissions are the flows app's, and alerts' "manage channels".
    apps = ("flows", "alerts")
    user.user_permissions.set(Permission.objects.filter(codename__in=perms, content_type__app_label__in=apps))
    return user


def client_for(user: User, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def make_run(flow_name: str = "example", status: str = "succeeded", **fields) -> Run:
    now = timezone.now()
    finished = status in Run.FINISHED and status != "cancelled"
    defaults = {
        "definition": EXAMPLE_JSON,
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
    fields.setdefault("created_at", timezone.now())
    return SysLog.objects.create(level=level, logger_name=logger, message=message, **fields)
