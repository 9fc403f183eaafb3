"""Validation of a flow's notify rules and max_duration_seconds: coded diagnostics with paths."""

import pytest

from runner.engine import NotifyRule, analyse_flow, validate_flow

from .helpers import PROCS, flow, only_diagnostic, problems, step


def notifying(notify, **top):
    return flow(step("a")) | {"notify": notify, **top}


def test_rules_and_max_duration_are_read_into_the_definition():
    source = notifying([{"on": ["failed", "lost"], "channel": "ops"}], max_duration_seconds=600)

    found, diagnostics = validate_flow(source, packages=PROCS)

    assert diagnostics == []
    assert found.notify == (NotifyRule(("failed", "lost"), "ops"),)
    assert found.max_duration_seconds == 600


def test_a_flow_without_rules_has_none():
    found, _ = validate_flow(flow(step("a")), packages=PROCS)

    assert (found.notify, found.max_duration_seconds) == ((), None)


def test_an_unknown_event_is_reported_with_a_suggestion():
    diagnostic = only_diagnostic(notifying([{"on": ["failed", "faild"], "channel": "ops"}]))

    assert (diagnostic.code, diagnostic.path) == ("UNKNOWN_EVENT", "notify[0].on[1]")
    assert diagnostic.message == '"faild" is not an event; did you mean "failed"?'


def test_an_event_that_is_not_text_lists_the_events():
    diagnostic = only_diagnostic(notifying([{"on": [3], "channel": "ops"}]))

    assert diagnostic.message.startswith("3 is not an event; the events are failed, lost, timed_out")


@pytest.mark.parametrize(
    ("notify", "expected"),
    [
        ({"on": ["failed"], "channel": "ops"}, [("SCHEMA", "notify")]),
        (["ops"], [("SCHEMA", "notify[0]")]),
        ([{"on": ["failed"]}], [("SCHEMA", "notify[0].channel")]),
        ([{"on": ["failed"], "channel": ""}], [("SCHEMA", "notify[0].channel")]),
        ([{"on": ["failed"], "channel": "x" * 65}], [("SCHEMA", "notify[0].channel")]),
        ([{"on": [], "channel": "ops"}], [("SCHEMA", "notify[0].on")]),
        ([{"on": "failed", "channel": "ops"}], [("SCHEMA", "notify[0].on")]),
        ([{"on": ["failed"], "channel": "ops", "to": "x"}], [("SCHEMA", "notify[0].to")]),
    ],
)
def test_a_badly_shaped_rule_is_reported_at_its_path(notify, expected):
    assert problems(notifying(notify)) == expected


@pytest.mark.parametrize("value", [0, -1, "60", True, 10**9])
def test_a_bad_max_duration_is_reported_at_its_path(value):
    assert problems(flow(step("a")) | {"max_duration_seconds": value}) == [
        ("OUT_OF_RANGE", "max_duration_seconds")
    ]


def test_the_channels_named_are_listed_even_when_the_definition_has_other_problems():
    source = notifying([{"on": ["failed"], "channel": "ops"}, {"on": ["nope"], "channel": "team"}])

    analysis = analyse_flow(source, packages=PROCS)

    assert analysis.definition is None
    assert analysis.channels == (("notify[0].channel", "ops"), ("notify[1].channel", "team"))
