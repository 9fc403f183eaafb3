"""Creating the wf_ tables from the DDL in schema/, only where they are missing."""

import re
from dataclasses import dataclass
from pathlib import Path

from django.db import connections

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
WF_TABLES = ("wf_flow", "wf_syslog")
_TABLE_OF_STATEMENT = re.compile(r"(?:TABLE IF NOT EXISTS|\bON)\s+(wf_\w+)", re.IGNORECASE)


def ddl_statements(vendor: str) -> dict[str, list[str]]:
    """The DDL of each wf_ table for a database vendor: {table: [statement, ...]}."""
    name = {"mysql": "mysql.sql", "sqlite": "sqlite.sql"}.get(vendor)
    if name is None:
        raise ValueError(f"No wf_ table DDL for the {vendor!r} database; see schema/.")
    text = (SCHEMA_DIR / name).read_text()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    statements: dict[str, list[str]] = {table: [] for table in WF_TABLES}
    for statement in filter(None, (part.strip() for part in text.split(";"))):
        statements[_TABLE_OF_STATEMENT.search(statement).group(1)].append(statement)
    return statements


def create_missing_wf_tables(using: str = "default") -> dict[str, bool]:
    """Create each wf_ table that does not exist; never touch one that does.

    Returns {table: created?}.
    """
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    created = {}
    with connection.cursor() as cursor:
        for table, statements in ddl_statements(connection.vendor).items():
            created[table] = table not in existing
            if created[table]:
                for statement in statements:
                    cursor.execute(statement)
    return created


@dataclass(frozen=True)
class NeededIndex:
    table: str
    name: str
    columns: tuple[str, ...]
    why: str

    def ddl(self, vendor: str) -> str:
        if vendor == "mysql":
            # utf8mb4 VARCHAR(255) is longer than InnoDB's key prefix on old row formats.
            columns = ", ".join("logger_name(191)" if c == "logger_name" else c for c in self.columns)
            return f"ALTER TABLE {self.table} ADD INDEX {self.name} ({columns});"
        return f"CREATE INDEX {self.name} ON {self.table} ({', '.join(self.columns)});"


# The indexes the dashboard's pages rely on (schema/*.sql creates them with new tables).
NEEDED_INDEXES = (
    NeededIndex("wf_flow", "uq_wf_flow_name", ("flow_name",), "flows are found by name"),
    NeededIndex("wf_syslog", "ix_wf_syslog_level_id", ("level", "id"), "/logs/?level= pages by id"),
    NeededIndex("wf_syslog", "ix_wf_syslog_logger_id", ("logger_name", "id"), "a run's log lines"),
    NeededIndex("wf_syslog", "ix_wf_syslog_created", ("created_at",), "/logs/ time ranges and prune"),
)


def missing_indexes(using: str = "default") -> list[NeededIndex]:
    """The needed indexes an existing wf_ table lacks (under any name). Reads only."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    missing = []
    with connection.cursor() as cursor:
        for table in WF_TABLES:
            if table not in existing:
                continue
            constraints = connection.introspection.get_constraints(cursor, table)
            have = [tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]]
            for needed in (n for n in NEEDED_INDEXES if n.table == table):
                if not any(_serves(needed.columns, columns, connection.vendor) for columns in have):
                    missing.append(needed)
    return missing


def _serves(needed: tuple[str, ...], columns: tuple[str, ...], vendor: str) -> bool:
    if columns[: len(needed)] == needed:
        return True
    # InnoDB appends the primary key to every secondary index: (level) serves (level, id).
    return vendor == "mysql" and needed[-1] == "id" and columns == needed[:-1]
