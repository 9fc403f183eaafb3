"""Declared inputs in the engine: reading a flow's "inputs", checking a run's input against it,
reading key=value text by type, and the diagnostics validation gives."""

import math

import pytest

from runner.engine import InputSpec, check_input, declared_inputs, read_declaration, typed_text, validate_flow

from .helpers import PROCS, flow, problems, step

NIGHTLY = {
    "day": {"type": "string", "required": True, "description": "YYYY-MM-DD"},
    "limit": {"type": "integer", "default": 100},
    "mode": {"type": "string", "enum": ["full", "delta"], "default": "delta"},
}


def specs_of(declaration: dict) -> dict[str, InputSpec]:
    specs, found = read_declaration(declaration)
    assert found == [], found
    return specs


def checked(declaration: dict, values: dict, texts: dict | None = None) -> tuple[dict, list[str]]:
    return check_input(specs_of(declaration), values, texts)


# read_declaration


def test_a_declaration_gives_one_spec_per_input_in_its_order():
    specs = specs_of(NIGHTLY)

    assert list(specs) == ["day", "limit", "mode"]
    assert specs["day"] == InputSpec("day", "string", required=True, description="YYYY-MM-DD")
    assert specs["limit"] == InputSpec("limit", "integer", has_default=True, default=100)
    assert specs["mode"].enum == ("full", "delta")


@pytest.mark.parametrize("kind", ["string", "integer", "number", "boolean", "object", "array"])
def test_every_type_can_be_declared(kind):
    assert specs_of({"x": {"type": kind}})["x"].type == kind


def test_an_integer_default_written_as_5_0_is_the_integer_5():
    default = specs_of({"n": {"type": "integer", "default": 5.0}})["n"].default

    assert (default, type(default)) == (5, int)


def test_unicode_input_names_are_declared_as_written():
    assert list(specs_of({"名前": {"type": "string"}, "día": {"type": "integer"}})) == ["名前", "día"]


def test_inputs_that_are_not_an_object_are_refused():
    assert read_declaration([]) == (
        None,
        [("BAD_INPUTS", "inputs", '"inputs" must be an object: {"name": {"type": "string"}, ...}')],
    )


def test_every_problem_of_a_declaration_is_listed_with_its_path():
    declaration = {
        "a": {"type": "strin", "requird": True},
        "b.c": {"type": "string"},
        "d": {"type": "integer", "default": "x", "enum": [1, "2"]},
        "e": {"type": "string", "enum": []},
        "f": 3,
        "g h": {"type": "boolean", "required": "yes"},
    }

    specs, found = read_declaration(declaration)

    assert specs is None
    assert [(code, path) for code, path, _ in found] == [
        ("BAD_INPUTS", "inputs.a.requird"),
        ("BAD_INPUTS", "inputs.a.type"),
        ("BAD_INPUTS", 'inputs["b.c"]'),
        ("BAD_INPUTS", "inputs.d.enum[1]"),
        ("BAD_INPUTS", "inputs.d.default"),
        ("BAD_INPUTS", "inputs.e.enum"),
        ("BAD_INPUTS", "inputs.f"),
        ("BAD_INPUTS", 'inputs["g h"].required'),
    ]


def test_a_misspelt_key_or_type_of_an_input_gets_a_did_you_mean():
    _, found = read_declaration({"a": {"type": "strin", "requird": True}})

    messages = [message for _, _, message in found]
    assert messages[0].endswith("; did you mean required?")
    assert messages[1] == (
        '"type" must be one of string, integer, number, boolean, object, array (it is "strin");'
        " did you mean string?"
    )


def test_a_default_outside_the_enum_is_refused():
    _, found = read_declaration({"mode": {"type": "string", "enum": ["full", "delta"], "default": "all"}})

    assert found == [("BAD_INPUTS", "inputs.mode.default", 'the default "all" is not one of "full", "delta"')]


@pytest.mark.parametrize("name", ["", "@day", "a.b", "x" * 101])
def test_names_that_references_cannot_reach_are_refused(name):
    _, found = read_declaration({name: {"type": "string"}})

    assert [code for code, _, _ in found] == ["BAD_INPUTS"]


