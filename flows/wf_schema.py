"""Creating the wf_ tables from the DDL in schema/, only where they are missing."""

import re
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
