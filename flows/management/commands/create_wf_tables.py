from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from flows.wf_schema import create_missing_wf_tables


class Command(BaseCommand):
    help = "Create the wf_flow and wf_syslog tables where missing. Existing tables are left untouched."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, verbosity, **options):
        try:
            created = create_missing_wf_tables(database)
        except ValueError as err:
            raise CommandError(str(err)) from err
        for table, was_created in created.items() if verbosity else ():
            state = "created" if was_created else "already present, left untouched"
            self.stdout.write(f"{table}: {state}")
