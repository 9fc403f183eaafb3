"""Procedures get private copies of their params; stored results stay read-only."""

from runner.engine import FrozenDict, freeze, run_flow, thaw

from .helpers import PROCS, definition, new_logger, step


def run(*steps):
    return run_flow(definition(*steps), logger=new_logger(), packages=PROCS)


def test_a_procedure_may_append_to_a_list_from_an_earlier_result_which_stays_unchanged():
    context = run(step("a", rows=["x"]), step("b", "append_row", "Copies", rows="@a.rows"))

    assert context["b"] == {"rows": ["x", "new"]}
    assert context["a"] == {"rows": ["x"]}


def test_a_later_step_sees_the_stored_result_not_the_change():
    context = run(
        step("a", rows=["x"]),
        step("b", "append_row", "Copies", rows="@a.rows"),
        step("c", "stored_row_count", "Copies", step="a"),
    )
    assert context["c"] == {"count": 1}


def test_a_procedure_may_change_nested_literal_params():
    context = run(step("a", "set_default", "Copies", opts={"nested": {"list": [1, 2]}}))
    assert context["a"] == {"opts": {"nested": {"list": [1, 2, 3]}, "added": True}}


def test_literal_params_are_fresh_for_each_step_of_a_run_and_each_run():
    flow = definition(step("a", "set_default", "Copies", opts={"nested": {"list": []}}))
    for _ in range(2):
        context = run_flow(flow, logger=new_logger(), packages=PROCS)
        assert context["a"]["opts"]["nested"]["list"] == [3]
    assert flow.procedures[0].params == {"opts": {"nested": {"list": []}}}


def test_a_procedure_may_change_a_copy_of_the_run_input():
    flow = definition(step("a", "append_row", "Copies", rows="@_input.rows"))
    context = run_flow(flow, logger=new_logger(), packages=PROCS, input={"rows": [1]})
    assert context["_input"] == {"rows": [1]} and context["a"] == {"rows": [1, "new"]}


def test_a_value_referenced_twice_in_one_step_is_one_copy():
    context = run(step("a", rows=[1]), step("b", "same_object", "Copies", a="@a.rows", b="@a.rows"))
    assert context["b"] == {"same": True}


def test_thaw_gives_plain_mutable_dicts_and_lists_all_the_way_down():
    copied = thaw(freeze({"a": [{"b": (1, {"c": 2})}]}))
    assert type(copied) is dict and type(copied["a"]) is list and type(copied["a"][0]) is dict
    assert type(copied["a"][0]["b"][1]) is dict
    assert not isinstance(copied["a"][0], FrozenDict)


def test_thaw_keeps_the_sharing_of_what_it_copies():
    shared = freeze({"x": [1]})
    copied = thaw(freeze({"a": shared, "b": shared}))
    assert copied["a"] is copied["b"] and copied["a"] is not shared
