import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from flows.models import Flow
from flows.wf_schema import WF_TABLES

pytestmark = pytest.mark.django_db


def test_makemigrations_finds_nothing_to_do():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def all_migration_sql() -> str:
    out = io.StringIO()
    for app_label, name in sorted(MigrationLoader(connection).disk_migrations):
        call_command("sqlmigrate", app_label, name, stdout=out)
    return out.getvalue()


# sqlmigrate needs a schema editor, which SQLite refuses inside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_no_migration_creates_alters_or_drops_the_wf_tables():
    sql = all_migration_sql().lower()

    assert "create table" in sql  # the app's own tables are there, so the SQL was collected
    for table in WF_TABLES:
        assert table not in sql


def test_the_wf_models_are_unmanaged():
    from flows.models import SysLog

    assert (Flow._meta.managed, SysLog._meta.managed) == (False, False)
    assert (Flow._meta.db_table, SysLog._meta.db_table) == ("wf_flow", "wf_syslog")


def test_create_wf_tables_leaves_present_tables_and_their_rows_alone():
    Flow.objects.create(flow_name="keep-me", flow_json="{}")
    out = io.StringIO()

    call_command("create_wf_tables", stdout=out)
    call_command("create_wf_tables", stdout=out)

    assert out.getvalue().count("already present, left untouched") == 4
    assert Flow.objects.filter(flow_name="keep-me").exists()


@pytest.mark.django_db(transaction=True)
def test_create_wf_tables_creates_a_missing_table():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE wf_syslog")
    out = io.StringIO()

    call_command("create_wf_tables", stdout=out)

    assert "wf_syslog: created" in out.getvalue()
    assert "wf_flow: already present" in out.getvalue()
    assert "wf_syslog" in connection.introspection.table_names()
