"""`manage.py secrets ACTION`: set, list, delete and rotate the secrets kept in the database.

Exit codes as runflow: 0 done, 2 refused, with a one-line reason on stderr. No action
prints a value.
"""

import getpass
import sys

from django.core.management.base import CommandParser
from django.db import DatabaseError

from runner.management.refusing import RefusingCommand
from vault import store


class Command(RefusingCommand):
    command_name = "secrets"

    help = "Manage secrets (@_secret.NAME). Exit code 0 done, 2 refused (the reason on stderr)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        put = actions.add_parser(
            "set", help="add a secret or replace its value: from --value, else standard input"
        )
        put.add_argument("name", metavar="NAME")
        put.add_argument("--value", help="the value (visible in the shell's history: prefer standard input)")
        put.add_argument("--description", help="what it is for (kept when omitted)")
        actions.add_parser("list", help="every secret's name, source and last change; never a value")
        delete = actions.add_parser("delete", help="delete a secret from the database")
        delete.add_argument("name", metavar="NAME")
        actions.add_parser(
            "rotate", help="encrypt every value again with the first key of WORKFLOW_SECRETS_KEY"
        )

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, "_" + action)(options)
        except store.SecretsError as err:
            self._refuse(action, str(err))
        except DatabaseError as err:
            self._refuse(action, f"the database failed: {err}")

    def _set(self, options: dict) -> None:
        name, value = options["name"], options["value"]
        if value is None:
            value = _read_value(name)
        _, added = store.set_value(name, value, description=options["description"], by=_os_user())
        self.stdout.write(f"secret {name} {'added' if added else 'replaced'}")

    def _list(self, options: dict) -> None:
        entries = store.entries()
        if not entries:
            self.stdout.write("no secrets")
            return
        width = max(len(entry.name) for entry in entries)
        self.stdout.write(f"{'NAME':<{width}}  {'FROM':<11}  UPDATED")
        for entry in entries:
            when = f"{entry.updated_at:%Y-%m-%d %H:%M} {entry.updated_by}".strip() if entry.updated_at else ""
            notes = (["hidden by the environment"] if entry.hidden else []) + (
                [entry.problem] if entry.problem else []
            )
            line = f"{entry.name:<{width}}  {entry.source:<11}  {when}"
            self.stdout.write(line + "".join(f"  [{note}]" for note in notes))

    def _delete(self, options: dict) -> None:
        store.delete(options["name"])
        self.stdout.write(f"secret {options['name']} deleted")

    def _rotate(self, options: dict) -> None:
        done, failed = store.rotate()
        self.stdout.write(f"{done} secret(s) encrypted with the first key of WORKFLOW_SECRETS_KEY")
        if failed:
            raise store.SecretsError(
                f"no key of WORKFLOW_SECRETS_KEY decrypts {', '.join(failed)}: left as they were"
                " (add the key they were encrypted with, or set them again)"
            )


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"value of {name} (not shown): ")
    # A file or a pipe: its content, less the line end that `echo` or an editor adds.
    value = sys.stdin.read()
    return value.removesuffix("\n").removesuffix("\r")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
