"""The base of the commands whose refusals are runflow's: exit 2 with one line on stderr."""

import sys

from django.core.management.base import BaseCommand

EXIT_REFUSED = 2


class RefusingCommand(BaseCommand):
    """A command with actions (`NAME ACTION ...`): a bad option or a refused action exits 2,
    and a refusal says `NAME ACTION: reason` on one line."""

    command_name = ""  # the command's name, as the reason line starts

    def run_from_argv(self, argv):
        # Bad options are refusals (2), with a one-line reason, as in runflow.
        try:
            super().run_from_argv(argv)
        except SystemExit as exit_:
            if exit_.code not in (None, 0):
                sys.exit(EXIT_REFUSED)
            raise

    def _refuse(self, action: str, reason: str) -> None:
        where = f"{self.command_name} {action}" if action else self.command_name
        self.stderr.write(f"{where}: {' '.join(reason.split())}")
        sys.exit(EXIT_REFUSED)
