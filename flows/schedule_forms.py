"""The forms of the schedules: add/edit (with the live preview of due times) and the ledger's filters."""

import json
import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.urls import reverse_lazy

from flows.forms import parse_run_input
from schedules import cron
from schedules.editing import NOTE_LENGTH
from schedules.models import Schedule, Tick

OVERLAP_CHOICES = [
    (Schedule.Overlap.ALLOW, "allow: start a run even while another is running"),
    (Schedule.Overlap.SKIP_IF_RUNNING, "skip_if_running: record the tick as skipped"),
]
# The zones offered as you type (any IANA name is accepted): the regional ones, not the
# aliases kept for compatibility (US/Eastern, Etc/GMT+5, ...).
REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


@cache
def zone_names() -> list[str]:
    return ["UTC", *sorted(name for name in zoneinfo.available_timezones() if name.startswith(REGIONS))]


def _live(**attrs) -> dict:
    """An input whose every change asks for the preview of the due times (the other field's
    value included), replacing the content of the form's preview region."""
    return {
        "autocomplete": "off",
        "spellcheck": "false",
        "hx-get": reverse_lazy("wf-schedule-preview"),
        "hx-trigger": "input changed delay:300ms",
        "hx-target": "#schedule-preview",
        "hx-swap": "innerHTML",
        "hx-sync": "closest form:queue last",
        **attrs,
    }


class ScheduleForm(forms.Form):
    cron = forms.CharField(
        label="Cron",
        max_length=cron.MAX_LENGTH,
        help_text="five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, "
        "@monthly, @yearly",
        widget=forms.TextInput(attrs=_live(placeholder="30 2 * * *", **{"hx-include": "#schedule-timezone"})),
    )
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        initial=lambda: settings.TIME_ZONE,
        help_text="an IANA name such as Europe/Berlin",
        widget=forms.TextInput(attrs=_live(list="time-zones", **{"hx-include": "#schedule-cron"})),
    )
    input = forms.CharField(
        required=False,
        strip=False,
        label="Input",
        help_text="optional: one JSON object, or key=value lines read as the run form's fields are;"
        " checked against the flow's declared inputs, whose defaults apply at each run",
        widget=forms.Textarea(
            attrs={"rows": 3, "spellcheck": "false", "placeholder": '{"name": "Ann"}   or   name=Ann'}
        ),
    )
    overlap = forms.ChoiceField(label="Overlap", choices=OVERLAP_CHOICES, initial=Schedule.Overlap.ALLOW)
    catch_up = forms.ChoiceField(
        label="Catch-up after downtime", choices=Schedule.CatchUp.choices, initial=Schedule.CatchUp.SKIP
    )
    catch_up_limit = forms.IntegerField(
        label="Catch-up limit",
        min_value=1,
        max_value=Schedule.MAX_CATCH_UP,
        initial=10,
        help_text="runs at most, with catch-up “all”",
    )
    deadline = forms.TimeField(
        label="Deadline",
        required=False,
        input_formats=["%H:%M"],
        help_text="optional, HH:MM: a successful run by then each day (in the zone), else an alert",
        widget=forms.TimeInput(format="%H:%M", attrs={"placeholder": "06:00"}),
    )
    note = forms.CharField(
        label="Note", required=False, max_length=NOTE_LENGTH, help_text="optional, plain text"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "schedule-%s")
        super().__init__(*args, **kwargs)

    @classmethod
    def of(cls, schedule: Schedule) -> "ScheduleForm":
        """The form holding a schedule's current values."""
        text = json.dumps(schedule.input, indent=2, ensure_ascii=False) if schedule.input else ""
        fields = ("cron", "timezone", "overlap", "catch_up", "catch_up_limit", "note", "deadline")
        return cls(initial={"input": text, **{name: getattr(schedule, name) for name in fields}})

    def clean_cron(self) -> str:
        try:
            cron.fields_of(self.cleaned_data["cron"])
        except cron.CronError as err:
            raise forms.ValidationError(str(err)) from err
        return self.cleaned_data["cron"]

    def clean_timezone(self) -> str:
        try:
            cron.zone(self.cleaned_data["timezone"])
        except cron.CronError as err:
            raise forms.ValidationError(str(err)) from err
        return self.cleaned_data["timezone"]

    def clean_input(self) -> tuple[dict, dict[str, str]]:
        # The syntax only: what the values mean is checked against the flow's declared inputs
        # when the schedule is saved (schedules.editing), which lists each problem.
        try:
            return parse_run_input(self.cleaned_data["input"])
        except ValueError as err:
            raise forms.ValidationError(str(err)) from err

    def fields_for_editing(self) -> dict:
        """The cleaned values as schedules.editing.create/update take them."""
        data = self.cleaned_data
        values, texts = data["input"]
        return {
            "cron_text": data["cron"],
            "tz_name": data["timezone"],
            "input": values,
            "input_texts": texts,
            "overlap": data["overlap"],
            "catch_up": data["catch_up"],
            "catch_up_limit": data["catch_up_limit"],
            "note": data["note"],
            "deadline": data["deadline"],
        }


class LedgerFilterForm(forms.Form):
    """The filters of /schedules/: the flow (schedules and ledger), the outcome (ledger), a page."""

    flow = forms.ChoiceField(label="Flow", required=False)
    outcome = forms.ChoiceField(label="Outcome", required=False, choices=[("", "any"), *Tick.Outcome.choices])
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, flow_names: list[str]):
        super().__init__(data)
        self.fields["flow"].choices = [("", "any"), *((name, name) for name in flow_names)]
