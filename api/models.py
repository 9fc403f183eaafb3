"""What the HTTP API keeps: personal tokens, idempotent starts and inbound webhooks.

Secrets (tokens, hook paths) are stored only as SHA-256 digests: a stolen database dump
cannot call the API. Each is shown once, when it is made.
"""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        # Cumulative: run can read, write can run.
        READ = "read"
        RUN = "run"
        WRITE = "write"

    RANKS = {Scope.READ: 0, Scope.RUN: 1, Scope.WRITE: 2}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    scope = models.CharField(max_length=5, choices=Scope, default=Scope.READ)
    # The first characters of the token, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)  # sha256 hex of the whole token
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_token"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'}, {self.scope})"

    def allows(self, scope: str) -> bool:
        """True when this token's scope includes `scope` (read < run < write)."""
        return self.RANKS[self.scope] >= self.RANKS[scope]


class IdempotentStart(models.Model):
    """The run an `Idempotency-Key` started, for 24 hours: the same key and body get it back."""

    flow_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    body_digest = models.CharField(max_length=64)  # sha256 of the canonical request body
    run_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "api_idempotent_start"
        constraints = [models.UniqueConstraint(fields=["flow_id", "key"], name="api_idempotent_flow_key")]

    def __str__(self) -> str:
        return f"{self.key} -> run {self.run_id}"


class FlowHook(models.Model):
    """A flow's inbound webhook: POST /hooks/<secret> starts a run with the body as input."""

    flow_id = models.BigIntegerField(unique=True)
    digest = models.CharField(max_length=64, unique=True)  # sha256 hex of the secret path
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A fixed-window rate limit kept in the row, so every web process shares it.
    window_start = models.DateTimeField(null=True, blank=True)
    window_count = models.IntegerField(default=0)

    class Meta:
        db_table = "api_flow_hook"

    def __str__(self) -> str:
        return f"webhook of flow {self.flow_id}"