def test_declared_inputs_reads_a_definition_text():
    text = '{"inputs": {"n": {"type": "integer"}}, "procedures": []}'

    assert list(declared_inputs(text)) == ["n"]


@pytest.mark.parametrize(
    "source",
    ['{"procedures": []}', "{oops", "[]", '{"inputs": {"n": {"type": "int"}}}'],
    ids=["no-inputs", "not-json", "not-an-object", "bad-declaration"],
)
def test_declared_inputs_is_none_without_a_readable_declaration(source):
    assert declared_inputs(source) is None


# check_input: JSON values, checked as given


def test_defaults_fill_what_is_not_given():
    assert checked(NIGHTLY, {"day": "2025-03-01"}) == (
        {"day": "2025-03-01", "limit": 100, "mode": "delta"},
        [],
    )


def test_a_given_value_wins_over_the_default():
    assert checked(NIGHTLY, {"day": "d", "limit": 5})[0]["limit"] == 5


def test_an_optional_input_with_no_default_and_no_value_is_null():
    assert checked({"note": {"type": "string"}}, {}) == ({"note": None}, [])


def test_a_required_input_with_no_value_is_refused_with_its_description():
    assert checked(NIGHTLY, {})[1] == ["day: required (YYYY-MM-DD), and no value was given"]


def test_a_required_input_with_a_default_takes_the_default():
    assert checked({"n": {"type": "integer", "required": True, "default": 3}}, {}) == ({"n": 3}, [])


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("string", "x"),
        ("integer", -7),
        ("number", 1.5),
        ("number", 2),
        ("boolean", False),
        ("object", {"a": [1]}),
        ("array", [1, "a"]),
    ],
)
def test_a_value_of_the_declared_type_passes_as_given(kind, value):
    assert checked({"x": {"type": kind}}, {"x": value}) == ({"x": value}, [])


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("string", 7, "x: 7 is not a string"),
        ("integer", "5", 'x: "5" is not an integer'),
        ("integer", 5.5, "x: 5.5 is not an integer"),
        ("integer", True, "x: true is not an integer"),
        ("number", "1.5", 'x: "1.5" is not a number'),
        ("boolean", 1, "x: 1 is not a boolean"),
        ("object", [], "x: [] is not a JSON object"),
        ("array", {}, "x: {} is not a JSON array"),
    ],
)
def test_a_value_of_another_type_is_refused(kind, value, problem):
    assert checked({"x": {"type": kind}}, {"x": value})[1] == [problem]


def test_null_is_refused_for_a_required_input():
    declaration = {"x": {"type": "string", "required": True}}
    assert checked(declaration, {"x": None})[1] == ["x: null is not a string"]


def test_null_stands_for_no_value_of_an_optional_input():
    assert checked({"x": {"type": "string"}}, {"x": None}) == ({"x": None}, [])


def test_5_0_is_the_integer_5():
    data, found = checked({"n": {"type": "integer"}}, {"n": 5.0})

    assert (data, type(data["n"]), found) == ({"n": 5}, int, [])


def test_nan_is_not_an_integer():
    assert checked({"n": {"type": "integer"}}, {"n": math.nan})[1] == ["n: NaN is not an integer"]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_number_that_json_cannot_carry_is_refused(value):
    assert checked({"x": {"type": "number"}}, {"x": value})[1] != []


def test_a_checked_input_passes_the_check_again():
    declaration = {"note": {"type": "string"}, "n": {"type": "integer", "default": 1}}
    data, _ = checked(declaration, {})

    assert checked(declaration, data) == (data, [])


def test_a_value_outside_the_enum_is_refused_with_the_choices():
    assert checked(NIGHTLY, {"day": "d", "mode": "all"})[1] == ['mode: "all" is not one of "full", "delta"']


def test_an_integer_enum_accepts_5_0_for_5():
    assert checked({"n": {"type": "integer", "enum": [5, 10]}}, {"n": 5.0}) == ({"n": 5}, [])


