"""Who calls the API and what they may do: a personal token (`Authorization: Bearer`) or the
dashboard's own session (with its CSRF token on anything that changes data).

A caller needs the dashboard's permissions (staff, then one permission per action), and a
token is further limited by its scope: read < run < write. A session has no scope limit.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from api import tokens
from api.models import ApiToken

READ, RUN, WRITE = ApiToken.Scope.values  # "read", "run", "write"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


@dataclass(frozen=True)
class Caller:
    user: AbstractBaseUser
    token: ApiToken | None = None  # None: the dashboard's session

    def allows(self, scope: str) -> bool:
        return self.token is None or self.token.allows(scope)

    @property
    def scope(self) -> str:
        return str(self.token.scope) if self.token is not None else WRITE

    @property
    def label(self) -> str:
        """Who started a run, as its `triggered_by` shows it: "ann", or "ann (token ci)"."""
        name = self.user.get_username()
        if self.token is not None and self.token.name:
            name = f"{name} (token {self.token.name})"
        return name[:150]


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`. A header that is there but wrong is refused (401)
    rather than passed on to the session: a client that sends a token means that token."""

    def __call__(self, request: HttpRequest) -> Caller | None:
        header = request.headers.get("Authorization")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError(message="the Authorization header must be 'Bearer <token>'")
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        found = tokens.authenticate(token)
        if found is None:
            raise AuthenticationError(message="the token is unknown or revoked, or its user is inactive")
        return Caller(found.user, found)


class DashboardSession(APIKeyCookie):
    """The dashboard's logged-in session, for its own JavaScript. Requests that change data
    need the CSRF token (`X-CSRFToken`), as the dashboard's forms do."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest) -> Caller | None:
        if not request.user.is_authenticated:
            return None  # no credentials: 401, never the login page
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise AuthorizationError(
                message="CSRF check failed: a session request that changes data needs the X-CSRFToken header"
            )
        return Caller(request.user)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        return None  # unused: __call__ reads the session that Django's middleware loaded


def require(request: HttpRequest, *perms: str, scope: str = READ) -> Caller:
    """The caller, after checking that they may do this: staff, every permission, and (with a
    token) a scope that includes `scope`. A refusal is a 403 that says what is missing."""
    caller: Caller = request.auth
    user = caller.user
    if not user.is_staff:
        raise AuthorizationError(message="the API is for staff users, as the dashboard is")
    missing = [perm for perm in perms if not user.has_perm(perm)]
    if missing:
        raise AuthorizationError(message=f"missing permission: {', '.join(missing)}")
    if not caller.allows(scope):
        raise AuthorizationError(message=f"this token's scope is {caller.scope!r}; this needs {scope!r}")
    return caller
