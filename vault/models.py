"""The secrets kept in the database, encrypted (vault.store reads and writes them)."""

from django.db import models


class Secret(models.Model):
    """One named secret. `token` is its value encrypted with WORKFLOW_SECRETS_KEY (a Fernet
    token): the plain value is never stored, and never shown back."""

    name = models.CharField(max_length=100, unique=True)
    token = models.TextField()
    description = models.CharField(max_length=500, blank=True)
    # Set when the value or the description changes, not by a key rotation.
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        db_table = "vault_secret"
        # Reading the list and changing secrets: a permission of its own, apart from editing flows.
        permissions = [("manage_secret", "Can list, add, replace and delete secrets")]

    def __str__(self) -> str:
        return self.name
