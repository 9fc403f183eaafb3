"""Forms of the dashboard: new flow, run input, and the filters of the run and log lists."""

import json
import unicodedata
import zoneinfo
from collections.abc import Mapping
from datetime import datetime

from django import forms
from django.forms.renderers import DjangoTemplates
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.html import conditional_escape

from flows.logsearch import EARLIEST, LATEST
from flows.models import FlowDescription, SysLog
from runner.engine import InputSpec, JSONNumberError, parse_json
from runner.inputs import key_value_texts
from runner.models import Run

NEW_FLOW_EXAMPLE = json.dumps(
    {"procedures": [{"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}}]},
    indent=2,
)


def parse_run_input(text: str) -> tuple[dict, dict[str, str]]:
    """The run input of the free input box as services.run_input_for takes it: a JSON object
    gives values (checked as given), key=value lines give texts, read as `manage.py runflow
    --input` reads its arguments. ValueError (InputError for lines) says what is wrong with
    the syntax; what the values mean is checked against the flow's inputs afterwards.
    """
    text = text.strip()
    if not text:
        return {}, {}
    if text.startswith(("{", "[")):
        try:
            data = parse_json(text)
        except JSONNumberError as err:
            raise ValueError(f"The input cannot be used: {err}.") from err
        except json.JSONDecodeError as err:
            where = f"line {err.lineno}, column {err.colno}"
            raise ValueError(f"The input is not valid JSON: {err.msg} ({where}).") from err
        except RecursionError as err:
            raise ValueError("The input is nested too deeply.") from err
        if not isinstance(data, dict):
            raise ValueError("The input must be a JSON object (or key=value lines).")
        return data, {}
    return {}, key_value_texts(text.splitlines())


def validate_flow_name(name: str) -> None:
    """The rule for a new name, whether a flow is created or renamed, here or in the admin.

    Legacy rows may hold names it refuses; they keep them until renamed.
    """
    if "/" in name:
        raise forms.ValidationError("A flow name cannot contain a slash: it is part of the page address.")
    if name in (".", ".."):
        raise forms.ValidationError("A flow name cannot be . or ..")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise forms.ValidationError("A flow name cannot contain control or invisible formatting characters.")


def flow_name_field(**kwargs) -> forms.CharField:
    return forms.CharField(max_length=128, strip=True, validators=[validate_flow_name], **kwargs)


class PlainTextField(forms.CharField):
    # Browsers count a line break as one character against a textarea's maxlength and then
    # submit it as CRLF: count it as the page did.
    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


def description_field(**attrs) -> forms.CharField:
    # Optional and bounded; shown as text (escaped), never as HTML.
    return PlainTextField(
        required=False,
        max_length=FlowDescription.MAX_LENGTH,
        label="Description",
        help_text=f"optional, up to {FlowDescription.MAX_LENGTH:,} characters of plain text",
        widget=forms.Textarea(attrs={"rows": 3, **attrs}),
    )


class NewFlowForm(forms.Form):
    flow_name = flow_name_field(
        label="Name",
        help_text="1 to 128 characters, no slash; unique",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    flow_json = forms.CharField(
        label="Definition (JSON)",
        strip=False,
        initial=NEW_FLOW_EXAMPLE,
        widget=forms.Textarea(
            attrs={
                "rows": 18,
                "spellcheck": "false",
                "autocomplete": "off",
                "id": "flow-json",
                "aria-describedby": "diagnostics",
                # Validated as you type: the answer replaces the content of the page's live region.
                "hx-post": reverse_lazy("wf-flow-new"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#analysis",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        ),
    )
    description = description_field()


class FlowDescriptionForm(forms.Form):
    description = description_field(id="description")


class RenameFlowForm(forms.Form):
    new_name = flow_name_field(
        label="New name", widget=forms.TextInput(attrs={"id": "new-name", "autocomplete": "off"})
    )


class RunInputForm(forms.Form):
    """The free input box of a flow that declares no inputs."""

    declared = False
    input = forms.CharField(
        required=False,
        strip=False,
        label="Input",
        help_text="optional: one JSON object, or key=value lines",
        widget=forms.Textarea(
            attrs={
                "id": "run-input",
                "rows": 3,
                "spellcheck": "false",
                "placeholder": '{"name": "Ann"}   or   name=Ann',
            }
        ),
    )

    def run_input(self) -> tuple[dict, dict[str, str]]:
        """(values, texts) as services.run_input_for takes them; ValueError for bad syntax."""
        values, texts = parse_run_input(self.data.get("input", ""))
        # Fields of a page loaded while the flow declared inputs: given, as typed.
        return values, texts | field_texts(self.data)


class DeclaredInputForm(forms.Form):
    """The run form of a flow that declares its inputs: one field per input, in the order of the
    declaration, each sending text read by its input's type as `runflow --input` reads it
    (runner.engine.typed_text), so both say the same about the same text. A blank field is
    not given: its input gets its default, or null, or "required" when it has neither."""

    declared = True
    prefix = "input"

    def __init__(self, specs: Mapping[str, InputSpec], data=None) -> None:
        super().__init__(data)
        for index, spec in enumerate(specs.values()):
            self.fields[spec.name] = _input_field(spec, f"run-input-{index}")

    def run_input(self) -> tuple[dict, dict[str, str]]:
        # Every field posted, those of inputs no longer declared too (the page was loaded
        # before the definition changed): they are refused as unknown, never dropped.
        return {}, field_texts(self.data)


def field_texts(data: Mapping[str, str]) -> dict[str, str]:
    """The text of each input field posted ("input-<name>"); a blank field is not given."""
    prefix = DeclaredInputForm.prefix + "-"
    return {
        key.removeprefix(prefix): text.replace("\r\n", "\n")
        for key, text in data.items()
        if key.startswith(prefix) and text.strip()
    }


def _input_field(spec: InputSpec, field_id: str) -> forms.Field:
    # Never validated by Django: the texts go through the one check of every entry point.
    needed = spec.required and not spec.has_default
    attrs = {"id": field_id, "aria-describedby": f"{field_id}-help"}
    if needed:
        # Marked, not enforced by the browser: a blank field gets the server's message.
        attrs["aria-required"] = "true"
    default = _text_of(spec.default) if spec.has_default else None
    if spec.enum is not None or spec.type == "boolean":
        choices = [_text_of(c) for c in spec.enum] if spec.enum is not None else ["true", "false"]
        blank = f"(default: {default})" if default is not None else "(not given)"
        widget = forms.Select(attrs=attrs, choices=[("", blank), *((c, c) for c in choices)])
    else:
        attrs |= {"autocomplete": "off", "spellcheck": "false"}
        example = {"object": "{}", "array": "[]"}.get(spec.type)
        if default is not None or example is not None:
            attrs["placeholder"] = default if default is not None else example
        if spec.type in ("object", "array"):
            widget = forms.Textarea(attrs={**attrs, "rows": 3})
        else:
            numeric = {"integer": "numeric", "number": "decimal"}.get(spec.type)
            widget = forms.TextInput(attrs={**attrs, "inputmode": numeric} if numeric else attrs)
    field = forms.CharField(
        required=False, strip=False, label=spec.name, help_text=_help_text(spec, default), widget=widget
    )
    field.input_required = needed
    return field


def _text_of(value) -> str:
    """A value as it is typed in a field: a string as itself, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _help_text(spec: InputSpec, default: str | None) -> str:
    parts = [spec.type]
    if default is not None:
        parts.append(f"default {default}" if default else 'default ""')
    elif not spec.required:
        parts.append("optional")
    if spec.description:
        parts.append(spec.description)
    return " · ".join(parts)


class LocalTimeRangeForm(forms.Form):
    """From/To typed in the browser's time zone, as the pages show times, and kept within the
    dates any zone can convert to UTC."""

    since = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1})
    )
    until = forms.DateTimeField(
        required=False, label="To", widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1})
    )
    # Filled in by static/js/workflow.js with the browser's zone; without JavaScript, UTC.
    tz = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput(attrs={"data-tz": ""}))

    def zone(self):
        try:
            return zoneinfo.ZoneInfo(self.data.get("tz") or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def _aware(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=None)
        if not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(
                f"Dates must be between {EARLIEST.date()} and {LATEST.date()}.", code="date_range"
            )
        return timezone.make_aware(value, self.zone())

    def clean_since(self):
        return self._aware(self.cleaned_data.get("since"))

    def clean_until(self):
        return self._aware(self.cleaned_data.get("until"))


# Who starts runs: the dashboard, `manage.py runflow`, the scheduler, the HTTP API and webhooks.
RUN_TRIGGERS = ("web", "cli", "schedule", "api", "webhook", "resume")


class RunFilterForm(LocalTimeRangeForm):
    flow = forms.ChoiceField(required=False, label="Flow")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "any status")] + [(s, s) for s in Run.Status.values],
    )
    trigger = forms.ChoiceField(
        required=False, choices=[("", "any trigger")] + [(t, t) for t in RUN_TRIGGERS]
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, data, flow_names: list[str]):
        super().__init__(data)
        self.fields["since"].label, self.fields["until"].label = "Queued from", "Queued until"
        choices = [("", "any flow")] + [(name, name) for name in flow_names]
        asked = data.get("flow", "")
        if asked and asked not in flow_names:
            # Runs keep the name of a flow that is gone from wf_flow; they stay findable.
            choices.append((asked[:128], f"{asked[:128]} (no longer in wf_flow)"))
        self.fields["flow"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(
                f"{self['since'].label} must not be later than {self['until'].label}.", code="date_order"
            )
        return data


WIDGETS = "django/forms/widgets/"
# The widget templates that are only `{% include "django/forms/widgets/input.html" %}`.
INPUTS = {
    f"{WIDGETS}{name}.html"
    for name in ("input", "text", "search", "number", "hidden", "checkbox", "datetime")
}


class WidgetsInPython(DjangoTemplates):
    """Django's form renderer, with the templates of the <input> and <select> widgets written
    in Python: the template engine took about 0.11 ms a widget (its template, an include for
    the attributes, another per option), 0.9 ms for the log filters' eight, a sixth of a log
    page (benchmarks/logviewer.py); this takes a few µs. Other templates render as usual.
    tests/web/test_widgets_in_python.py holds the output equal to the templates'.
    """

    def render(self, template_name, context, request=None):
        if template_name in INPUTS:
            return _input_html(context["widget"])
        if template_name == f"{WIDGETS}select.html" and all(
            option["template_name"] == f"{WIDGETS}select_option.html"
            for _, options, _ in context["widget"]["optgroups"]
            for option in options
        ):
            return _select_html(context["widget"])
        return super().render(template_name, context, request)


# conditional_escape is what `{{ value }}` and `{{ value|stringformat:'s' }}` write.
def _input_html(widget: dict) -> str:
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget)}>'


def _select_html(widget: dict) -> str:
    html = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget)}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name:
            html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            # The option template's line end stays: the select includes it unstripped.
            value, label = conditional_escape(option["value"]), conditional_escape(option["label"])
            html.append(f'\n  <option value="{value}"{_attrs(option)}>{label}</option>\n')
        if group_name:
            html.append("\n  </optgroup>")
    return "".join(html) + "\n</select>"


def _attrs(widget: dict) -> str:
    # django/forms/widgets/attrs.html: False leaves the attribute out, True writes its bare name.
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in widget["attrs"].items()
        if value is not False
    )


class LogFilterForm(LocalTimeRangeForm):
    default_renderer = WidgetsInPython()

    level = forms.ChoiceField(
        required=False, label="Minimum level", choices=[("", "any level")] + [(n, n) for n in SysLog.LEVELS]
    )
    logger = forms.CharField(
        required=False,
        max_length=255,
        label="Logger starts with",
        help_text="“Logger starts with” is a prefix: workflow.run.1 also matches runs 10-19.",
        widget=forms.TextInput(attrs={"placeholder": "workflow.run", "size": 18}),
    )
    q = forms.CharField(
        required=False, max_length=200, label="Message contains", widget=forms.SearchInput(attrs={"size": 18})
    )
    tail = forms.BooleanField(required=False, label="Live tail")
    # One run's own lines: its logger and that logger's children, never run 10's for run 1.
    run = forms.IntegerField(
        required=False,
        min_value=1,
        label="Run",
        help_text="“Run” shows one run's own lines (its logger and its children).",
        widget=forms.NumberInput(attrs={"placeholder": "id", "class": "run-id"}),
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
