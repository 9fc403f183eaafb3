import json

import pytest

from runner.engine import FlowDefinition, FrozenDict, Procedure, validate_flow

from .helpers import PROCS, flow, only_diagnostic, problems, step


def test_valid_flow_gives_definition_and_no_diagnostics():
    found, diagnostics = validate_flow(flow(step("a", x=1), step("b", y="@a.x")), packages=PROCS)
    assert diagnostics == []
    assert found == FlowDefinition(
        (
            Procedure("a", "Echo", "echo", {"x": 1}, 0),
            Procedure("b", "Echo", "echo", {"y": "@a.x"}, 1),
        )
    )


def test_seed_example_validates_with_default_packages():
    source = json.dumps(
        {
            "procedures": [
                {"name": "step1", "mod": "common.Kt", "method": "prt", "params": {"msg": "hello"}},
                {"name": "step2", "mod": "common.Kt", "method": "prt", "params": {"msg": "@step1.msg"}},
            ]
        }
    )
    found, diagnostics = validate_flow(source)
    assert diagnostics == []
    assert [p.name for p in found.procedures] == ["step1", "step2"]


def test_params_default_to_empty_object():
    found, _ = validate_flow(flow({"name": "a", "mod": "Echo", "method": "echo"}), packages=PROCS)
    assert found.procedures[0].params == {}


def test_definition_params_are_read_only_copies():
    source = flow(step("a", items=[1]))
    found, _ = validate_flow(source, packages=PROCS)
    source["procedures"][0]["params"]["items"].append(2)
    assert found.procedures[0].params == {"items": [1]}
    assert isinstance(found.procedures[0].params, FrozenDict)


def test_bytes_source_is_accepted():
    found, diagnostics = validate_flow(json.dumps(flow(step("a"))).encode(), packages=PROCS)
    assert found is not None and diagnostics == []


def test_invalid_json_names_line_and_column():
    diagnostic = only_diagnostic('{\n  "procedures": [\n    {"name": }\n  ]\n}')
    assert diagnostic.code == "INVALID_JSON"
    assert "line 3 column 14" in diagnostic.message


def test_absurdly_nested_json_is_reported_not_raised():
    diagnostic = only_diagnostic("[" * 200_000 + "]" * 200_000)
    assert diagnostic.code == "INVALID_JSON"
    assert "nested too deeply" in diagnostic.message


def test_oversized_source_is_refused_before_parsing():
    diagnostic = only_diagnostic(" " * (5 * 1024 * 1024 + 1))
    assert diagnostic.code == "INVALID_JSON"
    assert "5 MB" in diagnostic.message


def test_bytes_that_are_not_utf8_are_invalid_json():
    assert only_diagnostic(b'{"procedures": "\xff"}').code == "INVALID_JSON"


LONG_INTEGER = "1" * 5000


def test_an_integer_longer_than_4300_digits_is_invalid_json_with_its_position():
    diagnostic = only_diagnostic('{\n  "procedures": [' + LONG_INTEGER + "]\n}")
    assert diagnostic.code == "INVALID_JSON"
    assert diagnostic.message == "a number in the JSON has more than 4300 digits (line 2, column 18)"


def test_the_position_of_a_long_integer_skips_the_same_digits_inside_strings():
    source = '{"procedures": [{"name": "' + LONG_INTEGER + '"}, ' + LONG_INTEGER + "]}"
    assert only_diagnostic(source).message.endswith(f"(line 1, column {len(source) - 5000 - 1})")


def test_an_integer_of_4300_digits_is_accepted():
    found, _ = validate_flow(json.dumps(flow(step("a", n=int("9" * 4300)))), packages=PROCS)
    assert found is not None


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_as_not_json_numbers(token):
    source = '{"procedures": [{"name": "a", "mod": "Echo", "method": "echo", "params": {"x": TOKEN}}]}'
    source = source.replace("TOKEN", token)
    diagnostic = only_diagnostic(source)
    assert diagnostic.code == "INVALID_JSON"
    where = f"(line 1, column {source.index(token) + 1})"
    assert diagnostic.message == f"{token} is not a JSON number: numbers must be finite {where}"


def test_a_number_that_overflows_to_infinity_is_refused():
    diagnostic = only_diagnostic('{"procedures": [1e400]}')
    assert diagnostic.code == "INVALID_JSON"
    assert diagnostic.message == (
        "the number 1e400 is too large: numbers must be finite, at most about 1.8e308 (line 1, column 17)"
    )


