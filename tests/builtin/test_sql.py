"""sql.Sql.query and sql.Sql.execute on the test database (SQLite or MariaDB, whichever this
lane runs on), on a SQLite file named in WORKFLOW_SQL_CONNECTIONS, and on MariaDB named there
(the lane's own test database, or TEST_MYSQL_URL on the SQLite lane)."""

import os
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection, utils

from builtin._checks import ParamError
from builtin.sql.Sql import Sql, SqlError, plain
from tests.factories import make_flow, step
from tests.processes import database_url

pytestmark = pytest.mark.django_db

TABLE = "builtin_sql_items"


@pytest.fixture(scope="module")
def items(django_db_setup, django_db_blocker):
    """A table of the test database, made once for the module: each test's rows are rolled back."""
    decimal, binary = ("DECIMAL(12, 3)", "BLOB")
    key = (
        "INTEGER PRIMARY KEY AUTOINCREMENT"
        if connection.vendor == "sqlite"
        else "INTEGER PRIMARY KEY AUTO_INCREMENT"
    )
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE} (id {key}, name VARCHAR(50) NOT NULL UNIQUE, price {decimal},"
            f" made DATE, seen TIMESTAMP NULL, raw {binary})"
        )
    yield TABLE
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


@pytest.fixture
def sql(logger):
    return Sql(logger)


def insert(*names: str) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"INSERT INTO {TABLE} (name, price) VALUES (%s, %s)", [name, Decimal("1.500")])


def test_a_query_returns_rows_as_objects_with_bound_params(sql, items):
    insert("apple", "pear", "plum")

    answer = sql.query(
        {}, {"sql": f"SELECT name FROM {TABLE} WHERE name <> %s ORDER BY name", "params": ["pear"]}
    )

    assert answer == {
        "rows": [{"name": "apple"}, {"name": "plum"}],
        "row_count": 2,
        "truncated": False,
        "columns": ["name"],
    }


def test_named_params_bind_from_an_object(sql, items):
    insert("apple", "pear")

    answer = sql.query({}, {"sql": f"SELECT name FROM {TABLE} WHERE name = %(n)s", "params": {"n": "pear"}})

    assert answer["rows"] == [{"name": "pear"}]


def test_rows_past_max_rows_are_left_out_and_flagged(sql, items):
    insert("a", "b", "c", "d")

    answer = sql.query({}, {"sql": f"SELECT name FROM {TABLE} ORDER BY name", "max_rows": 3})

    assert (answer["row_count"], answer["truncated"]) == (3, True)
    assert [row["name"] for row in answer["rows"]] == ["a", "b", "c"]


def test_max_rows_defaults_to_the_setting_and_cannot_pass_it(sql, items, settings):
    settings.WORKFLOW_SQL_MAX_ROWS = 2
    insert("a", "b", "c")

    assert sql.query({}, {"sql": f"SELECT name FROM {TABLE}"})["row_count"] == 2
    with pytest.raises(ParamError, match="param max_rows must be between 1 and 2"):
        sql.query({}, {"sql": f"SELECT name FROM {TABLE}", "max_rows": 3})


def test_values_come_back_json_safe(sql, items):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (name, price, made, seen, raw) VALUES (%s, %s, %s, %s, %s)",
            ["x", Decimal("12345.678"), date(2026, 1, 31), datetime(2026, 1, 31, 8, 30), b"\x00\xff"],
        )

    row = sql.query({}, {"sql": f"SELECT price, made, seen, raw FROM {TABLE}"})["rows"][0]

    # SQLite keeps a DECIMAL column as a float; MariaDB gives a Decimal, returned as exact text.
    assert row["price"] == (12345.678 if connection.vendor == "sqlite" else "12345.678")
    assert row["made"] == "2026-01-31"
    assert row["seen"] == "2026-01-31T08:30:00"
    assert row["raw"] == "AP8="  # base64


