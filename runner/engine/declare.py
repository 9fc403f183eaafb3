"""An optional declaration of a procedure's params and result keys, for the catalogue,
the editor's completion and validation before the run.

    from runner.engine.declare import param, procedure, result

    class Http:
        @procedure(
            params={
                "url": param("string", required=True, description="absolute http(s) URL"),
                "method": param("string", default="GET", choices=("GET", "POST")),
            },
            results={"status": result("integer", "the response's status code")},
        )
        def request(self, context, params): ...

The decorator returns the function itself, only marked: calling it is unchanged, and a plain
procedure without a declaration (the seed's ``Kt.prt``) keeps working untouched. What it
declares:

- ``params``: name -> param(type, required, default, description, choices). Validation
  reports a param the step gives that is not declared (unless ``extra_params=True``), a
  required one it leaves out, and a literal of the wrong type; before the call the engine
  fills in the default of an optional param the step leaves out.
- ``results``: name -> result(type, description), the keys of the dict the procedure
  returns; ``@step.key`` references to a step of this procedure are checked against them
  (unless ``extra_results=True``). None (the default): the keys are not known.

Types are JSON's: string, integer, number, boolean, object, array, or any.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TYPES = ("string", "integer", "number", "boolean", "object", "array", "any")
ATTRIBUTE = "__workflow_procedure__"  # where the declaration is kept on the function
_NO_DEFAULT = object()


@dataclass(frozen=True, slots=True)
class Param:
    type: str = "any"
    required: bool = False
    default: object = None
    has_default: bool = False
    description: str = ""
    choices: tuple = ()


@dataclass(frozen=True, slots=True)
class Result:
    type: str = "any"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Declaration:
    params: Mapping[str, Param] = field(default_factory=dict)
    results: Mapping[str, Result] | None = None
    extra_params: bool = False
    extra_results: bool = False
    summary: str = ""  # one line for the catalogue; the docstring's first line by default


def param(
    type: str = "any",
    *,
    required: bool = False,
    default: object = _NO_DEFAULT,
    description: str = "",
    choices: tuple | list = (),
) -> Param:
    _check_type(type)
    if required and default is not _NO_DEFAULT:
        raise ValueError("a required param has no default")
    has_default = default is not _NO_DEFAULT
    return Param(type, required, default if has_default else None, has_default, description, tuple(choices))


def result(type: str = "any", description: str = "") -> Result:
    _check_type(type)
    return Result(type, description)


def procedure(
    summary: str = "",
    *,
    params: Mapping[str, Param] | None = None,
    results: Mapping[str, Result] | None = None,
    extra_params: bool = False,
    extra_results: bool = False,
) -> Callable:
    """Mark a procedure method with its declaration; the method itself is unchanged."""
    for name, value in (params or {}).items():
        if not isinstance(value, Param):
            raise TypeError(f"param {name!r}: use param(...), not {type(value).__name__}")
    for name, value in (results or {}).items():
        if not isinstance(value, Result):
            raise TypeError(f"result {name!r}: use result(...), not {type(value).__name__}")
    declaration = Declaration(
        dict(params or {}), None if results is None else dict(results), extra_params, extra_results, summary
    )

    def mark(func: Callable) -> Callable:
        setattr(func, ATTRIBUTE, declaration)
        return func

    return mark


def declaration_of(func: Callable) -> Declaration | None:
    """The function's declaration, or None for a plain procedure."""
    found = getattr(func, ATTRIBUTE, None)
    return found if isinstance(found, Declaration) else None


def _check_type(name: str) -> None:
    if name not in TYPES:
        raise ValueError(f"unknown type {name!r}: use one of {', '.join(TYPES)}")