def test_bytes_with_a_long_integer_are_refused_with_its_position():
    diagnostic = only_diagnostic(b'{"procedures": [' + LONG_INTEGER.encode() + b"]}")
    assert diagnostic.message.endswith("(line 1, column 17)")


def test_top_level_must_be_an_object():
    assert problems("[]") == [("SCHEMA", "")]


def test_missing_procedures_is_a_schema_error():
    assert problems({}) == [("SCHEMA", "procedures")]


def test_unknown_top_level_key_is_a_schema_error():
    assert problems({"procedures": [step("a")], "version": 2}) == [("SCHEMA", "version")]


def test_empty_procedures_list_is_a_schema_error():
    assert problems(flow()) == [("SCHEMA", "procedures")]


def test_procedure_that_is_not_an_object_is_a_schema_error():
    assert problems(flow(step("a"), "b")) == [("SCHEMA", "procedures[1]")]


def test_missing_required_keys_are_each_reported():
    assert problems(flow({"params": {}})) == [
        ("SCHEMA", "procedures[0].name"),
        ("SCHEMA", "procedures[0].mod"),
        ("SCHEMA", "procedures[0].method"),
    ]


def test_unknown_procedure_key_suggests_the_close_one():
    diagnostic = only_diagnostic(flow({"name": "a", "mod": "Echo", "method": "echo", "param": {}}))
    assert (diagnostic.code, diagnostic.path, diagnostic.step) == ("SCHEMA", "procedures[0].param", "a")
    assert 'did you mean "params"' in diagnostic.message


def test_name_must_be_a_non_empty_string():
    assert problems(flow({"name": 3, "mod": "Echo", "method": "echo"})) == [("SCHEMA", "procedures[0].name")]
    assert problems(flow({"name": "", "mod": "Echo", "method": "echo"})) == [("SCHEMA", "procedures[0].name")]


def test_params_must_be_an_object():
    assert problems(flow({"name": "a", "mod": "Echo", "method": "echo", "params": []})) == [
        ("SCHEMA", "procedures[0].params")
    ]


def test_non_json_value_in_params_is_a_schema_error():
    assert problems(flow(step("a", when={1, 2}))) == [("SCHEMA", "procedures[0].params.when")]


def test_params_nested_too_deeply_are_a_schema_error():
    value = "leaf"
    for _ in range(150):
        value = [value]
    assert problems(flow(step("a", deep=value)))[0][0] == "SCHEMA"


def test_duplicate_step_name_points_at_the_second_one():
    diagnostic = only_diagnostic(flow(step("a"), step("a")))
    assert (diagnostic.code, diagnostic.path) == ("DUPLICATE_STEP", "procedures[1].name")
    assert "procedures[0]" in diagnostic.message


def test_name_starting_with_underscore_is_reserved():
    assert problems(flow(step("_runtime"))) == [("RESERVED_NAME", "procedures[0].name")]


def test_a_step_name_longer_than_128_characters_is_refused():
    assert problems(flow(step("s" * 129))) == [("NAME_TOO_LONG", "procedures[0].name")]


def test_a_step_name_of_128_characters_is_accepted():
    assert problems(flow(step("s" * 128))) == []


def test_name_with_a_dot_is_reserved():
    assert problems(flow(step("a.b"))) == [("RESERVED_NAME", "procedures[0].name")]


def test_name_starting_with_at_is_reserved():
    assert problems(flow(step("@a"))) == [("RESERVED_NAME", "procedures[0].name")]


def test_reference_to_unknown_step_suggests_a_close_name():
    diagnostic = only_diagnostic(flow(step("step1"), step("step2", msg="@stepl.msg")))
    assert (diagnostic.code, diagnostic.path, diagnostic.step) == (
        "UNKNOWN_STEP_REF",
        "procedures[1].params.msg",
        "step2",
    )
    assert "did you mean step1" in diagnostic.message


def test_unknown_reserved_name_is_an_unknown_step_ref():
    assert problems(flow(step("a", x="@_foo.bar"))) == [("UNKNOWN_STEP_REF", "procedures[0].params.x")]


def test_reference_to_a_later_step_is_a_forward_ref():
    assert problems(flow(step("a", x="@b.y"), step("b"))) == [("FORWARD_REF", "procedures[0].params.x")]


def test_reference_to_itself_is_a_self_ref():
    assert problems(flow(step("a", x="@a"))) == [("SELF_REF", "procedures[0].params.x")]


def test_malformed_references_are_bad_references():
    for text in ("@", "@step.", "@a..b", "@.x"):
        assert problems(flow(step("a"), step("b", x=text))) == [("BAD_REFERENCE", "procedures[1].params.x")]


