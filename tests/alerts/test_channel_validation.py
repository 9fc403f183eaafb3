"""runner.validation: a notify rule naming no existing channel is a diagnostic."""

import json

import pytest

from runner.validation import flow_analysis, flow_diagnostics
from tests.alerts.helpers import channel, notifying

pytestmark = pytest.mark.django_db


def test_an_unknown_channel_is_a_diagnostic_at_its_path():
    channel("ops")
    text = notifying((["failed"], "ops"), (["lost"], "pager"))

    (diagnostic,) = flow_diagnostics(text)

    assert (diagnostic.code, diagnostic.path) == ("UNKNOWN_CHANNEL", "notify[1].channel")
    assert diagnostic.message.startswith('no channel is named "pager"')


def test_starting_a_run_may_leave_the_channel_check_out():
    assert flow_diagnostics(notifying((["failed"], "pager")), check_channels=False) == []


def test_known_channels_make_no_diagnostic():
    channel("ops")

    assert flow_diagnostics(notifying((["failed"], "ops"))) == []


def test_the_editor_counts_unknown_channels_among_the_problems():
    text = notifying((["failed"], "pager"))

    analysis = flow_analysis(text)

    assert analysis.definition is None
    assert analysis.problem_count == 1
    assert [d.code for d in analysis.diagnostics] == ["UNKNOWN_CHANNEL"]


def test_unknown_channels_are_reported_beside_other_problems():
    text = json.dumps(json.loads(notifying((["failed"], "pager"))) | {"max_duration_seconds": -1})

    codes = sorted(d.code for d in flow_diagnostics(text))

    assert codes == ["OUT_OF_RANGE", "UNKNOWN_CHANNEL"]
