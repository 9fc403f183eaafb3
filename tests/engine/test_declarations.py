"""Procedure declarations (runner.engine.declare): what validation checks of a declared
procedure's steps, and the defaults the engine fills in. Undeclared procedures get neither."""

import pytest

from runner.engine import analyse_flow, declaration_of, run_flow, validate_flow
from runner.engine import definition as definition_module

from .helpers import PROCS, definition, flow, new_logger, only_diagnostic, problems


def declared(name, method="greet", **params):
    return {"name": name, "mod": "Declared", "method": method, "params": params}


def kt(name, **params):
    return {"name": name, "mod": "common.Kt", "method": "prt", "params": params}


def echo(name, **params):
    return {"name": name, "mod": "Echo", "method": "echo", "params": params}


def run(*steps) -> dict:
    return run_flow(definition(*steps), logger=new_logger(), packages=PROCS)


# Undeclared procedures


def test_the_seeds_undeclared_kt_gets_no_new_checks():
    source = flow(kt("a", msg=1, anything=True), kt("b", msg="@a.no_such_key"))

    assert validate_flow(source, packages=("mod",))[1] == []


def test_an_undeclared_procedure_gets_no_params_added_at_run_time():
    context = run({"name": "a", "mod": "Echo", "method": "echo"})

    assert context["a"] == {}


def test_the_seeds_kt_still_runs_untouched():
    context = run_flow(
        validate_flow(flow(kt("a", msg="hi"), kt("b", msg="@a.msg")), packages=("mod",))[0],
        logger=new_logger(),
        packages=("mod",),
    )

    assert context["b"] == {"msg": "hi"}


# Params


def test_a_step_giving_the_declared_params_is_valid():
    assert problems(flow(declared("a", who="Ann", greeting="Hi", times=2))) == []


def test_an_undeclared_param_is_an_unknown_param():
    assert problems(flow(declared("a", who="Ann", loud=True))) == [
        ("UNKNOWN_PARAM", "procedures[0].params.loud")
    ]


def test_an_unknown_param_names_the_declared_ones_and_the_closest():
    diagnostic = only_diagnostic(flow(declared("a", who="Ann", tims=2)))

    assert (
        diagnostic.message
        == 'unknown param "tims": Declared.greet takes who, greeting, times; did you mean "times"?'
    )
    assert diagnostic.step == "a"


def test_extra_params_lets_a_step_give_undeclared_params():
    assert problems(flow(declared("a", "anything", known="x", other=1))) == []


def test_a_required_param_left_out_is_a_missing_param():
    diagnostic = only_diagnostic(flow(declared("a", greeting="Hi")))

    assert (diagnostic.code, diagnostic.path) == ("MISSING_PARAM", "procedures[0].params.who")
    assert diagnostic.message == 'missing param "who": Declared.greet requires it (a string)'


def test_a_step_without_params_is_told_its_required_ones():
    source = flow({"name": "a", "mod": "Declared", "method": "greet"})

    assert problems(source) == [("MISSING_PARAM", "procedures[0].params.who")]


def test_a_literal_of_the_wrong_type_is_a_bad_param_type():
    diagnostic = only_diagnostic(flow(declared("a", who="Ann", times="3")))

    assert (diagnostic.code, diagnostic.path) == ("BAD_PARAM_TYPE", "procedures[0].params.times")
    assert diagnostic.message == 'param "times" must be an integer, not a string "3"'


def test_true_is_not_an_integer():
    diagnostic = only_diagnostic(flow(declared("a", who="Ann", times=True)))

    assert diagnostic.message == 'param "times" must be an integer, not a boolean true'


def test_an_integer_param_takes_3_but_not_3_5():
    assert problems(flow(declared("a", who="Ann", times=3))) == []
    assert problems(flow(declared("a", who="Ann", times=3.5))) == [
        ("BAD_PARAM_TYPE", "procedures[0].params.times")
    ]


def test_a_number_param_takes_3_and_3_5_but_not_false():
    assert problems(flow(declared("a", "opaque", n=3), declared("b", "opaque", n=3.5))) == []
    assert problems(flow(declared("a", "opaque", n=False))) == [("BAD_PARAM_TYPE", "procedures[0].params.n")]


@pytest.mark.parametrize(
    ("param", "value", "kind"),
    [
        ("tags", {}, "an object"),
        ("options", [], "an array"),
        ("shout", 0, "an integer 0"),
        ("ratio", "1", 'a string "1"'),
    ],
)
def test_arrays_objects_booleans_and_numbers_are_told_apart(param, value, kind):
    diagnostic = only_diagnostic(flow(declared("a", "given", **{param: value})))

    assert diagnostic.code == "BAD_PARAM_TYPE"
    assert diagnostic.message.endswith(f"not {kind}")


def test_null_is_taken_where_the_default_is_null():
    assert problems(flow(declared("a", "given", ratio=None))) == []


def test_null_is_refused_where_the_default_is_not_null():
    diagnostic = only_diagnostic(flow(declared("a", "given", shout=None)))

    assert diagnostic.message == 'param "shout" must be a boolean, not null'