def test_an_unknown_key_is_refused_naming_the_inputs():
    assert checked(NIGHTLY, {"day": "d", "extra": 1})[1] == [
        "extra: not an input of this flow (its inputs: day, limit, mode)"
    ]


def test_an_unknown_key_close_to_an_input_gets_a_did_you_mean():
    found = checked({"name": {"type": "string"}}, {"nmae": "Ann"})[1]

    assert found == ["nmae: not an input of this flow (its inputs: name); did you mean name?"]


def test_an_empty_declaration_refuses_every_key():
    assert checked({}, {"a": 1})[1] == ["a: not an input of this flow (its inputs: none)"]


def test_every_problem_is_listed_at_once():
    _, found = checked(NIGHTLY, {"limit": "many", "mode": "x", "nmae": 1})

    assert found == [
        "nmae: not an input of this flow (its inputs: day, limit, mode)",
        "day: required (YYYY-MM-DD), and no value was given",
        'limit: "many" is not an integer',
        'mode: "x" is not one of "full", "delta"',
    ]


def test_unicode_input_names_are_checked_and_named_in_problems():
    declaration = {"名前": {"type": "string", "required": True}, "día": {"type": "integer"}}

    assert checked(declaration, {"día": "x"})[1] == [
        "名前: required, and no value was given",
        'día: "x" is not an integer',
    ]


def test_without_a_declaration_values_pass_as_given():
    assert check_input(None, {"a": {"b": [1]}, "c": None}) == ({"a": {"b": [1]}, "c": None}, [])


# check_input: texts, read by type


def test_texts_win_over_values_of_the_same_key():
    assert checked(NIGHTLY, {"day": "a", "limit": 1}, {"limit": "2"})[0]["limit"] == 2


def test_a_string_text_is_kept_exactly_as_typed():
    assert checked(NIGHTLY, {}, {"day": "007"})[0]["day"] == "007"


def test_a_text_that_cannot_be_read_is_refused_once():
    assert checked(NIGHTLY, {}, {"day": "d", "limit": "abc"})[1] == ['limit: "abc" is not an integer']


def test_a_text_of_an_unknown_key_is_refused_as_unknown():
    assert checked(NIGHTLY, {}, {"day": "d", "mdoe": "full"})[1] == [
        "mdoe: not an input of this flow (its inputs: day, limit, mode); did you mean mode?"
    ]


def test_a_text_outside_the_enum_is_refused_with_the_choices():
    assert checked(NIGHTLY, {}, {"day": "d", "mode": "Full"})[1] == [
        'mode: "Full" is not one of "full", "delta"'
    ]


def test_an_integer_enum_reads_its_text():
    assert checked({"n": {"type": "integer", "enum": [5, 10]}}, {}, {"n": "10"}) == ({"n": 10}, [])


def test_without_a_declaration_a_text_is_json_when_it_parses_else_text():
    assert check_input(None, {}, {"n": "3", "t": "true", "s": "007x", "q": '"5"'}) == (
        {"n": 3, "t": True, "s": "007x", "q": "5"},
        [],
    )


def test_without_a_declaration_nan_text_is_refused_with_the_way_out():
    assert check_input(None, {}, {"x": "NaN"})[1] == [
        "x: NaN is not a JSON number: numbers must be finite; quote the value to pass it as text"
    ]


