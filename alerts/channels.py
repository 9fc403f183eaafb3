"""Channels: named Apprise URLs. Adding, removing, masking, and sending one message at once.

A channel's URL holds its credentials (a Slack token, a mail password): it is shown masked
everywhere once saved, and never written to a log.
"""

import json
import re
from dataclasses import dataclass

import apprise
from django.db import IntegrityError, transaction

from alerts.models import Channel
from flows.models import Flow

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_URL = 2000
SEND_TIMEOUT = 15  # seconds one delivery may take: the sender must get on with the others
TEST_MESSAGE = "Test message from Workflow: this channel works."


class ChannelError(Exception):
    """A request about channels that is refused; the message says why, in one line."""


@dataclass(frozen=True)
class Sent:
    ok: bool
    error: str = ""  # what Apprise reported, when not ok


def masked(url: str) -> str:
    """The URL with its secrets hidden (Apprise's privacy form), or a placeholder."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return "(an URL Apprise cannot read)"
    return plugin.url(privacy=True)


def add(name: str, url: str, *, created_by: str = "") -> Channel:
    name, url = name.strip(), url.strip()
    if not NAME.fullmatch(name):
        raise ChannelError(
            f"{name!r} cannot be a channel name: 1 to 64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    if len(url) > MAX_URL:
        raise ChannelError(f"the URL is {len(url):,} characters long; the limit is {MAX_URL:,}")
    if apprise.Apprise.instantiate(url) is None:
        raise ChannelError(
            "Apprise cannot read this URL: see https://github.com/caronc/apprise/wiki for the forms"
        )
    # MySQL compares names without case: refuse "Ops" beside "ops" on every database alike.
    if Channel.objects.filter(name__iexact=name).exists():
        raise ChannelError(f"a channel named {name!r} exists already")
    try:
        with transaction.atomic():
            return Channel.objects.create(name=name, url=url, created_by=created_by)
    except IntegrityError as err:
        raise ChannelError(f"a channel named {name!r} exists already") from err


def named(name: str) -> Channel:
    channel = Channel.objects.filter(name=name).first()
    if channel is None or channel.name != name:
        raise ChannelError(f"no channel is named {name!r}")
    return channel


def remove(name: str) -> None:
    """Delete the channel, unless a flow's rules still send to it (their runs would fail
    to notify; the flow's editor would refuse to save the definition as it is)."""
    channel = named(name)
    users = flows_notifying(name)
    if users:
        shown = ", ".join(repr(flow) for flow in users[:5]) + (" ..." if len(users) > 5 else "")
        raise ChannelError(f"the notify rules of flow(s) {shown} send to {name!r}: change them first")
    channel.delete()


def flows_notifying(name: str) -> list[str]:
    """The names of the flows whose current definition has a notify rule for the channel."""
    # The text search narrows the rows to parse; the parse decides.
    candidates = Flow.all_objects.filter(deleted=False, flow_json__contains=json.dumps(name)[1:-1])
    found = []
    for flow_name, text in candidates.values_list("flow_name", "flow_json").iterator():
        try:
            rules = json.loads(text).get("notify")
        except (ValueError, AttributeError):
            continue
        if isinstance(rules, list) and any(isinstance(r, dict) and r.get("channel") == name for r in rules):
            found.append(flow_name)
    return sorted(found)


def sender_for(url: str) -> apprise.Apprise | None:
    """An Apprise object for one URL (one per channel: a channel's failure is its own), or
    None when Apprise cannot read the URL."""
    sender = apprise.Apprise()
    return sender if sender.add(url) else None


def send(sender: apprise.Apprise | None, title: str, body: str) -> Sent:
    """Send one message now; what Apprise said when it failed."""
    if sender is None:
        return Sent(False, "Apprise cannot read this channel's URL")
    problems = []

    def note(entry, _plugin) -> None:
        if entry.level in ("WARNING", "ERROR"):
            problems.append(str(entry.message))

    try:
        result = sender.notify(body=body, title=title, timeout=SEND_TIMEOUT, log_callback=note)
    except Exception as err:  # a plugin's bug must not stop the sender
        return Sent(False, f"{type(err).__name__}: {err}")
    if result:
        return Sent(True)
    return Sent(False, "; ".join(problems)[:2000] or "the channel refused the message")


def send_test(name: str) -> Sent:
    """Send a test message to the channel at once (not through the outbox)."""
    return send(sender_for(named(name).url), "Workflow", TEST_MESSAGE)
