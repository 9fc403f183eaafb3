"""Small rendering helpers shared by the dashboard's templates."""

import json
from datetime import UTC, datetime

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from flows.logsearch import run_id_of_logger

register = template.Library()

STATUS_ICONS = {
    "queued": "◷",
    "running": "▶",
    "succeeded": "✔",
    "failed": "✘",
    "cancelled": "⊘",
    "timed_out": "⏱",
    "reused": "↷",
    "waiting": "·",
}


@register.filter
def ts(value: datetime | None) -> str:
    """A <time> in UTC that static/js/workflow.js rewrites to the viewer's timezone.

    Without JavaScript the UTC text stays, labelled as such; the title always holds UTC.
    """
    if value is None:
        return mark_safe('<span class="muted">—</span>')
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%d %H:%M:%S")
    return format_html(
        '<time class="ts" datetime="{}" title="{} UTC">{} UTC</time>',
        utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        text,
        text,
    )


@register.filter
def ts_ms(value: datetime) -> str:
    """A log line's time to the millisecond, with its zone: UTC here, the viewer's zone and
    offset once static/js/workflow.js has rewritten it (`2025-03-01 13:00:00.123 +01:00`)."""
    utc = value.astimezone(UTC)
    text = f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 1000:03d}"
    return format_html(
        '<time class="ts-ms" datetime="{}" title="{} UTC">{} UTC</time>',
        utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        text,
        text,
    )


@register.simple_tag
def logger(name: str) -> str:
    """A logger's name; a run logger's (`workflow.run.13`, `workflow.run.13.http`) links to its run."""
    run_id = run_id_of_logger(name)
    if run_id is None:
        return name
    return format_html(
        '<a href="{}" title="the page of run {}">{}</a>', reverse("wf-run", args=[run_id]), run_id, name
    )


@register.simple_tag
def status(value: str) -> str:
    """A run or step status that reads without colour: icon, then the word."""
    return format_html(
        '<span class="status status-{}" data-status="{}"><span aria-hidden="true">{}</span> {}</span>',
        value,
        value,
        STATUS_ICONS.get(value, "?"),
        value,
    )


@register.filter
def status_icon(value: str) -> str:
    return STATUS_ICONS.get(value, "?")


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def pretty_json(value) -> str:
    """Indented JSON text (escaped by the template like any other string)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)


@register.simple_tag
def level(value: str) -> str:
    return format_html('<span class="level level-{}">{}</span>', value.lower(), value)


@register.filter
def foldable(message: str) -> bool:
    """Long or multi-line log messages are folded into a <details>."""
    return len(message) > 300 or "\n" in message
