"""The admin of API tokens and webhooks: read-mostly. Secrets are never shown (only their
digests are stored) and never edited here: tokens are made on /tokens/ or with
`manage.py apitoken`, webhooks on a flow's page."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from api.models import ApiToken, FlowHook
from api.tokens import revoke


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "revoked"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(revoked_at__isnull=self.value() == "no")
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", RevokedFilter]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username"]
    # Only the name may change; the digest is not even shown.
    fields = ["prefix", "user", "name", "scope", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "user", "scope", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A token is made where its secret can be shown once: /tokens/ or `manage.py apitoken`.
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            revoke(token)
        self.message_user(request, f"{len(live)} token(s) revoked.", messages.SUCCESS)


@admin.register(FlowHook)
class FlowHookAdmin(admin.ModelAdmin):
    list_display = ["flow_id", "created_by", "created_at", "last_used_at"]
    fields = ["flow_id", "created_by", "created_at", "last_used_at", "window_start", "window_count"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
