"""The flow picture: steps in order, an arrow per data reference, problems marked, text escaped."""

import json

from flows.diagram import MAX_ARROWS, MAX_STEPS, flow_diagram, steps_of
from runner.engine import analyse_flow


def text(*steps) -> str:
    return json.dumps({"procedures": list(steps)})


def s(name, mod="common.Kt", **params):
    return {"name": name, "mod": mod, "method": "prt", "params": params}


def analysed(flow_json: str):
    return analyse_flow(flow_json, packages=("mod",))


def flow_svg(flow_json: str) -> str:
    return flow_diagram(analysed(flow_json)).svg


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
    steps = steps_of(analysed(text(s("a", x="@_input.name", y="@_runtime.run_id"))))

    assert steps[0].feeds_from == {} and steps[0].unknown == []


def test_an_unknown_or_later_reference_marks_the_step():
    steps = steps_of(analysed(text(s("a", x="@b.msg"), s("b", x="@nobody"))))

    assert [step.error for step in steps] == [True, True]
    assert steps[1].unknown == ["@nobody"]


def test_steps_named_in_diagnostics_are_highlighted():
    svg = flow_svg(text(s("a"), s("b", mod="common.Nope")))

    assert '<g class="step" data-step="a"' in svg
    assert '<g class="step err" data-step="b"' in svg


def test_text_that_is_not_a_flow_draws_nothing():
    assert flow_svg("{not json") == ""
    assert flow_svg('{"procedures": 3}') == ""
    assert flow_svg("[]") == ""


def test_a_half_written_flow_still_draws_what_it_can():
    steps = steps_of(analysed(json.dumps({"procedures": [s("a"), 7, {"mod": "x"}]})))

    assert [step.name for step in steps] == ["a", "#1", "#2"]


def test_names_and_references_are_escaped():
    svg = flow_svg(text(s("<b>"), s("c", x="@<b>.x")))

    assert "<b>" not in svg.replace("<title>", "")
    assert "&lt;b&gt;" in svg


def test_at_most_max_steps_are_drawn_and_the_rest_counted():
    diagram = flow_diagram(analysed(text(*(s(f"s{i}") for i in range(MAX_STEPS + 3)))))

    assert diagram.svg.count('<g class="step') == MAX_STEPS
    assert diagram.not_drawn == "3 more steps not drawn"


def test_at_most_max_arrows_are_drawn_the_nearest_consumers_first():
    steps = [s(f"s{i}", **{f"r{j}": f"@s{j}" for j in range(i)}) for i in range(30)]

    diagram = flow_diagram(analysed(text(*steps)))

    assert (diagram.arrows, diagram.arrows_drawn) == (435, MAX_ARROWS)
    assert diagram.svg.count('class="ref"') == MAX_ARROWS
    assert diagram.not_drawn == f"{435 - MAX_ARROWS} more data references not drawn"


def test_an_arrow_names_five_references_and_counts_the_others():
    svg = flow_svg(text(s("a"), s("b", **{f"x{i}": f"@a.k{i}" for i in range(8)})))

    assert "<title>@a.k0, @a.k1, @a.k2, @a.k3, @a.k4 and 3 more</title>" in svg


def test_long_names_are_cut_everywhere_in_the_picture():
    svg = flow_svg(text(s("n" * 5000), s("b", x="@" + "u" * 5000)))

    assert "n" * 200 not in svg and "u" * 200 not in svg
    assert 'data-step="' + "n" * 199 + '…"' in svg
