"""The dashboard's URLs. A flow name may be any text (even "deleted" or "new"), so every
other page lives outside /flows/<name>/ or below it."""

from urllib.parse import unquote

from django.templatetags.static import static
from django.urls import path, register_converter
from django.views.generic import RedirectView

from flows.views import channels, flows, health, logs, overview, procedures, runs, schedules, storage


class FlowNameConverter:
    """A flow name as one path segment. New names cannot hold a slash, but legacy rows may:
    "/" and "%" travel percent-encoded (reverse() encodes the "%" once more, the server
    decodes once, to_python the second time), as do the names "." and "..". A legacy row
    may even have an empty name: its pages are /flows//, never a crash of the overview."""

    regex = "[^/]*"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        if value in (".", ".."):
            return value.replace(".", "%2E")
        return value.replace("%", "%25").replace("/", "%2F")


register_converter(FlowNameConverter, "flow")

urlpatterns = [
    path("", overview.overview, name="wf-overview"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's login page).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("new-flow/", flows.flow_new, name="wf-flow-new"),
    path("deleted-flows/", flows.deleted_flows, name="wf-flows-deleted"),
    path("flows/<flow:name>/", flows.flow_detail, name="wf-flow"),
    path("flows/<flow:name>/validate/", flows.flow_validate, name="wf-flow-validate"),
    path("flows/<flow:name>/save/", flows.flow_save, name="wf-flow-save"),
    path("flows/<flow:name>/discard-draft/", flows.flow_discard_draft, name="wf-flow-discard-draft"),
    path("flows/<flow:name>/description/", flows.flow_describe, name="wf-flow-describe"),
    path("flows/<flow:name>/enable/", flows.flow_set_enabled, {"enabled": True}, name="wf-flow-enable"),
    path("flows/<flow:name>/disable/", flows.flow_set_enabled, {"enabled": False}, name="wf-flow-disable"),
    path("flows/<flow:name>/delete/", flows.flow_delete, name="wf-flow-delete"),
    path("flows/<flow:name>/restore/", flows.flow_restore, name="wf-flow-restore"),
    path("flows/<flow:name>/rename/", flows.flow_rename, name="wf-flow-rename"),
    path("flows/<flow:name>/run/", flows.flow_run, name="wf-flow-run"),
    path("flows/<flow:name>/revisions/", flows.flow_revisions, name="wf-flow-revisions"),
    # A revision's number within its flow (1, 2, 3 ...), not its global id.
    path("flows/<flow:name>/revisions/<int:number>/", flows.flow_revision, name="wf-flow-revision"),
    path(
        "flows/<flow:name>/revisions/<int:number>/restore/",
        flows.flow_revision_restore,
        name="wf-flow-revision-restore",
    ),
    path("procedures/", procedures.procedure_list, name="wf-procedures"),
    path("procedures/catalogue.json", procedures.procedure_catalogue, name="wf-procedure-catalogue"),
    path("storage/", storage.storage, name="wf-storage"),
    path("runs/", runs.run_list, name="wf-runs"),
    path("runs/<int:run_id>/", runs.run_detail, name="wf-run"),
    path("runs/<int:run_id>/status/", runs.run_status, name="wf-run-status"),
    path("runs/<int:run_id>/logs/", runs.run_logs, name="wf-run-logs"),
    path("runs/<int:run_id>/flow/", runs.run_flow, name="wf-run-flow"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="wf-run-cancel"),
    path("runs/<int:run_id>/rerun/", runs.run_rerun, name="wf-run-rerun"),
    path("runs/<int:run_id>/resume/", runs.run_resume, name="wf-run-resume"),
    path("flows/<flow:name>/schedules/add/", schedules.schedule_add, name="wf-schedule-add"),
    path("schedules/", schedules.schedule_list, name="wf-schedules"),
    path("schedules/preview/", schedules.schedule_preview, name="wf-schedule-preview"),
    # By id: a schedule belongs to its flow's id, whatever the flow is called now.
    path("schedules/<int:schedule_id>/edit/", schedules.schedule_edit, name="wf-schedule-edit"),
    path("schedules/<int:schedule_id>/pause/", schedules.schedule_pause, name="wf-schedule-pause"),
    path("schedules/<int:schedule_id>/resume/", schedules.schedule_resume, name="wf-schedule-resume"),
    path("schedules/<int:schedule_id>/remove/", schedules.schedule_remove, name="wf-schedule-remove"),
    path("channels/", channels.channel_list, name="wf-channels"),
    path("channels/add/", channels.channel_add, name="wf-channel-add"),
    path("channels/<int:channel_id>/test/", channels.channel_test, name="wf-channel-test"),
    path("channels/<int:channel_id>/remove/", channels.channel_remove, name="wf-channel-remove"),
    path("logs/", logs.log_list, name="wf-logs"),
    path("logs/tail/", logs.log_tail, name="wf-logs-tail"),
    path("logs/download/", logs.log_download, name="wf-logs-download"),
    path("workers/", health.workers, name="wf-workers"),
    # For load balancers and Prometheus: no login (tests/web/test_access.py, PUBLIC).
    path("health", health.health, name="wf-health"),
    path("metrics", health.prometheus, name="wf-metrics"),
]
