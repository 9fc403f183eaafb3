"""Forms of the dashboard: new flow, run input, and the filters of the run and log lists."""

import json
import unicodedata
import zoneinfo
from datetime import datetime

from django import forms
from django.utils import timezone

from flows.logsearch import LEVELS

NEW_FLOW_EXAMPLE = json.dumps(
    {"procedures": [{"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}}]},
    indent=2,
)


def parse_run_input(text: str) -> dict:
    """Run input from a JSON object, or from key=value lines (values parsed as JSON when they
    parse, else kept as text), as `manage.py runflow --input` does. ValueError says what is wrong.
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            where = f"line {err.lineno}, column {err.colno}"
            raise ValueError(f"The input is not valid JSON: {err.msg} ({where}).") from err
        except RecursionError as err:
            raise ValueError("The input is nested too deeply.") from err
        if not isinstance(data, dict):
            raise ValueError("The input must be a JSON object (or key=value lines).")
        return data
    data = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, raw = line.partition("=")
        if not sep or not key.strip():
            shown = line.strip()[:80]
            raise ValueError(f"Line {number} is not key=value (or write one JSON object): {shown!r}")
        try:
            data[key.strip()] = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            data[key.strip()] = raw.strip()
    return data


class NewFlowForm(forms.Form):
    flow_name = forms.CharField(max_length=128, label="Name", strip=True)
    flow_json = forms.CharField(
        label="Definition (JSON)",
        strip=False,
        initial=NEW_FLOW_EXAMPLE,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "id": "flow-json"}),
    )

    def clean_flow_name(self) -> str:
        name = self.cleaned_data["flow_name"]
        if "/" in name:
            raise forms.ValidationError("A flow name cannot contain a slash: it is part of the page address.")
        if name in (".", ".."):
            raise forms.ValidationError("A flow name cannot be . or ..")
        if any(unicodedata.category(c).startswith("C") for c in name):
            raise forms.ValidationError("A flow name cannot contain control characters.")
        return name


class RunFilterForm(forms.Form):
    flow = forms.CharField(required=False, max_length=128)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "any status")]
        + [(s, s) for s in ("queued", "running", "succeeded", "failed", "cancelled")],
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class LogFilterForm(forms.Form):
    level = forms.ChoiceField(
        required=False, label="Minimum level", choices=[("", "any level")] + [(n, n) for n in LEVELS]
    )
    logger = forms.CharField(required=False, max_length=255, label="Logger starts with")
    q = forms.CharField(required=False, max_length=200, label="Message contains")
    since = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, label="To", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    # Filled in by static/js/workflow.js with the browser's zone, so From/To mean local
    # time as the page shows it; without JavaScript they are UTC.
    tz = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-tz": ""}))
    tail = forms.BooleanField(required=False, label="Live tail")
    run = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def zone(self):
        try:
            return zoneinfo.ZoneInfo(self.data.get("tz") or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def _aware(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return timezone.make_aware(value.replace(tzinfo=None), self.zone())

    def clean_since(self):
        return self._aware(self.cleaned_data.get("since"))

    def clean_until(self):
        return self._aware(self.cleaned_data.get("until"))
