"""The flow picture: steps in order, an arrow per data reference, problems marked, text escaped."""

import json

from flows.diagram import flow_svg, references, steps_of


def text(*steps) -> str:
    return json.dumps({"procedures": list(steps)})


def s(name, **params):
    return {"name": name, "mod": "common.Kt", "method": "prt", "params": params}


def test_references_are_whole_strings_starting_with_a_single_at():
    params = {"a": "@one.x", "b": ["@two", {"c": "@@literal"}], "d": "mail@example.com", "e": 3}

    assert references(params) == ["@one.x", "@two"]


def test_steps_are_drawn_in_order_with_their_module_and_method():
    svg = flow_svg(text(s("first"), s("second")))

    assert svg.index('data-step="first"') < svg.index('data-step="second"')
    assert "common.Kt.prt" in svg
    assert svg.count('class="seq"') == 1


def test_each_producer_consumer_pair_gets_one_arrow_naming_its_references():
    svg = flow_svg(text(s("a"), s("b", x="@a.msg", y="@a"), s("c", z="@b.msg")))

    assert svg.count('class="ref"') == 2
    assert "<title>@a.msg, @a</title>" in svg


def test_input_and_runtime_references_draw_no_arrow():
    steps = steps_of(text(s("a", x="@_input.name", y="@_runtime.run_id")))

    assert steps[0].feeds_from == {} and steps[0].unknown == []


def test_an_unknown_or_later_reference_marks_the_step():
    steps = steps_of(text(s("a", x="@b.msg"), s("b", x="@nobody")))

    assert [step.error for step in steps] == [True, True]
    assert steps[1].unknown == ["@nobody"]


def test_steps_named_in_diagnostics_are_highlighted():
    svg = flow_svg(text(s("a"), s("b")), {1})

    assert '<g class="step" data-step="a"' in svg
    assert '<g class="step err" data-step="b"' in svg


def test_text_that_is_not_a_flow_draws_nothing():
    assert flow_svg("{not json") == ""
    assert flow_svg('{"procedures": 3}') == ""
    assert flow_svg("[]") == ""


def test_a_half_written_flow_still_draws_what_it_can():
    steps = steps_of(json.dumps({"procedures": [s("a"), 7, {"mod": "x"}]}))

    assert [step.name for step in steps] == ["a", "#1", "#2"]


def test_names_and_references_are_escaped():
    svg = flow_svg(text(s("<b>"), s("c", x="@<b>.x")))

    assert "<b>" not in svg.replace("<title>", "")
    assert "&lt;b&gt;" in svg