def test_unknown_runtime_key_is_a_bad_reference():
    diagnostic = only_diagnostic(flow(step("a", x="@_runtime.started")))
    assert diagnostic.code == "BAD_REFERENCE"
    assert "run_id, flow_name, start_time" in diagnostic.message


def test_input_and_runtime_references_are_valid():
    assert problems(flow(step("a", x="@_input", y="@_input.k", z="@_runtime.run_id"))) == []


def test_escaped_and_embedded_at_signs_are_not_references():
    assert problems(flow(step("a", x="@@nope", y="kk@gmail.com", z="id-@nope.x"))) == []


def test_dict_keys_are_not_checked_as_references():
    assert problems(flow(step("a", x={"@nope": 1}))) == []


def test_reference_path_inside_a_list():
    assert problems(flow(step("a", items=[1, 2, "@zz"]))) == [
        ("UNKNOWN_STEP_REF", "procedures[0].params.items[2]")
    ]


def test_path_quotes_keys_that_are_not_identifiers():
    assert problems(flow(step("a", **{"a b": {"c-d": "@zz"}}))) == [
        ("UNKNOWN_STEP_REF", 'procedures[0].params["a b"]["c-d"]')
    ]


def test_missing_module_is_an_unknown_procedure():
    diagnostic = only_diagnostic(flow(step("a", mod="Nope")))
    assert (diagnostic.code, diagnostic.path) == ("UNKNOWN_PROCEDURE", "procedures[0].mod")
    assert "no module Nope" in diagnostic.message


def test_mod_written_with_its_package_gets_a_hint():
    diagnostic = only_diagnostic(flow(step("a", mod="tests.engine.procs.Echo")))
    assert diagnostic.code == "UNKNOWN_PROCEDURE"
    assert "write 'Echo'" in diagnostic.message


def test_missing_class_is_an_unknown_procedure():
    diagnostic = only_diagnostic(flow(step("a", mod="NoClass")))
    assert diagnostic.code == "UNKNOWN_PROCEDURE"
    assert "has no class NoClass" in diagnostic.message


def test_missing_dependency_is_told_apart_from_missing_module():
    diagnostic = only_diagnostic(flow(step("a", mod="Missingdep")))
    assert diagnostic.code == "UNKNOWN_PROCEDURE"
    assert "imports 'engine_tests_missing_dependency', which is not installed" in diagnostic.message


def test_module_that_raises_on_import_is_reported_not_raised():
    diagnostic = only_diagnostic(flow(step("a", mod="Raises")))
    assert diagnostic.code == "UNKNOWN_PROCEDURE"
    assert "RuntimeError: broken at import" in diagnostic.message


def test_missing_method_is_an_unknown_method_with_a_hint():
    diagnostic = only_diagnostic(flow(step("a", method="ecko")))
    assert (diagnostic.code, diagnostic.path) == ("UNKNOWN_METHOD", "procedures[0].method")
    assert "did you mean echo" in diagnostic.message


def test_module_in_a_subpackage_is_found():
    assert problems(flow(step("a", mod="sub.Deep", method="where"))) == []


def test_method_inherited_from_an_allowed_class_is_accepted():
    assert problems(flow(step("a", mod="Inherited", method="echo"))) == []


def test_every_problem_is_reported_at_once():
    source = flow(
        step("a", x="@d.y"),
        step("a", mod="Nope"),
        step("_c", method="ecko", y="@"),
        {"name": "d", "mod": "Echo", "method": "echo", "extra": 1},
    )
    assert problems(source) == [
        ("FORWARD_REF", "procedures[0].params.x"),
        ("DUPLICATE_STEP", "procedures[1].name"),
        ("UNKNOWN_PROCEDURE", "procedures[1].mod"),
        ("RESERVED_NAME", "procedures[2].name"),
        ("UNKNOWN_METHOD", "procedures[2].method"),
        ("BAD_REFERENCE", "procedures[2].params.y"),
        ("SCHEMA", "procedures[3].extra"),
    ]


def test_an_unknown_top_level_key_that_is_not_an_identifier_has_a_bracketed_path():
    from runner.engine import validate_flow

    source = '{"procedures": [{"name": "s", "mod": "common.Kt", "method": "prt"}], "a b": 1}'

    _, diagnostics = validate_flow(source)

    assert [(d.code, d.path) for d in diagnostics] == [("SCHEMA", '["a b"]')]


