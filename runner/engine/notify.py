"""A flow's notification rules (its top-level "notify" list): which events of its runs are
sent to which channels. The engine checks their shape and event names; whether a channel of
that name exists is the database's business (runner.validation)."""

import difflib
from dataclasses import dataclass

from .diagnostics import key_path

NOTIFY_EVENTS = (
    "failed", "lost", "timed_out", "cancelled", "succeeded", "recovered", "late", "slow", "deadline_missed",
)  # fmt: skip
MAX_CHANNEL_NAME = 64  # alerts.models.Channel.name
_RULE_KEYS = ("on", "channel")
_EXAMPLE = '{"on": ["failed"], "channel": "ops"}'


@dataclass(frozen=True, slots=True)
class NotifyRule:
    """Send the events ``on`` of the flow's runs to the channel named ``channel``."""

    on: tuple[str, ...]
    channel: str


def notify_problems(
    value,
) -> tuple[tuple[NotifyRule, ...], list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Read a flow's ``notify`` list: ``(rules, problems, channels)``. Each problem is
    ``(code, path below notify, message)``; ``channels`` lists ``(path, name)`` of every
    channel named, even in a faulty rule, for the database's check of the names."""
    if not isinstance(value, list):
        return (), [("SCHEMA", "", f'"notify" must be a list of rules such as [{_EXAMPLE}]')], []
    rules, problems, channels = [], [], []
    for index, item in enumerate(value):
        where = f"[{index}]"
        if not isinstance(item, dict):
            problems.append(("SCHEMA", where, f"each rule must be an object such as {_EXAMPLE}"))
            continue
        for key in item:
            if key not in _RULE_KEYS:
                message = f'unknown key "{key}": a rule has "on" and "channel"'
                problems.append(("SCHEMA", where + key_path(key), message))
        channel = _channel(item, where, problems)
        if channel:
            channels.append((f"{where}.channel", channel))
        events = _events(item, where, problems)
        if channel and events:
            rules.append(NotifyRule(events, channel))
    return tuple(rules), problems, channels


def _channel(item: dict, where: str, problems: list) -> str | None:
    channel = item.get("channel")
    if not isinstance(channel, str) or not channel.strip():
        problems.append(("SCHEMA", f"{where}.channel", '"channel" is required: the name of a channel'))
        return None
    if len(channel) > MAX_CHANNEL_NAME:
        message = f"a channel name has at most {MAX_CHANNEL_NAME} characters, this one has {len(channel)}"
        problems.append(("SCHEMA", f"{where}.channel", message))
        return None
    return channel


def _events(item: dict, where: str, problems: list) -> tuple[str, ...]:
    on = item.get("on")
    if not isinstance(on, list) or not on:
        message = f'"on" is required: a non-empty list of events ({", ".join(NOTIFY_EVENTS)})'
        problems.append(("SCHEMA", f"{where}.on", message))
        return ()
    events = []
    for index, event in enumerate(on):
        if event in NOTIFY_EVENTS:
            events.append(event)
            continue
        message = f"{event!r} is not an event; the events are {', '.join(NOTIFY_EVENTS)}"
        if isinstance(event, str) and (close := difflib.get_close_matches(event, NOTIFY_EVENTS, n=1)):
            message = f'"{event}" is not an event; did you mean "{close[0]}"?'
        problems.append(("UNKNOWN_EVENT", f"{where}.on[{index}]", message))
    # A faulty rule sends nothing rather than part of what was asked.
    return tuple(events) if len(events) == len(on) else ()
