from html import escape

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import label_for_field
from django.contrib.admin.views.main import ChangeList
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from flows.editing import (
    NameTaken,
    check_name_free,
    flow_version,
    lock_flow,
    record_event,
    record_revision,
    restore_flow,
)
from flows.forms import validate_flow_name
from flows.logsearch import LINE
from flows.models import Flow, FlowEvent, FlowRevision, SysLog
from runner.validation import flow_diagnostics
from workflow_site.admin_base import ReadOnlyAdmin


class FlowForm(forms.ModelForm):
    # The version the form was loaded with (name, definition, enabled, deleted): a save over
    # someone else's newer one is refused.
    base_hash = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Flow
        fields = ["flow_name", "flow_json", "enabled"]
        widgets = {"flow_json": forms.Textarea(attrs={"rows": 24, "cols": 100, "spellcheck": "false"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["base_hash"].initial = flow_version(self.instance)

    def clean_flow_name(self):
        name = self.cleaned_data["flow_name"]
        # The dashboard's rule for a new name; a legacy name the rule refuses is kept as is.
        if self.instance.pk is None or name != self.instance.flow_name:
            validate_flow_name(name)
        # The model's own unique check asks the manager that hides deleted flows, and the
        # database would answer the insert with an IntegrityError (a 500).
        try:
            check_name_free(name, exclude_pk=self.instance.pk)
        except NameTaken as err:
            raise forms.ValidationError(str(err)) from err
        return name

    def clean_flow_json(self):
        text = self.cleaned_data["flow_json"]
        errors = flow_diagnostics(text)
        if errors:
            raise forms.ValidationError([f"{d.code} at {d.path}: {d.message}" for d in errors])
        return text

    def clean(self):
        cleaned = super().clean()
        # The rendered form always carries base_hash; a scripted POST without it is not checked.
        if self.instance.pk is not None and cleaned.get("base_hash"):
            # The admin saves inside one transaction: the lock holds until the save is done.
            current = lock_flow(self.instance.pk)
            if flow_version(current) != cleaned.get("base_hash"):
                raise forms.ValidationError(
                    "Someone else saved this flow since you opened it (its name, definition, enabled "
                    "or deleted state changed); nothing was saved. Copy your text, reload the page to "
                    "see their version, and apply your change again."
                )
        return cleaned


class DeletedFilter(admin.SimpleListFilter):
    """Deleted flows are hidden unless asked for: deleting sets `deleted = 1`, never removes the row."""

    title = "state"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("1", "Deleted")]

    def queryset(self, request, queryset):
        return queryset.filter(deleted=self.value() == "1")


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    form = FlowForm
    list_display = ["flow_name", "enabled", "json_state", "updated_at"]
    list_filter = [DeletedFilter, "enabled"]
    search_fields = ["flow_name"]
    actions = ["restore_selected"]

    def get_queryset(self, request):
        return Flow.all_objects.all()

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # No bulk "Delete selected flows": its page promises a hard delete of the flows "and
        # their related items". A flow is deleted one at a time, softly (delete_model).
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="JSON")
    def json_state(self, flow: Flow) -> str:
        return "valid JSON" if flow.json_error is None else "invalid JSON"

    def save_model(self, request, obj: Flow, form, change: bool) -> None:
        # The same history as the dashboard's editor: every new definition is a revision.
        previous = Flow.all_objects.filter(pk=obj.pk).values_list("flow_json", flat=True).first()
        super().save_model(request, obj, form, change)
        # A rename too: the revision records who renamed it and when.
        if not change or {"flow_json", "flow_name"} & set(form.changed_data):
            if previous is not None and not FlowRevision.objects.filter(flow_id=obj.pk).exists():
                record_revision(obj, previous, user="", note="original")
            record_revision(obj, obj.flow_json, user=request.user.get_username(), note="admin")
        self._record_state_changes(request, obj, form, change)

    def _record_state_changes(self, request, obj: Flow, form, change: bool) -> None:
        # In the flow's history as the dashboard records them; Django's own log entry of this
        # change (or deletion) is the admin's record.
        if change and "enabled" in form.changed_data:
            action = FlowEvent.Action.ENABLED if obj.enabled else FlowEvent.Action.DISABLED
            record_event(obj, action, request.user, admin_log=False)
        if change and "flow_name" in form.changed_data:
            old_name = form.initial["flow_name"]
            record_event(obj, FlowEvent.Action.RENAMED, request.user, previous_name=old_name, admin_log=False)

    # The stock delete view calls this: soft delete only.
    def delete_model(self, request, obj: Flow) -> None:
        obj.soft_delete()
        record_event(obj, FlowEvent.Action.DELETED, request.user, admin_log=False)

    @admin.action(description="Restore selected flows", permissions=["change"])
    def restore_selected(self, request, queryset):
        for flow in queryset:
            restore_flow(flow, by=request.user)  # Django logs no action: this records it for the admin too
        self.message_user(request, f"{len(queryset)} flow(s) restored.", messages.SUCCESS)


class LevelFilter(admin.SimpleListFilter):
    title = "level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(level, level) for level in SysLog.LEVELS]

    def queryset(self, request, queryset):
        return queryset.filter(level=self.value()) if self.value() else queryset


class NewestFirst(ChangeList):
    """Log lines newest first, always: `?o=` (a click on a column header) would sort the
    whole table, 5 s for 5,000,000 lines by time or level."""

    def get_ordering(self, request, queryset):
        return ["-id"]

    def get_results(self, request):
        super().get_results(request)
        # Named tuples, not models: only SysLogAdmin.rows_html reads them, and 100 model
        # instances took 0.3 ms more (benchmarks/logviewer.py).
        self.result_list = self.result_list.values_list(*LINE, named=True)


# A log line's row in the changelist, built here (changelist_view) rather than by Django's
# per-cell machinery (`items_for_result`), which took about 0.2 ms a row: 20 ms for a page
# of 100, five times the page's queries (benchmarks/logviewer.py).
ADMIN_ROW = (
    '<tr><th class="field-id"><a href="{url}">{id}</a></th><td class="field-created_at nowrap">{created}</td>'
    '<td class="field-level">{level}</td><td class="field-logger_name">{logger}</td>'
    '<td class="field-short_message">{message}</td></tr>'
)


@admin.register(SysLog)
class SysLogAdmin(ReadOnlyAdmin):
    # The columns of templates/admin/flows/syslog/change_list.html, which writes the rows
    # (ADMIN_ROW) in place of Django's result list; never sorted (NewestFirst).
    list_display = ["id", "created_at", "level", "logger_name", "short_message"]
    sortable_by = ()
    # Static choices: a plain field filter would SELECT DISTINCT over the whole table.
    list_filter = [LevelFilter]

    def get_changelist(self, request, **kwargs):
        return NewestFirst

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)  # a redirect (bad filter) has none
        if context and "cl" in context:
            context["log_rows"] = self.rows_html(request, context["cl"].result_list)
            columns = [(name, label_for_field(name, SysLog, self)) for name in self.list_display]
            context["log_columns"] = columns
        return response

    def rows_html(self, request, lines) -> SafeString:
        # What every row shares, escaped once: a line's page is <id>/change/ below the changelist.
        change = escape(reverse("admin:flows_syslog_changelist"))
        filters = self.get_preserved_filters(request)
        query = escape(f"?{filters}") if filters else ""
        empty = self.get_empty_value_display()
        zone = timezone.get_current_timezone()
        rows = []
        for line in lines:
            when = line.created_at.astimezone(zone)
            # One isoformat for the time to the millisecond: 2025-03-01 13:00:05.123+00:00.
            created = f"{when.isoformat(' ', 'milliseconds')[:23]} {escape(when.tzname() or '')}"
            rows.append(
                ADMIN_ROW.format(
                    url=f"{change}{line.id}/change/{query}",
                    id=line.id,
                    created=created,
                    level=escape(line.level) or empty,
                    logger=escape(line.logger_name) or empty,
                    message=escape(self.short_message(line)) or empty,
                )
            )
        return SafeString("".join(rows))

    @admin.display(description="message")
    def short_message(self, log: SysLog) -> str:
        return log.message if len(log.message) <= 200 else log.message[:200] + "…"


@admin.register(FlowRevision)
class FlowRevisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "flow_name", "number", "note", "saved_by", "saved_at"]
    search_fields = ["flow_name"]
