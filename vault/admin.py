"""Secrets in the admin: read-only, names only. Values (encrypted) are never shown, and
secrets change on /secrets/ or with `manage.py secrets`, under the one permission
vault.manage_secret."""

from django.contrib import admin
from django.http import HttpRequest

from vault.models import Secret


@admin.register(Secret)
class SecretAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "updated_at", "updated_by"]
    fields = list_display
    readonly_fields = list_display

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("vault.manage_secret")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