def test_plain_converts_what_json_cannot_hold():
    assert plain(Decimal("0.10")) == "0.10"
    assert plain(time(8, 5)) == "08:05:00"
    assert plain(timedelta(hours=-30, seconds=-5)) == "-30:00:05"
    assert plain(timedelta(hours=838, microseconds=5)) == "838:00:00.000005"
    assert plain(float("nan")) == "nan"
    assert plain(memoryview(b"ab")) == "YWI="
    assert [plain(v) for v in (None, True, 3, 1.5, "s")] == [None, True, 3, 1.5, "s"]


def test_a_query_that_returns_no_rows_points_to_execute(sql, items):
    with pytest.raises(
        SqlError, match=r"returned no rows: sql\.Sql\.query is for queries, use sql\.Sql\.execute"
    ):
        sql.query({}, {"sql": f"UPDATE {TABLE} SET name = 'z' WHERE 1 = 0"})


def test_columns_of_the_same_name_are_refused(sql, items):
    insert("a")

    with pytest.raises(SqlError, match="several columns named name: name them apart with AS"):
        sql.query({}, {"sql": f"SELECT name, name FROM {TABLE}"})


def test_params_that_do_not_fit_the_placeholders_say_how_to_write_them(sql, items):
    with pytest.raises(
        SqlError, match=r"placeholders are %s with a list of params, %\(name\)s with an object"
    ):
        sql.query({}, {"sql": f"SELECT name FROM {TABLE} WHERE name = %(n)s", "params": {"m": "x"}})


def test_execute_returns_the_row_count_and_the_last_insert_id(sql, items):
    inserted = sql.execute({}, {"sql": f"INSERT INTO {TABLE} (name) VALUES (%s)", "params": ["new"]})
    updated = sql.execute(
        {}, {"sql": f"UPDATE {TABLE} SET price = 2 WHERE name = %(n)s", "params": {"n": "new"}}
    )

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TABLE} WHERE name = 'new'")
        (new_id,) = cursor.fetchone()
    assert inserted == {"row_count": 1, "last_insert_id": new_id}
    assert updated == {"row_count": 1, "last_insert_id": None}


def test_a_list_of_statements_runs_in_one_transaction(sql, items):
    statements = [
        {"sql": f"INSERT INTO {TABLE} (name) VALUES (%s)", "params": ["one"]},
        f"INSERT INTO {TABLE} (name) VALUES ('two')",
        {"sql": f"UPDATE {TABLE} SET price = %s", "params": [3]},
    ]

    answer = sql.execute({}, {"sql": statements})

    assert answer["row_count"] == 4
    assert names() == ["one", "two"]


def test_a_failing_statement_undoes_the_ones_before_it(sql, items):
    insert("taken")
    statements = [
        f"INSERT INTO {TABLE} (name) VALUES ('first')",
        f"INSERT INTO {TABLE} (name) VALUES ('taken')",
    ]

    with pytest.raises(utils.IntegrityError):
        sql.execute({}, {"sql": statements})

    assert names() == ["taken"]


def test_statements_in_a_list_carry_their_own_params(sql, items):
    with pytest.raises(ParamError, match="with a list of statements, give each its params"):
        sql.execute({}, {"sql": ["SELECT 1"], "params": [1]})
    with pytest.raises(ParamError, match=r"param sql\[1\] must be a statement"):
        sql.execute({}, {"sql": ["SELECT 1", {"query": "x"}]})


def test_an_unknown_connection_names_the_known_ones(sql, settings):
    settings.WORKFLOW_SQL_CONNECTIONS = {"reports": "sqlite:////nowhere.sqlite3"}

    with pytest.raises(SqlError, match="no SQL connection is named 'nope'; the known ones: default, reports"):
        sql.query({}, {"sql": "SELECT 1", "connection": "nope"})


def test_the_apps_own_database_is_refused_unless_listed(sql, settings):
    settings.WORKFLOW_SQL_DATABASES = []

    with pytest.raises(SqlError, match="flows may use it only when WORKFLOW_SQL_DATABASES lists it"):
        sql.query({}, {"sql": "SELECT 1"})


def test_a_name_both_in_databases_and_in_the_setting_is_refused(sql, settings):
    settings.WORKFLOW_SQL_CONNECTIONS = {"default": "sqlite:////nowhere.sqlite3"}

    with pytest.raises(SqlError, match="is both a DATABASES alias and in WORKFLOW_SQL_CONNECTIONS"):
        sql.query({}, {"sql": "SELECT 1"})


