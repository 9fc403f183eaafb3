"""A MySQL database whose wf_ tables were made by hand, with other compatible types."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from flows.models import Flow

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "mysql", reason="MySQL/MariaDB lane only"),
]

LEGACY_DDL = [
    """CREATE TABLE wf_flow (
         id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         flow_name VARCHAR(200) NOT NULL UNIQUE,
         flow_json LONGTEXT,
         enabled TINYINT(4) NOT NULL DEFAULT 1,
         deleted TINYINT(4) NOT NULL DEFAULT 0,
         created_at DATETIME NOT NULL,
         updated_at DATETIME NOT NULL
       ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE wf_syslog (
         id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         created_at DATETIME NOT NULL,
         level VARCHAR(10) NOT NULL,
         logger_name VARCHAR(100) NOT NULL,
         message TEXT
       ) DEFAULT CHARSET=utf8mb4""",
]


def show_create(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW CREATE TABLE {table}")
        return cursor.fetchone()[1]


def replaced_tables(tables: str, statements: list[str]):
    """Swap the standard wf_ tables for hand-made ones, then put the standard ones back."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {tables}")
        for statement in statements:
            cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {tables}")
    call_command("create_wf_tables", verbosity=0)


LEGACY_ROW = (
    "INSERT INTO wf_flow (flow_name, flow_json, enabled, deleted, created_at, updated_at)"
    " VALUES ('legacy', '{\"procedures\": []}', 1, 0, '2025-12-19 08:39:02', '2025-12-19 08:39:02')"
)


@pytest.fixture
def legacy_tables():
    yield from replaced_tables("wf_flow, wf_syslog", [*LEGACY_DDL, LEGACY_ROW])


@pytest.fixture
def admin_client_(client):
    client.force_login(User.objects.create_superuser("root", "", "pw"))
    return client


def test_migrate_leaves_hand_made_tables_untouched(legacy_tables):
    before = {table: show_create(table) for table in ("wf_flow", "wf_syslog")}

    call_command("migrate", verbosity=0)
    call_command("create_wf_tables", verbosity=0)

    assert {table: show_create(table) for table in ("wf_flow", "wf_syslog")} == before


def test_admin_lists_flows_of_hand_made_table(legacy_tables, admin_client_):
    response = admin_client_.get("/admin/flows/flow/")

    assert response.status_code == 200
    assert b"legacy" in response.content


def test_admin_edits_flow_of_hand_made_table(legacy_tables, admin_client_):
    flow = Flow.objects.get(flow_name="legacy")
    text = '{"procedures": [{"name": "s", "mod": "common.Kt", "method": "prt", "params": {"msg": "hé 🚀"}}]}'

    response = admin_client_.post(
        f"/admin/flows/flow/{flow.pk}/change/",
        {"flow_name": "legacy", "flow_json": text, "enabled": "on"},
    )

    assert response.status_code == 302
    assert Flow.objects.get(pk=flow.pk).flow_json == text


def test_admin_lists_logs_of_hand_made_table(legacy_tables, admin_client_):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wf_syslog (created_at, level, logger_name, message)"
            " VALUES ('2025-12-19 08:39:02', 'INFO', 'workflow', 'msg=hello')"
        )

    response = admin_client_.get("/admin/flows/syslog/")

    assert response.status_code == 200
    assert b"msg=hello" in response.content


@pytest.fixture
def latin1_flow_table():
    yield from replaced_tables("wf_flow", [LEGACY_DDL[0].replace("utf8mb4", "latin1"), LEGACY_ROW])


def test_the_editor_saves_accented_text_twice_on_a_latin1_table(latin1_flow_table):
    from flows.editing import json_hash, save_definition

    flow = Flow.objects.get(flow_name="legacy")
    first = '{"procedures": [{"name": "s", "mod": "common.Kt", "method": "prt", "params": {"msg": "café"}}]}'
    save_definition(flow, first, base_hash=json_hash(flow.flow_json), user="ann")

    second = first.replace("café", "crème")
    save_definition(flow, second, base_hash=json_hash(first), user="ann")

    assert Flow.objects.get(pk=flow.pk).flow_json == second
