"""SQL on a named connection: a Django DATABASES alias or a WORKFLOW_SQL_CONNECTIONS URL."""

import base64
import contextlib
import math
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import dj_database_url
from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import load_backend

from builtin._checks import ParamError, integer, text
from runner.engine.declare import param, procedure, result

_SCALARS = (str, int, float, bool, type(None))
_INSERTS = ("INSERT", "REPLACE")
# Django's MySQL connections read a TIME as a time of day: a longer or negative one fails.
TIME_OF_DAY = "a MySQL TIME outside 00:00:00-23:59:59 is read as text with CAST(... AS CHAR)"
PLACEHOLDERS = "placeholders are %s with a list of params, %(name)s with an object; a literal % is written %%"

CONNECTION = param(
    "string",
    default="default",
    description="a name in WORKFLOW_SQL_CONNECTIONS, or a DATABASES alias that WORKFLOW_SQL_DATABASES lists",
)
PARAMS = param("any", description="values bound to the placeholders: a list for %s, an object for %(name)s")


class SqlError(Exception):
    """A statement that cannot be run as given; the database's own errors keep their class
    (OperationalError, IntegrityError, ...), for retry policies to name."""


class Sql:
    def __init__(self, logger) -> None:
        self.logger = logger

    @procedure(
        "Run a query and return its rows (at most max_rows of them).",
        params={
            "sql": param("string", required=True, description="one statement that returns rows"),
            "params": PARAMS,
            "connection": CONNECTION,
            "max_rows": param(
                "integer", description="return at most this many rows (WORKFLOW_SQL_MAX_ROWS at most)"
            ),
        },
        results={
            "rows": result("array", "the rows, each an object: column name -> value"),
            "row_count": result("integer", "how many rows are returned"),
            "truncated": result("boolean", "true when the query had more rows than max_rows"),
            "columns": result("array", "the column names, in order"),
        },
    )
    def query(self, context, params: dict) -> dict:
        sql, bound = _statement(text(params, "sql", required=True)), _bound(params.get("params"))
        ceiling = settings.WORKFLOW_SQL_MAX_ROWS
        limit = integer(params, "max_rows", default=ceiling, minimum=1, maximum=ceiling)
        name = text(params, "connection", default="default")
        with _connection(name) as connection, connection.cursor() as cursor:
            _execute(cursor, sql, bound)
            if cursor.description is None:
                raise SqlError(
                    "the statement returned no rows: sql.Sql.query is for queries, use sql.Sql.execute"
                )
            columns = [column[0] for column in cursor.description]
            if len(set(columns)) < len(columns):
                twice = sorted({c for c in columns if columns.count(c) > 1})
                raise SqlError(
                    f"the query returns several columns named {', '.join(twice)}: name them apart with AS"
                )
            fetched = _fetch(cursor, limit + 1)
        rows = [dict(zip(columns, map(plain, row), strict=True)) for row in fetched[:limit]]
        truncated = len(fetched) > limit
        self.logger.info("query on %s: %d rows%s", name, len(rows), " (cut at max_rows)" if truncated else "")
        return {"rows": rows, "row_count": len(rows), "truncated": truncated, "columns": columns}

    @procedure(
        "Run one statement, or several in one transaction: all of them take effect or none.",
        params={
            "sql": param(
                "any",
                required=True,
                description='a statement, or a list of statements (strings or {"sql": ..., "params": ...})',
            ),
            "params": PARAMS,
            "connection": CONNECTION,
        },
        results={
            "row_count": result("integer", "the rows the statements changed, in all"),
            "last_insert_id": result("integer", "the id the last INSERT generated, or null"),
        },
    )
    def execute(self, context, params: dict) -> dict:
        statements = _statements(params)
        name = text(params, "connection", default="default")
        row_count, last_id = 0, None
        with _connection(name) as connection, _transaction(connection):
            for sql, bound in statements:
                with connection.cursor() as cursor:
                    _execute(cursor, sql, bound)
                    row_count += max(cursor.rowcount, 0)
                    # Only an INSERT's: sqlite3 repeats the connection's last id after any
                    # statement. MySQL gives 0 when the INSERT generated none.
                    if sql.lstrip()[:7].upper().startswith(_INSERTS):
                        last_id = cursor.lastrowid or last_id
        self.logger.info("execute on %s: %d statements, %d rows", name, len(statements), row_count)
        return {"row_count": row_count, "last_insert_id": last_id}


