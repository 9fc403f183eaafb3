"""SUBFLOW_CYCLE: a flow whose literal sub-flow calls lead back to itself is refused where its
name is known (saving, creating, starting a run); a call through a reference is left to the
depth limit."""

import json

import pytest

from flows import editing
from flows.editing import InvalidDefinition
from flows.models import Flow
from runner import services
from runner.validation import checked_definition, flow_analysis, flow_diagnostics
from tests.factories import make_flow, step

pytestmark = pytest.mark.django_db


def call(name: str, flow: str) -> dict:
    return step(name, "run", "flow.Flow", flow=flow)


def text(*steps: dict) -> str:
    return json.dumps({"procedures": list(steps)})


def cycles(name: str, *steps: dict) -> list[tuple[str, str, str]]:
    return [(d.code, d.path, d.message) for d in flow_diagnostics(text(*steps), flow_name=name)]


def test_a_flow_calling_itself_is_a_cycle():
    assert cycles("a", step("s", msg="hi"), call("again", "a")) == [
        ("SUBFLOW_CYCLE", "procedures[1].params.flow", 'flow "a" would run itself as a sub-flow: a → a')
    ]


def test_a_cycle_through_other_flows_names_each_of_them():
    make_flow("b", call("to_c", "c"))
    make_flow("c", step("s", msg="hi"), call("to_a", "a"))

    assert cycles("a", call("to_b", "b")) == [
        (
            "SUBFLOW_CYCLE",
            "procedures[0].params.flow",
            'flow "a" would run itself as a sub-flow: a → b → c → a',
        )
    ]


def test_calls_that_never_come_back_are_fine():
    make_flow("b", call("to_c", "c"))
    make_flow("c", call("to_b", "b"))  # a cycle, but not through a

    assert cycles("a", call("to_b", "b"), call("to_missing", "missing")) == []


def test_a_call_through_a_reference_is_not_followed():
    make_flow("b", call("back", "@_input.caller"))

    assert cycles("a", call("to_b", "b"), call("self", "@_input.name")) == []


def test_an_escaped_at_sign_is_a_literal_name():
    assert [code for code, *_ in cycles("@a", call("again", "@@a"))] == ["SUBFLOW_CYCLE"]


def test_without_a_name_there_is_no_cycle_check():
    assert flow_diagnostics(text(call("again", "a"))) == []


def test_another_procedure_named_run_is_not_a_sub_flow_call():
    assert cycles("a", step("s", "run", "Other", flow="a")) == []


def test_saving_a_definition_that_calls_itself_is_refused():
    flow = make_flow("a", step("s", msg="hi"))
    new = text(call("again", "a"))

    with pytest.raises(InvalidDefinition) as refused:
        editing.save_definition(flow, new, base_hash=editing.json_hash(flow.flow_json), user="u")

    assert [d.code for d in refused.value.diagnostics] == ["SUBFLOW_CYCLE"]


def test_creating_a_flow_that_closes_a_cycle_is_refused():
    make_flow("b", call("to_a", "a"))

    with pytest.raises(InvalidDefinition):
        editing.create_flow("a", text(call("to_b", "b")), user="u")


def test_starting_a_run_of_a_cycle_is_refused():
    # Stored before the check existed, or by hand: the run is refused all the same.
    flow = make_flow("a", call("again", "a"))

    with pytest.raises(services.CannotStart) as refused:
        services.create_run(flow, input={}, trigger="test", triggered_by="t")

    assert [d.code for d in refused.value.diagnostics] == ["SUBFLOW_CYCLE"]
    assert checked_definition(flow.flow_json)[1] == []  # without its name, no cycle to see


def test_the_editor_view_lists_the_cycle_when_given_the_name():
    analysis = flow_analysis(text(call("again", "a")), flow_name="a")

    assert (analysis.definition, analysis.problem_count) == (None, 1)
    assert analysis.diagnostics[0].code == "SUBFLOW_CYCLE"


def test_a_stored_flow_the_database_finds_under_another_case_is_followed():
    # MySQL compares flow names without case: the step's "billing" finds, and would run,
    # the flow stored as "Billing". Its calls are followed as that flow's.
    make_flow("Billing", call("back", "a"))

    found = cycles("a", call("to_billing", "billing"))

    if Flow.objects.filter(flow_name="billing").exists():  # a database that ignores case
        assert [code for code, *_ in found] == ["SUBFLOW_CYCLE"]
    else:
        assert found == []
