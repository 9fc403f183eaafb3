"""`create_wf_tables --check`: the indexes the dashboard relies on, reported, never added."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from flows.wf_schema import missing_indexes

pytestmark = pytest.mark.django_db(transaction=True)

# Hand-made tables of an older installation: the columns, none of the secondary indexes.
BARE_SYSLOG = """CREATE TABLE wf_syslog (
    id BIGINT NOT NULL PRIMARY KEY {auto},
    created_at DATETIME NOT NULL,
    level VARCHAR(16) NOT NULL,
    logger_name VARCHAR(255) NOT NULL,
    message TEXT NOT NULL)"""


def table_ddl() -> str:
    auto = "AUTO_INCREMENT" if connection.vendor == "mysql" else ""
    return BARE_SYSLOG.format(auto=auto)


@pytest.fixture
def bare_syslog():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE wf_syslog")
        cursor.execute(table_ddl())
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE wf_syslog")
    call_command("create_wf_tables", verbosity=0)


def check() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("create_wf_tables", "--check", stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_tables_made_by_create_wf_tables_have_every_needed_index():
    assert missing_indexes() == []
    assert check()[0] == 0


def test_a_table_without_the_indexes_is_reported_with_the_ddl_to_add_them(bare_syslog):
    code, out = check()

    assert code == 1
    assert {index.name for index in missing_indexes()} == {
        "ix_wf_syslog_level_id",
        "ix_wf_syslog_logger_id",
        "ix_wf_syslog_created",
    }
    assert "wf_syslog: missing an index on (level, id)" in out
    assert "nothing was changed" in out


def test_the_check_never_changes_the_table(bare_syslog):
    before = connection.introspection.get_constraints(connection.cursor(), "wf_syslog")

    check()

    assert connection.introspection.get_constraints(connection.cursor(), "wf_syslog") == before


def test_the_printed_ddl_adds_what_was_missing(bare_syslog):
    with connection.cursor() as cursor:
        for index in missing_indexes():
            cursor.execute(index.ddl(connection.vendor).rstrip(";"))

    assert missing_indexes() == []