def plain(value):
    """A database value as JSON can hold it; docs/builtin.md lists the conversions."""
    if isinstance(value, _SCALARS):
        return value if not isinstance(value, float) or math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would lose digits of a DECIMAL(30, 10)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _duration(value: timedelta) -> str:
    # A MySQL TIME may be negative or past 24 hours: [-]H:MM:SS[.ffffff], as MySQL writes it.
    sign, value = ("-", -value) if value < timedelta(0) else ("", value)
    minutes, seconds = divmod(value.seconds, 60)
    hours = value.days * 24 + minutes // 60
    fraction = f".{value.microseconds:06d}" if value.microseconds else ""
    return f"{sign}{hours:02d}:{minutes % 60:02d}:{seconds:02d}{fraction}"


def _bound(value, where: str = "params"):
    if value is None:
        return None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    if items is None:
        raise ParamError(f"param {where} must be a list (for %s) or an object (for %(name)s)")
    if not all(isinstance(item, _SCALARS) for item in items):
        raise ParamError(f"param {where}: each value must be a string, a number, a boolean or null")
    return value


def _statements(params: dict) -> list[tuple[str, list | dict | None]]:
    given = params.get("sql")
    if isinstance(given, str):
        return [(_statement(given), _bound(params.get("params")))]
    if not isinstance(given, list) or not given:
        raise ParamError("param sql must be a statement or a non-empty list of statements")
    if params.get("params") is not None:
        raise ParamError('with a list of statements, give each its params: {"sql": ..., "params": ...}')
    statements = []
    for index, item in enumerate(given):
        where = f"sql[{index}]"
        if isinstance(item, dict) and isinstance(item.get("sql"), str) and item.keys() <= {"sql", "params"}:
            statements.append((_statement(item["sql"], where), _bound(item.get("params"), f"{where}.params")))
        elif isinstance(item, str):
            statements.append((_statement(item, where), None))
        else:
            raise ParamError(f'param {where} must be a statement or {{"sql": ..., "params": ...}}')
    return statements


def _statement(sql: str, where: str = "sql") -> str:
    if not sql.strip():
        raise ParamError(f"param {where} is empty: give a statement")
    return sql


def _execute(cursor, sql: str, bound) -> None:
    try:
        cursor.execute(sql, bound)
    except (KeyError, TypeError, IndexError) as err:
        # The drivers fill placeholders with Python's % operator.
        raise SqlError(
            f"the placeholders do not match the params ({type(err).__name__}: {err}): {PLACEHOLDERS}"
        ) from err
    except ValueError as err:
        # "unsupported format character": a % that is no placeholder. Otherwise a value the
        # driver could not convert (MySQL reads the whole result here).
        if "format" in str(err):
            raise SqlError(f"{err}: {PLACEHOLDERS}") from err
        raise SqlError(f"a value of the result cannot be read: {err}; {TIME_OF_DAY}") from err


def _fetch(cursor, count: int) -> list:
    try:
        return cursor.fetchmany(count)
    except ValueError as err:
        raise SqlError(f"a value of the result cannot be read: {err}; {TIME_OF_DAY}") from err


@contextlib.contextmanager
def _connection(name: str) -> Iterator[BaseDatabaseWrapper]:
    urls = settings.WORKFLOW_SQL_CONNECTIONS
    if name in urls and name in settings.DATABASES:
        raise SqlError(
            f"connection {name!r} is both a DATABASES alias and in WORKFLOW_SQL_CONNECTIONS: rename one"
        )
    if name in settings.DATABASES:
        if name not in settings.WORKFLOW_SQL_DATABASES:
            # Whoever may edit flows is not thereby an administrator of the app's database.
            raise SqlError(
                f"connection {name!r} is one of the app's own databases: flows may use it only when "
                "WORKFLOW_SQL_DATABASES lists it (then whoever edits flows can read and change all of "
                "its tables, users included)"
            )
        yield connections[name]  # Django's own: it stays open for the next step
        return
    if name not in urls:
        known = sorted({*(a for a in settings.WORKFLOW_SQL_DATABASES if a in settings.DATABASES), *urls})
        raise SqlError(f"no SQL connection is named {name!r}; the known ones: {', '.join(known)}")
    connection = _open(name, urls[name])
    try:
        yield connection
    finally:
        connection.close()


def _open(name: str, url: str) -> BaseDatabaseWrapper:
    try:
        config = dj_database_url.parse(url)
    except Exception as err:
        # Not the URL itself in the message: it holds a password.
        raise SqlError(
            f"the URL of connection {name!r} in WORKFLOW_SQL_CONNECTIONS cannot be read: {err}"
        ) from err
    config = connections.configure_settings({"default": config})["default"]
    return load_backend(config["ENGINE"]).DatabaseWrapper(config, alias=f"sql:{name}")


@contextlib.contextmanager
def _transaction(connection: BaseDatabaseWrapper) -> Iterator[None]:
    if connection.alias in settings.DATABASES:
        with transaction.atomic(using=connection.alias):
            yield
        return
    connection.set_autocommit(False)
    try:
        yield
    except BaseException:
        connection.rollback()
        raise
    connection.commit()
