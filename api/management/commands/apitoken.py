"""`manage.py apitoken ACTION`: create, list and revoke personal API tokens.

`create` prints only the token on stdout, once (scripts capture it: TOKEN=$(... create bob));
the hint goes to stderr. Exit codes as runflow: 0 done, 2 refused, with a one-line reason.
"""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.core.management.base import CommandParser
from django.db import DatabaseError
from django.db.models import Q

from api.models import ApiToken
from api.tokens import create_token, revoke
from runner.management.refusing import RefusingCommand


class Refused(Exception):
    pass


class Command(RefusingCommand):
    command_name = "apitoken"

    help = "Manage personal API tokens. Exit code 0 done, 2 refused (the reason on stderr)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="make a token for USER and print it (once)")
        create.add_argument("user", metavar="USER", help="the username the token acts as")
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument("--scope", default=ApiToken.Scope.READ, help="read (default), run or write")
        listing = actions.add_parser("list", help="every token (or USER's), newest first; never the secrets")
        listing.add_argument("user", metavar="USER", nargs="?")
        revoking = actions.add_parser("revoke", help="stop a token at once")
        revoking.add_argument("token", metavar="PREFIX_OR_ID", help="the token's id, or its prefix as listed")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, "_" + action)(options)
        except Refused as err:
            self._refuse(action, str(err))
        except DatabaseError as err:
            self._refuse(action, f"the database failed: {err}")

    def _create(self, options: dict) -> None:
        scope = options["scope"]
        if scope not in ApiToken.Scope.values:
            raise Refused(f"--scope must be one of {', '.join(ApiToken.Scope.values)}, not {scope!r}")
        token, secret = create_token(_user(options["user"]), name=options["name"], scope=scope)
        self.stdout.write(secret)
        self.stderr.write(
            f"token {token.prefix}… (id {token.pk}, scope {token.scope}) created for "
            f"{token.user.get_username()}: copy it now, it is not shown again"
        )

    def _list(self, options: dict) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("-id")
        if options["user"] is not None:
            tokens = tokens.filter(user=_user(options["user"]))
        rows = [_row(token) for token in tokens]
        if not rows:
            self.stdout.write("no tokens")
            return
        header = ("ID", "PREFIX", "NAME", "SCOPE", "USER", "CREATED", "LAST USED", "REVOKED")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())

    def _revoke(self, options: dict) -> None:
        given = options["token"].rstrip("…")
        match = Q(prefix=given)
        if given.isascii() and given.isdigit() and len(given) <= 18:
            match |= Q(pk=int(given))
        found = list(ApiToken.objects.filter(match)[:2])
        if not found:
            raise Refused(f"no token with the id or prefix {given!r}")
        if len(found) > 1:
            raise Refused(f"{given!r} names more than one token: give its id")
        token = found[0]
        if token.revoked_at is not None:
            self.stdout.write(f"token {token.prefix}… (id {token.pk}) was already revoked")
            return
        revoke(token)
        self.stdout.write(f"token {token.prefix}… (id {token.pk}) revoked")


def _user(username: str):
    user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if user is None:
        raise Refused(f"no user {username!r}")
    return user


def _row(token: ApiToken) -> tuple[str, ...]:
    return (
        str(token.pk),
        token.prefix,
        token.name or "-",
        token.scope,
        token.user.get_username(),
        _when(token.created_at),
        _when(token.last_used_at),
        _when(token.revoked_at),
    )


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if value else "-"
