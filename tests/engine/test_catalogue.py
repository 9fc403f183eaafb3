"""The procedure catalogue (runner.engine.catalogue): what the packages expose, by the
loader's own rules, with what each declaration says."""

import itertools
import json
import sys

import pytest

from runner.engine import list_procedures

from .helpers import PROCS

_packages = itertools.count()


def entry(entries, mod, method=""):
    found = [e for e in entries if (e.mod, e.method) == (mod, method)]
    assert len(found) == 1, [(e.mod, e.method) for e in entries]
    return found[0]


def names(entries):
    return [(e.mod, e.method) for e in entries]


@pytest.fixture
def make_package(tmp_path, monkeypatch):
    """Write a package of modules ({relative path: source}) under a fresh name; returns it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(files: dict[str, str]) -> str:
        name = f"catalogue_tests_{next(_packages)}"
        made.append(name)
        for path, source in {"__init__.py": "", **files}.items():
            target = tmp_path / name / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source)
        return name

    yield make
    for name in list(sys.modules):
        if name.split(".")[0] in made:
            del sys.modules[name]


KT = """
class Kt:
    def __init__(self, logger):
        self.logger = logger

    def prt(self, context, params):
        return {}
"""


def test_the_seeds_undeclared_kt_is_listed_without_params_or_result_keys():
    kt = entry(list_procedures(("mod",)), "common.Kt", "prt")

    assert (kt.package, kt.params, kt.results, kt.problem) == ("mod", None, None, "")


def test_an_undeclared_procedures_snippet_has_empty_params():
    kt = entry(list_procedures(("mod",)), "common.Kt", "prt")

    assert json.loads(kt.snippet) == {"name": "prt", "mod": "common.Kt", "method": "prt", "params": {}}


def test_a_declared_procedure_lists_its_params_and_result_keys():
    greet = entry(list_procedures(PROCS), "Declared", "greet")

    assert list(greet.params) == ["who", "greeting", "times"]
    assert greet.params["who"].required and greet.params["who"].description == "whom to greet"
    assert greet.params["greeting"].choices == ("Hello", "Hi")
    assert list(greet.results) == ["msg", "count"]


def test_a_declaration_without_result_keys_gives_none():
    assert entry(list_procedures(PROCS), "Declared", "opaque").results is None


def test_the_doc_is_the_cleaned_docstring():
    greet = entry(list_procedures(PROCS), "Declared", "greet")

    assert greet.doc == "Greets someone by name.\n\nThe greeting is repeated ``times`` times."


def test_a_method_without_a_docstring_takes_its_classs():
    anything = entry(list_procedures(PROCS), "Declared", "anything")

    assert anything.doc == "Procedures with declarations, for the declaration and catalogue tests."


def test_the_summary_is_the_docstrings_first_line_unless_declared():
    entries = list_procedures(PROCS)

    assert entry(entries, "Declared", "greet").summary == "Greets someone by name."
    assert (
        entry(entries, "Declared", "given").summary
        == "Returns the params it was given, after adding to its tags."
    )


def test_the_snippet_has_required_params_with_placeholders_and_optional_ones_with_defaults():
    greet = entry(list_procedures(PROCS), "Declared", "greet")

    assert json.loads(greet.snippet) == {
        "name": "greet",
        "mod": "Declared",
        "method": "greet",
        "params": {"who": "", "greeting": "Hello", "times": 1},
    }


def test_a_required_param_with_choices_gets_its_first_choice_in_the_snippet(make_package):
    package = make_package(
        {
            "Pick.py": """
from runner.engine.declare import param, procedure


class Pick:
    @procedure(
        params={
            "mode": param("string", required=True, choices=("fast", "slow")),
            "n": param("integer", required=True),
        }
    )
    def go(self, context, params):
        return {}
"""
        }
    )

    go = entry(list_procedures((package,)), "Pick", "go")

    assert json.loads(go.snippet)["params"] == {"mode": "fast", "n": 0}


def test_entries_are_sorted_by_mod_and_method():
    entries = list_procedures(("mod", *PROCS))

    assert names(entries) == sorted(names(entries))
    assert ("common.Kt", "prt") in names(entries) and ("Declared", "greet") in names(entries)


def test_a_module_that_raises_on_import_is_an_entry_with_its_problem():
    raises = entry(list_procedures(PROCS), "Raises")

    assert (
        raises.problem
        == "module tests.engine.procs.Raises cannot be imported: RuntimeError: broken at import"
    )


def test_a_module_missing_a_dependency_is_an_entry_with_its_problem():
    missing = entry(list_procedures(PROCS), "Missingdep")

    assert "No module named 'engine_tests_missing_dependency'" in missing.problem


def test_a_package_that_cannot_be_imported_is_an_entry_with_its_problem():
    (only,) = list_procedures(("tests.engine.no_such_package",))

    assert (only.mod, only.method, only.package) == ("", "", "tests.engine.no_such_package")
    assert only.problem.startswith(
        "package tests.engine.no_such_package cannot be imported: ModuleNotFoundError"
    )


def test_a_module_in_a_subpackage_is_listed_with_its_dotted_mod():
    assert ("sub.Deep", "where") in names(list_procedures(PROCS))


def test_a_method_inherited_from_an_allowed_class_is_listed():
    assert ("Inherited", "echo") in names(list_procedures(PROCS))


def test_only_what_the_loader_would_load_is_listed():
    listed = {mod for mod, _ in names(list_procedures(PROCS))}
    echo = {method for mod, method in names(list_procedures(PROCS)) if mod == "Echo"}

    # A function from outside the packages, re-exported classes, a module without its class.
    assert listed.isdisjoint({"Alias", "Reexport", "Shell", "NoClass", "Dicty"})
    # Private methods, class attributes and static methods.
    assert echo.isdisjoint({"_private", "constant", "shout"})
    assert "echo" in echo


def test_private_modules_and_everything_below_them_are_not_listed(make_package):
    hidden = "class _hidden:\n    def go(self, c, p):\n        return {}\n"
    package = make_package({"_hidden.py": hidden, "_inner/__init__.py": "", "_inner/Kt.py": KT, "Kt.py": KT})

    assert names(list_procedures((package,))) == [("Kt", "prt")]


def test_a_module_of_an_earlier_package_shadows_the_same_path_in_a_later_one(make_package):
    first = make_package({"Kt.py": KT})
    second = make_package({"Kt.py": KT, "Other.py": KT.replace("Kt", "Other")})

    entries = list_procedures((first, second))

    assert [(e.package, e.mod) for e in entries] == [(first, "Kt"), (second, "Other")]


def test_a_package_named_twice_is_listed_once():
    assert names(list_procedures(("mod", "mod"))) == names(list_procedures(("mod",)))


def test_packages_may_be_given_as_one_comma_separated_string():
    assert names(list_procedures("mod, tests.engine.procs")) == names(list_procedures(("mod", *PROCS)))


def test_listing_runs_no_procedure(make_package):
    package = make_package({"Boom.py": "class Boom:\n    def go(self, c, p):\n        raise SystemExit(9)\n"})

    assert names(list_procedures((package,))) == [("Boom", "go")]
