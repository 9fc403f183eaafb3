"""A flow definition is data: it must not reach anything outside the procedure packages.

Each attempt is refused by validation and, for a definition that skipped validation, by the
loader when the run starts, before any step runs.
"""

import os

import pytest

from runner.engine import FlowDefinition, Procedure, ProcedureLoadError, run_flow, validate_flow

from .helpers import PROCS, flow, new_logger, step


def refused(mod, method, packages=PROCS):
    found, diagnostics = validate_flow(flow(step("a", mod=mod, method=method)), packages=packages)
    assert found is None
    definition = FlowDefinition((Procedure("a", mod, method, {}, 0),))
    with pytest.raises(ProcedureLoadError) as raised:
        run_flow(definition, logger=new_logger(), packages=packages)
    assert raised.value.step == "a"
    assert [d.code for d in diagnostics] == [raised.value.code]
    return raised.value.code


def test_os_system_is_refused(monkeypatch):
    monkeypatch.setattr(os, "system", lambda *args: pytest.fail("os.system was called"))
    assert refused("os", "system", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_builtins_eval_is_refused():
    assert refused("builtins", "eval", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_relative_path_is_refused():
    assert refused("..common.Kt", "prt", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_empty_module_part_is_refused():
    assert refused("common..Kt", "prt", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_dunder_method_is_refused():
    assert refused("common.Kt", "__class__", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_init_method_is_refused():
    assert refused("common.Kt", "__init__", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_private_method_is_refused():
    assert refused("Echo", "_private") == "FORBIDDEN_PROCEDURE"


def test_dunder_module_part_is_refused():
    assert refused("common.__init__", "prt", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_private_module_part_is_refused():
    assert refused("_hidden.Kt", "prt", packages=("mod",)) == "FORBIDDEN_PROCEDURE"


def test_class_reexported_from_subprocess_is_refused():
    assert refused("Reexport", "communicate") == "FORBIDDEN_PROCEDURE"


def test_function_reexported_as_the_class_is_refused():
    assert refused("Shell", "anything") == "FORBIDDEN_PROCEDURE"


def test_method_inherited_from_a_builtin_is_refused():
    assert refused("Dicty", "clear") == "FORBIDDEN_PROCEDURE"


def test_function_from_another_module_stored_as_a_method_is_refused():
    assert refused("Alias", "join") == "FORBIDDEN_PROCEDURE"


def test_staticmethod_wrapping_a_builtin_is_refused():
    assert refused("Echo", "shout") == "FORBIDDEN_PROCEDURE"


def test_class_attribute_that_is_not_a_function_is_refused():
    assert refused("Echo", "constant") == "FORBIDDEN_PROCEDURE"


def test_absolute_path_to_an_allowed_module_is_not_followed_outside_the_roots():
    # "tests.engine.procs.Echo" is looked up below the root, not as an absolute module.
    assert refused("tests.engine.procs.Echo", "echo") == "UNKNOWN_PROCEDURE"


def test_invalid_package_root_is_a_configuration_error():
    with pytest.raises(ValueError, match="not a valid procedure package"):
        validate_flow(flow(step("a")), packages=(".mod",))
