import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from flows.models import Flow

pytestmark = pytest.mark.django_db


def bootstrap(monkeypatch, password: str | None = None) -> str:
    if password is None:
        monkeypatch.delenv("WORKFLOW_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("WORKFLOW_ADMIN_PASSWORD", password)
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    return out.getvalue()


def test_bootstrap_loads_the_seed_example_flow(monkeypatch):
    bootstrap(monkeypatch)

    steps = json.loads(Flow.objects.get(flow_name="example").flow_json)["procedures"]
    assert [(s["name"], s["params"]["msg"]) for s in steps] == [("step1", "hello"), ("step2", "@step1.msg")]


def test_bootstrap_never_overwrites_an_existing_example_flow(monkeypatch):
    Flow.objects.create(flow_name="example", flow_json="{}", deleted=True)

    bootstrap(monkeypatch)

    assert Flow.all_objects.get(flow_name="example").flow_json == "{}"


def test_bootstrap_prints_the_generated_admin_password_that_logs_in(monkeypatch, client):
    out = bootstrap(monkeypatch)
    password = out.split("with password: ")[1].split()[0]

    assert client.login(username="admin", password=password)


def test_bootstrap_takes_the_admin_password_from_the_environment(monkeypatch, client):
    out = bootstrap(monkeypatch, password="s3cret-from-env")

    assert "s3cret-from-env" not in out
    assert client.login(username="admin", password="s3cret-from-env")


def test_bootstrap_creates_no_second_admin(monkeypatch):
    bootstrap(monkeypatch)
    out = bootstrap(monkeypatch)

    assert User.objects.filter(is_superuser=True).count() == 1
    assert "password" not in out
