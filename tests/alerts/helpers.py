import json

from alerts.models import Channel
from flows.models import Flow
from runner.models import Run
from tests.factories import EXAMPLE, make_flow, make_run


def notifying(*rules: tuple[list[str], str], **top) -> str:
    """A flow definition (the example's steps) with notify rules of (events, channel)."""
    notify = [{"on": on, "channel": channel} for on, channel in rules]
    return json.dumps({"procedures": list(EXAMPLE), "notify": notify, **top})


def nightly(*rules: tuple[list[str], str], **top):
    """The flow "nightly" with the rules given, and a maker of its finished runs."""
    definition = notifying(*rules, **top)
    if not Flow.all_objects.filter(flow_name="nightly").exists():
        make_flow("nightly", *EXAMPLE)

    def run(status: str = "failed", **fields) -> Run:
        return make_run("nightly", status, definition=definition, **fields)

    return run


def channel(name: str = "ops", url: str = "json://127.0.0.1:9/hook") -> Channel:
    return Channel.objects.create(name=name, url=url)