def test_a_sqlite_file_named_in_the_setting_is_a_connection(sql, settings, tmp_path):
    settings.WORKFLOW_SQL_CONNECTIONS = {"files": f"sqlite:///{tmp_path / 'extra.sqlite3'}"}
    on_files = {"connection": "files"}

    sql.execute(
        {},
        {
            "sql": ["CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t (v) VALUES ('a')"],
            **on_files,
        },
    )
    with pytest.raises(utils.IntegrityError):
        sql.execute(
            {}, {"sql": ["INSERT INTO t (v) VALUES ('b')", "INSERT INTO t (id) VALUES (1)"], **on_files}
        )
    answer = sql.query({}, {"sql": "SELECT id, v FROM t", **on_files})

    assert answer["rows"] == [{"id": 1, "v": "a"}]  # the failed list left nothing behind


def mysql_url() -> str | None:
    if connection.vendor == "mysql":
        return database_url()  # this lane's own test database, on another connection
    return os.environ.get("TEST_MYSQL_URL")


def test_mariadb_named_in_the_setting_is_a_connection(sql, settings):
    url = mysql_url()
    if not url:
        pytest.skip("no MySQL/MariaDB here: the MySQL lane or TEST_MYSQL_URL names one")
    settings.WORKFLOW_SQL_CONNECTIONS = {"maria": url}
    table = f"builtin_sql_{uuid.uuid4().hex[:8]}"

    def on_maria(method, statement, *params) -> dict:
        given = {"sql": statement, "connection": "maria"}
        return getattr(sql, method)({}, {**given, "params": list(params)} if params else given)

    on_maria(
        "execute", f"CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, n DECIMAL(30, 10), at TIME)"
    )
    try:
        inserted = on_maria(
            "execute", f"INSERT INTO {table} (n, at) VALUES (%s, %s)", "1234567890.0123456789", "8:30:05"
        )
        with pytest.raises(utils.IntegrityError):  # the second takes the first one's id: neither stays
            on_maria(
                "execute", [f"INSERT INTO {table} (n) VALUES (1)", f"INSERT INTO {table} (id) VALUES (2)"]
            )
        answer = on_maria("query", f"SELECT id, n, at FROM {table}")
        with pytest.raises(SqlError, match=r"cannot be read: .*read as text with CAST\(... AS CHAR\)"):
            on_maria("query", "SELECT TIME('-30:00:05') AS t")
        as_text = on_maria("query", "SELECT CAST(TIME('-30:00:05') AS CHAR) AS t")
    finally:
        on_maria("execute", f"DROP TABLE {table}")

    assert inserted == {"row_count": 1, "last_insert_id": 1}
    assert answer["rows"] == [{"id": 1, "n": "1234567890.0123456789", "at": "08:30:05"}]
    assert as_text["rows"] == [{"t": "-30:00:05"}]


def names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM {TABLE} ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_a_flow_reads_rows_in_one_step_and_uses_them_in_the_next(execute, settings, tmp_path):
    settings.WORKFLOW_SQL_CONNECTIONS = {"files": f"sqlite:///{tmp_path / 'flow.sqlite3'}"}
    flow = make_flow(
        "reads",
        step(
            "fill",
            "execute",
            "sql.Sql",
            connection="files",
            sql=["CREATE TABLE t (v TEXT)", "INSERT INTO t VALUES ('hi')"],
        ),
        step("read", "query", "sql.Sql", connection="files", sql="SELECT v FROM t"),
        step("say", msg="@read.rows.0.v"),
    )

    run = execute(flow)

    assert run.status == "succeeded", run.error
    assert run.context["say"] == {"msg": "hi"}


def test_a_literal_percent_is_written_twice_beside_params(sql, items):
    insert("apple", "apricot", "pear")

    answer = sql.query(
        {}, {"sql": f"SELECT name FROM {TABLE} WHERE name LIKE 'ap%%' AND name <> %s", "params": ["apple"]}
    )

    assert answer["rows"] == [{"name": "apricot"}]