def test_an_any_param_takes_every_json_value():
    assert (
        problems(flow(*(declared(f"s{i}", "given", label=v) for i, v in enumerate([1, "x", None, [], {}]))))
        == []
    )


def test_a_value_outside_the_choices_is_a_bad_param_type():
    diagnostic = only_diagnostic(flow(declared("a", who="Ann", greeting="Yo")))

    assert (diagnostic.code, diagnostic.path) == ("BAD_PARAM_TYPE", "procedures[0].params.greeting")
    assert diagnostic.message == 'param "greeting" must be one of "Hello", "Hi", not "Yo"'


def test_a_reference_is_not_type_checked_before_the_run():
    source = flow(declared("a", who="Ann"), declared("b", who="@a.count", times="@a.msg"))

    assert problems(source) == []


def test_an_escaped_at_sign_is_checked_as_the_literal_it_stands_for():
    diagnostic = only_diagnostic(flow(declared("a", who="@@Ann", greeting="@@Hi")))

    assert diagnostic.message == 'param "greeting" must be one of "Hello", "Hi", not "@Hi"'


# Result keys


def test_a_reference_to_an_undeclared_result_key_is_an_unknown_result_key():
    diagnostic = only_diagnostic(flow(declared("greet", who="Ann"), echo("show", msg="@greet.mgs")))

    assert (diagnostic.code, diagnostic.path) == ("UNKNOWN_RESULT_KEY", "procedures[1].params.msg")
    assert diagnostic.message == '"@greet.mgs": greet\'s result has no key mgs; did you mean msg?'
    assert diagnostic.step == "show"


def test_an_unknown_result_key_without_a_close_match_lists_the_keys():
    diagnostic = only_diagnostic(flow(declared("greet", who="Ann"), echo("show", msg="@greet.zzz")))

    assert diagnostic.message == '"@greet.zzz": greet\'s result has no key zzz (its keys: msg, count)'


def test_an_unknown_result_key_deep_in_params_is_reported_at_its_path():
    source = flow(declared("greet", who="Ann"), echo("show", msg={"rows": [1, "@greet.zzz"]}))

    assert problems(source) == [("UNKNOWN_RESULT_KEY", "procedures[1].params.msg.rows[1]")]


def test_references_to_a_declared_key_the_whole_result_and_below_a_key_are_valid():
    source = flow(
        declared("greet", who="Ann"), echo("a", msg="@greet.msg", all="@greet", deep="@greet.msg.x")
    )

    assert problems(source) == []


def test_extra_results_leaves_result_keys_unchecked():
    assert problems(flow(declared("a", "anything"), echo("b", msg="@a.whatever"))) == []


def test_a_procedure_that_declares_no_result_keys_leaves_them_unchecked():
    assert problems(flow(declared("a", "opaque", n=1), echo("b", msg="@a.whatever"))) == []


def test_a_reference_to_an_undeclared_procedures_step_is_not_checked_for_keys():
    assert problems(flow(echo("a", msg="x"), declared("b", who="@a.anything"))) == []


# Cost


def test_an_analysis_counts_declaration_problems_beyond_the_listed_ones():
    source = flow(declared("a", tims=1), echo("b", msg="@a.mgs"))

    analysis = analyse_flow(source, packages=PROCS, max_diagnostics=1)

    assert [d.code for d in analysis.diagnostics] == ["UNKNOWN_PARAM"]
    assert analysis.problem_count == 3
    assert [step.error for step in analysis.steps] == [True, True]


def test_a_declaration_is_read_once_per_validation(monkeypatch):
    reads = []
    real = definition_module.declaration_of
    monkeypatch.setattr(definition_module, "declaration_of", lambda func: reads.append(func) or real(func))

    validate_flow(flow(*(declared(f"s{i}", who="Ann") for i in range(50))), packages=PROCS)

    assert len(reads) == 1


# Defaults


def test_an_omitted_optional_param_gets_its_declared_default():
    context = run(declared("a", "given"))

    assert context["a"]["params"] == {
        "tags": ["seen"],
        "options": {"loud": False, "touched": True},
        "ratio": None,
        "shout": False,
    }


def test_a_param_without_a_default_stays_out():
    context = run(declared("a", "given"))

    assert "label" not in context["a"]["params"]


def test_a_given_param_keeps_its_value_over_the_default():
    context = run(declared("a", who="Ann", greeting="Hi"))

    assert context["a"]["msg"] == "Hi Ann"


def test_each_step_gets_its_own_copy_of_a_mutable_default():
    context = run(declared("a", "given"), declared("b", "given"))

    assert context["b"]["params"]["tags"] == ["seen"]
    assert context["b"]["params"]["options"] == {"loud": False, "touched": True}


def test_a_procedure_changing_its_default_leaves_the_declaration_unchanged():
    from tests.engine.procs.Declared import Declared

    run(declared("a", "given"))

    params = declaration_of(Declared.given).params
    assert (params["tags"].default, params["options"].default) == ([], {"loud": False})


def test_defaults_are_not_written_into_the_definition():
    found = definition(declared("a", who="Ann"))

    run_flow(found, logger=new_logger(), packages=PROCS)

    assert found.procedures[0].params == {"who": "Ann"}
