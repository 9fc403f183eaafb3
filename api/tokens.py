"""Personal API tokens: made once, stored as a digest, checked on every API request."""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from api.models import ApiToken

PREFIX = "wft_"  # lets secret scanners and people recognise a workflow token
# last_used_at is written at most this often per token: a busy client must not turn every
# read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    user: AbstractBaseUser, *, name: str = "", scope: str = ApiToken.Scope.READ
) -> tuple[ApiToken, str]:
    """A new token of `user` and its secret, which is shown once and never stored."""
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"scope must be one of {', '.join(ApiToken.Scope.values)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], scope=scope, prefix=secret[:12], digest=digest(secret)
    )
    return token, secret


def authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret (its user active), or None; notes when it was used."""
    if not secret or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke(token: ApiToken) -> None:
    """The token stops working at once; its row stays, to show when it was revoked."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=token.revoked_at)