def test_an_analysis_lists_at_most_max_diagnostics_and_counts_every_problem():
    from runner.engine import analyse_flow

    source = flow(step("a", **{f"x{i}": "@" for i in range(10)}), step("a", mod="Nope"))

    analysis = analyse_flow(source, packages=PROCS, max_diagnostics=3)

    assert analysis.definition is None
    assert [d.path for d in analysis.diagnostics] == [f"procedures[0].params.x{i}" for i in range(3)]
    assert analysis.problem_count == 12
    assert [s.error for s in analysis.steps] == [True, True]


def test_an_analysis_outlines_each_step_with_the_references_validation_found():
    from runner.engine import NO_STEP, RUN_DATA, analyse_flow

    source = flow(step("a"), step("b", x="@a.k", y=["@_input.n", {"z": "@zz"}], w="@@lit", v="me@a"), 7)

    steps = analyse_flow(source, packages=PROCS).steps

    assert [(s.index, s.name, s.mod, s.method, s.error) for s in steps] == [
        (0, "a", "Echo", "echo", False),
        (1, "b", "Echo", "echo", True),
        (2, None, None, None, True),
    ]
    assert [(r.text, r.root, r.step) for r in steps[1].references] == [
        ("@a.k", "a", 0),
        ("@_input.n", "_input", RUN_DATA),
        ("@zz", "zz", NO_STEP),
    ]


def test_validate_flow_gives_the_analysis_definition_and_every_diagnostic():
    from runner.engine import analyse_flow

    source = flow(step("a", x="@b"), step("b", y="@a"))

    assert validate_flow(source, packages=PROCS) == (None, analyse_flow(source, packages=PROCS).diagnostics)


def test_a_missing_module_is_looked_for_once_per_validation(monkeypatch):
    import importlib

    tried = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: tried.append(name) or real(name, *a))

    assert len(problems(flow(*(step(f"s{i}", mod="Nope") for i in range(20))))) == 20
    assert tried.count("tests.engine.procs.Nope") <= 1


def test_did_you_mean_is_worked_out_for_the_first_100_unknown_references_only():
    source = flow(step("step1"), step("b", **{f"x{i}": "@stepl" for i in range(150)}))

    _, diagnostics = validate_flow(source, packages=PROCS)

    assert len(diagnostics) == 150
    assert sum("did you mean step1" in d.message for d in diagnostics) == 100


def test_an_unknown_reference_after_a_step_with_an_empty_name_is_reported_not_raised():
    source = flow(step(""), step("b", x="@zz"))

    assert problems(source) == [
        ("SCHEMA", "procedures[0].name"),
        ("UNKNOWN_STEP_REF", "procedures[1].params.x"),
    ]


def test_a_flow_of_more_than_100000_steps_is_refused_without_checking_each_step():
    _, diagnostics = validate_flow(flow(*[7] * 100_001), packages=PROCS)

    assert [(d.code, d.path) for d in diagnostics] == [("SCHEMA", "procedures")]
    assert "at most 100,000 steps; this one has 100,001" in diagnostics[0].message


def test_a_module_absent_from_its_package_directory_is_not_imported(monkeypatch):
    import importlib
    import sys
    from importlib.machinery import BuiltinImporter, FrozenImporter, PathFinder

    importlib.import_module("tests.engine.procs.sub")  # packages are listed once imported
    importlib.import_module("tests.engine.procs.Echo")
    # Only with the standard finders (pytest adds its own) does a directory listing say it all.
    standard = (BuiltinImporter, FrozenImporter, PathFinder)
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f in standard])
    tried = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: tried.append(name) or real(name, *a))
    source = flow(
        step("a", mod="Nope"),
        step("b", mod="sub.Nope"),
        step("c", mod="sub.Deep", method="where"),
        step("d", mod="Missingdep"),
        step("e", mod="os"),
        step("f", mod="nosuchtoplevelmodule"),
        step("g", mod="Echo.Inner"),
    )

    assert problems(source) == [
        ("UNKNOWN_PROCEDURE", "procedures[0].mod"),
        ("UNKNOWN_PROCEDURE", "procedures[1].mod"),
        ("UNKNOWN_PROCEDURE", "procedures[3].mod"),
        ("FORBIDDEN_PROCEDURE", "procedures[4].mod"),
        ("UNKNOWN_PROCEDURE", "procedures[5].mod"),
        ("UNKNOWN_PROCEDURE", "procedures[6].mod"),
    ]
    assert not {f"tests.engine.procs.{mod}" for mod in ("Nope", "sub.Nope", "Echo.Inner")} & set(tried)
