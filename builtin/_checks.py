"""Reading a built-in procedure's params at run time.

Validation checks literal params before the run; a value that comes from a reference
(`@step.key`) is only known now, so each procedure checks what it gets with these and fails
with a message naming the param.
"""

import math

_NUMBER = (int, float)
REQUIRED = object()  # the default of a param that has none: leaving it out is an error


class ParamError(ValueError):
    """A param the procedure cannot use; the message names it."""


def text(params: dict, name: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise ParamError(f"param {name} is required: a string")
        return default
    if not isinstance(value, str):
        raise ParamError(f"param {name} must be a string, not {_kind(value)}")
    return value


def number(
    params: dict, name: str, *, default: float = REQUIRED, minimum: float = 0, maximum: float = math.inf
) -> float:
    value = params.get(name)
    if value is None:
        if default is REQUIRED:
            raise ParamError(f"param {name} is required: a number")
        return default
    # bool is an int in Python, never a number in a flow.
    if isinstance(value, bool) or not isinstance(value, _NUMBER) or not math.isfinite(value):
        raise ParamError(f"param {name} must be a number, not {_kind(value)}")
    if not minimum <= value <= maximum:
        raise ParamError(f"param {name} must be between {minimum:g} and {maximum:g}, not {value:g}")
    return value


def integer(params: dict, name: str, *, default: int, minimum: int = 0, maximum: float = math.inf) -> int:
    value = number(params, name, default=default, minimum=minimum, maximum=maximum)
    if value != int(value):
        raise ParamError(f"param {name} must be a whole number, not {value:g}")
    return int(value)


def mapping(params: dict, name: str) -> dict:
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParamError(f"param {name} must be an object, not {_kind(value)}")
    return value


def _kind(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "an array"}
    for cls, said in names.items():
        if isinstance(value, cls):
            return said
    return "an object" if isinstance(value, dict) else type(value).__name__
