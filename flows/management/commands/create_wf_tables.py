import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from flows.wf_schema import create_missing_wf_tables, missing_indexes


class Command(BaseCommand):
    help = (
        "Create the wf_flow and wf_syslog tables where missing. Existing tables are left untouched."
        " --check lists the indexes existing tables lack, with the DDL to add them (exit 1 if any)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--check", action="store_true", help="report missing indexes of existing tables; change nothing"
        )

    def handle(self, *args, database, verbosity, check=False, **options):
        if check:
            self._check(database)
            return
        try:
            created = create_missing_wf_tables(database)
        except ValueError as err:
            raise CommandError(str(err)) from err
        for table, was_created in created.items() if verbosity else ():
            state = "created" if was_created else "already present, left untouched"
            self.stdout.write(f"{table}: {state}")

    def _check(self, database: str) -> None:
        missing = missing_indexes(database)
        if not missing:
            self.stdout.write("the wf_ tables have every index the dashboard relies on")
            return
        vendor = connections[database].vendor
        for index in missing:
            self.stdout.write(f"{index.table}: missing an index on ({', '.join(index.columns)}): {index.why}")
            self.stdout.write(f"  {index.ddl(vendor)}")
        self.stdout.write("nothing was changed: run the statements above when the table may be altered")
        sys.exit(1)
