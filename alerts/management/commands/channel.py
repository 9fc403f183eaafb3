"""`manage.py channel ACTION`: add, list, test and remove notification channels.

Exit codes as runflow: 0 done, 2 refused, with a one-line reason on stderr. A channel's URL
is printed masked: it holds credentials.
"""

import getpass
import json

from django.core.management.base import CommandParser
from django.db import DatabaseError

from alerts import channels
from alerts.models import Channel
from runner.management.refusing import RefusingCommand


class Command(RefusingCommand):
    command_name = "channel"

    help = "Manage notification channels (Apprise URLs). Exit code 0 done, 2 refused (the reason on stderr)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="add a channel: a name and an Apprise URL")
        add.add_argument("name", metavar="NAME")
        add.add_argument("url", metavar="URL", help="e.g. mailto://..., slack://..., json://host:port/path")
        listing = actions.add_parser("list", help="every channel, its URL masked")
        listing.add_argument("--json", action="store_true", help="a JSON list instead of a table")
        for name, what in (("test", "send a test message now to"), ("remove", "delete")):
            action = actions.add_parser(name, help=f"{what} a channel")
            action.add_argument("name", metavar="NAME")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, "_" + action)(options)
        except channels.ChannelError as err:
            self._refuse(action, str(err))
        except DatabaseError as err:
            self._refuse(action, f"the database failed: {err}")

    def _add(self, options: dict) -> None:
        channel = channels.add(options["name"], options["url"], created_by=_os_user())
        self.stdout.write(f"channel {channel.name!r} added: {channels.masked(channel.url)}")

    def _list(self, options: dict) -> None:
        rows = [_listed(channel) for channel in Channel.objects.order_by("name")]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
        elif not rows:
            self.stdout.write("no channels")
        else:
            width = max(len(row["name"]) for row in rows)
            self.stdout.write(f"{'NAME':<{width}}  URL")
            for row in rows:
                self.stdout.write(f"{row['name']:<{width}}  {row['url']}")

    def _test(self, options: dict) -> None:
        sent = channels.send_test(options["name"])
        if not sent.ok:
            raise channels.ChannelError(f"the test message was not delivered: {sent.error}")
        self.stdout.write(f"channel {options['name']!r}: test message delivered")

    def _remove(self, options: dict) -> None:
        channels.remove(options["name"])
        self.stdout.write(f"channel {options['name']!r} removed")


def _listed(channel: Channel) -> dict:
    return {
        "name": channel.name,
        "url": channels.masked(channel.url),
        "created_by": channel.created_by,
        "created_at": channel.created_at.isoformat(),
    }


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
