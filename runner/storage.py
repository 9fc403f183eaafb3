"""How big the run tables and wf_syslog are, from the database's own statistics.

Never COUNT(*): on a table of millions of rows it reads the whole table. MySQL/MariaDB
report an estimate of the rows and the bytes in information_schema; SQLite has no such
statistics, so the rows are the span of the ids (an upper bound: deleted rows leave gaps)
and the bytes come from the dbstat table when SQLite was built with it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection

from flows.models import SysLog
from runner.models import Run, RunStep

TABLES = ((Run, "created_at"), (RunStep, "started_at"), (SysLog, "created_at"))


@dataclass(frozen=True)
class TableSize:
    table: str
    rows: int | None  # approximate
    bytes: int | None  # data and indexes; None when the database cannot tell
    oldest: datetime | None  # the time of the row with the lowest id
    exact: bool = False  # True only for an empty table


def table_sizes() -> list[TableSize]:
    stats = _mysql_stats() if connection.vendor == "mysql" else {}
    sizes = []
    for model, time_field in TABLES:
        table = model._meta.db_table
        first = model.objects.order_by("pk").values("pk", time_field).first()
        if first is None:
            sizes.append(TableSize(table, 0, stats.get(table, (None, None))[1], None, exact=True))
            continue
        if connection.vendor == "mysql":
            rows, size = stats.get(table, (None, None))
        else:
            last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
            rows, size = last - first["pk"] + 1, _sqlite_bytes(table)
        sizes.append(TableSize(table, rows, size, first[time_field]))
    return sizes


def _mysql_stats() -> dict[str, tuple[int | None, int | None]]:
    names = [model._meta.db_table for model, _ in TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, table_rows, data_length + index_length FROM information_schema.tables"
            f" WHERE table_schema = DATABASE() AND table_name IN ({', '.join(['%s'] * len(names))})",
            names,
        )
        return {name: (rows, size) for name, rows, size in cursor.fetchall()}


def _sqlite_bytes(table: str) -> int | None:
    try:
        with connection.cursor() as cursor:
            # The table and its indexes: dbstat names each b-tree; the indexes' tbl_name is the table.
            cursor.execute(
                "SELECT SUM(pgsize) FROM dbstat WHERE name = %s"
                " OR name IN (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s)",
                [table, table],
            )
            (size,) = cursor.fetchone()
        return size
    except DatabaseError:
        return None  # SQLite built without SQLITE_ENABLE_DBSTAT_VTAB