# typed_text, type by type


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("string", " 007 ", " 007 "),
        ("string", "", ""),
        ("string", "true", "true"),
        ("integer", "5", 5),
        ("integer", " -12 ", -12),
        ("integer", "+3", 3),
        ("integer", "123456789012345678901234567890", 123456789012345678901234567890),
        ("number", "1.5", 1.5),
        ("number", "2", 2),
        ("number", "1e3", 1000.0),
        ("boolean", "true", True),
        ("boolean", "Yes", True),
        ("boolean", "on", True),
        ("boolean", "1", True),
        ("boolean", "FALSE", False),
        ("boolean", "no", False),
        ("boolean", "off", False),
        ("boolean", "0", False),
        ("object", '{"a": [1]}', {"a": [1]}),
        ("array", "[1, 2]", [1, 2]),
    ],
)
def test_typed_text_reads_a_text_by_its_type(kind, text, value):
    read = typed_text(InputSpec("x", kind), text)

    assert (read, type(read)) == (value, type(value))


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("integer", "abc", '"abc" is not an integer'),
        ("integer", "5.0", '"5.0" is not an integer'),
        ("integer", "1e3", '"1e3" is not an integer'),
        ("number", "x", '"x" is not a number'),
        ("number", "NaN", "NaN is not a JSON number: numbers must be finite"),
        ("number", "1e400", "the number 1e400 is too large: numbers must be finite, at most about 1.8e308"),
        ("boolean", "maybe", '"maybe" is not a boolean: write true or false'),
        ("boolean", "2", '"2" is not a boolean: write true or false'),
    ],
)
def test_typed_text_refuses_a_text_that_is_not_of_its_type(kind, text, message):
    with pytest.raises(ValueError) as refused:
        typed_text(InputSpec("x", kind), text)

    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("kind", "text"), [("object", "[1]"), ("object", "x"), ("array", "{}"), ("array", "1")]
)
def test_typed_text_refuses_json_of_another_shape(kind, text):
    with pytest.raises(ValueError) as refused:
        typed_text(InputSpec("x", kind), text)

    # The message names the text and what was expected (a JSON object or array).
    assert str(refused.value).startswith(f'"{text}" is not a')
    assert f"JSON {kind}" in str(refused.value)


# Validation


def reading(*references: str, inputs: dict | None = None) -> dict:
    definition = flow(step("a", **{f"p{i}": ref for i, ref in enumerate(references)}))
    return definition if inputs is None else {"inputs": inputs, **definition}


def test_a_flow_with_valid_inputs_validates_and_carries_them():
    found, diagnostics = validate_flow(reading("@_input.day", "@_input", inputs=NIGHTLY), packages=PROCS)

    assert diagnostics == []
    assert list(found.inputs) == ["day", "limit", "mode"]


def test_a_reference_to_an_undeclared_input_is_unknown_input_with_a_did_you_mean():
    _, diagnostics = validate_flow(reading("@_input.dya", inputs=NIGHTLY), packages=PROCS)

    [diagnostic] = diagnostics
    assert (diagnostic.code, diagnostic.path, diagnostic.step) == (
        "UNKNOWN_INPUT",
        "procedures[0].params.p0",
        "a",
    )
    assert diagnostic.message == (
        '"@_input.dya": the flow declares no input "dya" (its inputs: day, limit, mode); did you mean day?'
    )


def test_the_whole_input_and_keys_below_a_declared_input_may_be_referenced():
    assert problems(reading("@_input", "@_input.day.x", inputs=NIGHTLY)) == []


def test_an_empty_declaration_makes_every_named_input_unknown():
    assert problems(reading("@_input.day", inputs={})) == [("UNKNOWN_INPUT", "procedures[0].params.p0")]


def test_bad_inputs_are_diagnostics_at_their_paths():
    inputs = {"day": {"type": "strin"}, "n": {"type": "integer", "default": "x"}}

    assert problems(reading("@_input.day", inputs=inputs)) == [
        ("BAD_INPUTS", "inputs.day.type"),
        ("BAD_INPUTS", "inputs.n.default"),
    ]


def test_a_faulty_input_still_counts_as_declared_for_references():
    # The faulty spec is reported once, never again as an unknown input at each reference.
    assert problems(reading("@_input.day", inputs={"day": {"type": "strin"}})) == [
        ("BAD_INPUTS", "inputs.day.type")
    ]


def test_a_flow_without_inputs_takes_any_input_reference_as_before():
    found, diagnostics = validate_flow(reading("@_input.anything", "@_input"), packages=PROCS)

    assert (diagnostics, found.inputs) == ([], None)


def test_a_misspelt_inputs_key_gets_a_did_you_mean():
    definition = {"input": {}, **reading()}

    _, diagnostics = validate_flow(definition, packages=PROCS)

    assert [(d.code, d.path) for d in diagnostics] == [("SCHEMA", "input")]
    assert diagnostics[0].message.endswith('did you mean "inputs"?')
