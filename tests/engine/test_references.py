import contextlib
import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.engine import ParameterResolutionError, freeze
from runner.engine.references import resolve

CONTEXT = freeze(
    {
        "_runtime": {"run_id": 7, "flow_name": "daily", "start_time": "2025-12-19T08:39:02.002+00:00"},
        "_input": {"day": "monday", "tags": ["a", "b"]},
        "step1": {"msg": "hello", "user": {"email": "kk@gmail.com"}, "items": [{"id": 1}, {"id": 2}]},
    }
)


def resolved(value):
    return resolve({"p": value}, CONTEXT, "step2")["p"]


def resolution_error(value):
    with pytest.raises(ParameterResolutionError) as raised:
        resolve({"msg": value}, CONTEXT, "step2")
    assert raised.value.step == "step2"
    return str(raised.value)


def test_at_step_gives_the_full_result():
    assert resolved("@step1") == CONTEXT["step1"]


def test_at_step_key_gives_one_key():
    assert resolved("@step1.msg") == "hello"


def test_at_at_gives_literal_at():
    assert resolved("@@example") == "@example"


def test_plain_value_is_a_literal():
    assert resolved("value") == "value"


def test_email_address_is_a_literal():
    assert resolved("kk@gmail.com") == "kk@gmail.com"


def test_reference_inside_a_longer_string_is_a_literal():
    assert resolved("id-@step1.msg") == "id-@step1.msg"


def test_non_string_values_are_literals():
    assert [resolved(v) for v in (1, 2.5, True, None)] == [1, 2.5, True, None]


def test_seed_example_params_resolve():
    params = {"msg": "@step1.msg", "email": "kk@gmail.com", "raw": "@@example"}
    assert resolve(params, CONTEXT, "step2") == {"msg": "hello", "email": "kk@gmail.com", "raw": "@example"}


def test_deeper_path_walks_nested_objects():
    assert resolved("@step1.user.email") == "kk@gmail.com"


def test_list_items_are_reached_by_index():
    assert resolved("@step1.items.1.id") == 2


def test_references_inside_nested_objects_and_lists_are_resolved():
    params = {"outer": {"list": ["@step1.msg", {"deep": "@_input.day"}, "@@x"], "n": 1}}
    assert resolve(params, CONTEXT, "step2") == {
        "outer": {"list": ["hello", {"deep": "monday"}, "@x"], "n": 1}
    }


def test_dict_keys_are_never_resolved():
    assert resolve({"@step1": {"@step1.msg": 1}}, CONTEXT, "s") == {"@step1": {"@step1.msg": 1}}


def test_at_input_gives_the_whole_input():
    assert resolved("@_input") == {"day": "monday", "tags": ["a", "b"]}


def test_at_input_key_gives_one_input_value():
    assert resolved("@_input.tags.0") == "a"


def test_at_runtime_key_gives_runtime_data():
    assert [resolved(f"@_runtime.{key}") for key in ("run_id", "flow_name")] == [7, "daily"]


def test_params_key_order_is_kept():
    assert list(resolve({"b": "@step1.msg", "a": 1, "c": "@@c"}, CONTEXT, "s")) == ["b", "a", "c"]


def test_missing_key_error_names_step_path_reference_and_key():
    assert resolution_error("@step1.msgx") == (
        'step2: params.msg: "@step1.msgx": step1\'s result has no key "msgx" (it has: msg, user, items)'
    )


def test_missing_nested_key_error_says_where():
    assert 'step1\'s result at user has no key "name"' in resolution_error("@step1.user.name")


def test_index_out_of_range_error_gives_the_length():
    assert "step1's result at items has no item 5 (it has 2 items)" in resolution_error("@step1.items.5")


def test_an_index_of_thousands_of_digits_is_an_item_the_list_does_not_have():
    # int() refuses strings over 4300 digits with a plain ValueError.
    assert "step1's result at items has no item 1111" in resolution_error("@step1.items." + "1" * 5000)


def test_non_numeric_index_into_a_list_is_an_error():
    assert '"first" is not an item number' in resolution_error("@step1.items.first")


def test_indexing_into_a_string_is_an_error():
    assert 'is str, not an object or a list, so it has no "x"' in resolution_error("@step1.msg.x")


def test_step_that_has_not_run_is_an_error():
    assert "no step named step3 has run before this one" in resolution_error("@step3.msg")


def test_missing_input_key_is_an_error():
    assert 'the run input has no key "month"' in resolution_error("@_input.month")


def test_malformed_reference_fails_at_resolution_when_not_validated():
    assert resolution_error("@step1..msg").startswith('step2: params.msg: "@step1..msg" has an empty key')


def test_error_path_points_into_nested_params():
    with pytest.raises(ParameterResolutionError, match=r"params\.a\[1\]\[\"b c\"\]"):
        resolve({"a": [0, {"b c": "@step1.nope"}]}, CONTEXT, "s")


@given(st.text().filter(lambda s: not s.startswith("@")))
def test_literal_not_starting_with_at_is_returned_unchanged(text):
    assert resolved(text) == text


@given(st.text())
def test_double_at_gives_single_at(text):
    assert resolved("@@" + text) == "@" + text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
references = st.sampled_from(["@step1", "@step1.msg", "@step1.items.0", "@_input.tags", "@step1.user", "@@x"])


# Failed resolutions count too: a reference that cannot be resolved must leave everything as it was.
@given(st.dictionaries(st.text(max_size=3), json_values | references, max_size=4))
def test_resolving_never_mutates_the_context(params):
    context = {"_input": {"tags": ["a"]}, "step1": {"msg": "m", "items": [1], "user": {"e": "x"}}}
    before = copy.deepcopy(context)
    with contextlib.suppress(ParameterResolutionError):
        resolve(params, context, "s")
    assert context == before


@given(st.dictionaries(st.text(max_size=3), json_values, max_size=4))
def test_resolving_never_mutates_the_params(params):
    before = copy.deepcopy(params)
    with contextlib.suppress(ParameterResolutionError):
        resolve(params, CONTEXT, "s")
    assert params == before
