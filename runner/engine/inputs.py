"""Declared run inputs: reading a flow's "inputs" and checking a run's input against them.

One rule for every entry point. A value given as JSON (the API, --input-json, a schedule, the
web form's JSON box) is checked as given; a value typed as text (``--input key=value``, a
field of the web form) is read by its input's type: a string stays the text as typed, an
integer must be written as one, and so on. Defaults fill what is not given, unknown keys are
refused, and every problem is listed at once.
"""

import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .diagnostics import key_path
from .jsontext import JSONNumberError, parse_json

INPUT_TYPES = ("string", "integer", "number", "boolean", "object", "array")
INPUT_KEYS = ("type", "required", "default", "enum", "description")
MAX_INPUTS = 200
MAX_INPUT_NAME = 100
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
_INTEGER = re.compile(r"[+-]?\d+")
_KIND = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array"}


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One declared input; ``default`` matters only when ``has_default``."""

    name: str
    type: str
    required: bool = False
    has_default: bool = False
    default: object = None
    enum: tuple | None = None
    description: str = ""


def read_declaration(value) -> tuple[dict[str, InputSpec] | None, list[tuple[str, str, str]]]:
    """The specs of a flow's "inputs" object (in its order), and each problem as
    ``(code, path, message)``; the specs are None when there is any problem."""
    problems: list[tuple[str, str, str]] = []
    if not isinstance(value, dict):
        return None, [
            ("BAD_INPUTS", "inputs", '"inputs" must be an object: {"name": {"type": "string"}, ...}')
        ]
    if len(value) > MAX_INPUTS:
        return None, [("BAD_INPUTS", "inputs", f"a flow declares at most {MAX_INPUTS} inputs")]
    specs = {}
    for name, spec in value.items():
        path = f"inputs{key_path(name)}"
        found = _spec_problems(name, spec, path)
        problems += found
        if not found:
            specs[name] = _spec(name, spec)
    return (None if problems else specs), problems


def _spec_problems(name: str, spec, path: str) -> list[tuple[str, str, str]]:
    if not name or "." in name or name[0] == "@" or len(name) > MAX_INPUT_NAME:
        message = (
            f'"{name}" cannot be an input name: 1 to {MAX_INPUT_NAME} characters, no "." and no leading "@"'
        )
        return [("BAD_INPUTS", path, message)]
    if not isinstance(spec, dict):
        return [("BAD_INPUTS", path, f'input "{name}" must be an object such as {{"type": "string"}}')]
    problems = []
    for key in spec:
        if key not in INPUT_KEYS:
            hint = _hint(key, INPUT_KEYS)
            message = f'unknown key "{key}": an input has {", ".join(INPUT_KEYS[:-1])} and {INPUT_KEYS[-1]}'
            problems.append(("BAD_INPUTS", f"{path}{key_path(key)}", message + hint))
    kind = spec.get("type")
    if kind not in INPUT_TYPES:
        shown = json.dumps(kind) if "type" in spec else "missing"
        message = f'"type" must be one of {", ".join(INPUT_TYPES)} (it is {shown})'
        problems.append(
            (
                "BAD_INPUTS",
                f"{path}.type",
                message + (_hint(kind, INPUT_TYPES) if isinstance(kind, str) else ""),
            )
        )
    if "required" in spec and not isinstance(spec["required"], bool):
        problems.append(("BAD_INPUTS", f"{path}.required", '"required" must be true or false'))
    if "description" in spec and not isinstance(spec["description"], str):
        problems.append(("BAD_INPUTS", f"{path}.description", '"description" must be a string'))
    enum = spec.get("enum")
    if "enum" in spec and (not isinstance(enum, list) or not enum):
        problems.append(
            ("BAD_INPUTS", f"{path}.enum", '"enum" must be a non-empty list of the allowed values')
        )
        enum = None
    if kind not in INPUT_TYPES:
        return problems
    for index, choice in enumerate(enum or ()):
        if (problem := _type_problem(kind, choice)) is not None:
            problems.append(("BAD_INPUTS", f"{path}.enum[{index}]", f"{_shown(choice)} {problem}"))
    if "default" in spec:
        default = spec["default"]
        problem = _type_problem(kind, default)
        if problem is None and enum and default not in enum:
            problem = f"is not one of {_choices(enum)}"
        if problem is not None:
            problems.append(("BAD_INPUTS", f"{path}.default", f"the default {_shown(default)} {problem}"))
    return problems


def _spec(name: str, spec: dict) -> InputSpec:
    enum = spec.get("enum")
    return InputSpec(
        name=name,
        type=spec["type"],
        required=spec.get("required", False),
        has_default="default" in spec,
        default=_typed(spec["type"], spec["default"]) if "default" in spec else None,
        enum=tuple(_typed(spec["type"], choice) for choice in enum) if enum else None,
        description=spec.get("description", ""),
    )


def declared_inputs(source: str | bytes | dict) -> dict[str, InputSpec] | None:
    """The inputs a flow definition (text or parsed) declares, without checking its steps;
    None when it declares none, or cannot be read (validation says why)."""
    try:
        data = parse_json(source) if isinstance(source, str | bytes | bytearray) else source
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "inputs" not in data:
        return None
    return read_declaration(data["inputs"])[0]


def check_input(
    specs: Mapping[str, InputSpec] | None, values: Mapping, texts: Mapping[str, str] | None = None
) -> tuple[dict, list[str]]:
    """A run's input checked against the flow's declared inputs: ``(input, problems)``.

    ``values`` are JSON values, checked as given; ``texts`` are values typed as text
    (key=value), read by their input's type, and win over ``values`` for the same key.
    Without a declaration (``specs`` None) values pass as they are, and each text is JSON if
    it parses as JSON, else the text itself. Problems are sentences naming the input; the
    input is complete (defaults applied) only when there are none.
    """
    texts = texts or {}
    problems: list[str] = []
    data = {key: value for key, value in values.items() if key not in texts}
    if specs is None:
        for key, text in texts.items():
            try:
                data[key] = untyped_text(text)
            except ValueError as err:
                problems.append(f"{key}: {err}")
        return data, problems
    unreadable = set()
    for key, text in texts.items():
        spec = specs.get(key)
        if spec is None:
            data[key] = text  # reported as unknown below
            continue
        try:
            data[key] = typed_text(spec, text)
        except ValueError as err:
            problems.append(f"{key}: {err}")
            unreadable.add(key)
    problems += [_unknown(key, specs) for key in data if key not in specs]
    result = {}
    for name, spec in specs.items():
        if name in unreadable:
            continue
        if name in data:
            value = data[name]
            if value is None and not spec.required:
                result[name] = None  # what a run of an optional input without a value stores
                continue
            problem = _type_problem(spec.type, value)
            if problem is None and spec.enum is not None and _typed(spec.type, value) not in spec.enum:
                problem = f"is not one of {_choices(spec.enum)}"
            if problem is not None:
                problems.append(f"{name}: {_shown(value)} {problem}")
            else:
                result[name] = _typed(spec.type, value)
        elif spec.has_default:
            result[name] = spec.default
        elif spec.required:
            problems.append(f"{name}: required{_described(spec)}, and no value was given")
        else:
            result[name] = None  # declared, optional, no default: "@_input.name" is null
    return result, problems


def typed_text(spec: InputSpec, text: str):
    """The value of text typed for the input `spec` (key=value, a form field), or ValueError."""
    kind = spec.type
    if kind == "string":
        return text
    stripped = text.strip()
    if kind == "integer":
        if _INTEGER.fullmatch(stripped):
            return int(stripped)
        raise ValueError(f"{_shown(text)} is not an integer")
    if kind == "boolean":
        word = stripped.lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise ValueError(f"{_shown(text)} is not a boolean: write true or false")
    try:
        value = parse_json(stripped)
    except JSONNumberError as err:
        raise ValueError(f"{err.msg}") from err
    except (json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"{_shown(text)} is not {_article(_written(kind))} {_written(kind)}") from err
    if (problem := _type_problem(kind, value)) is not None:
        raise ValueError(f"{_shown(text)} {problem}")
    return value


def untyped_text(text: str):
    """A key=value text of a flow without declared inputs: JSON when it parses, else the text.

    A number JSON cannot carry (NaN, 1e400) is refused rather than read as text: quoting it
    passes the text.
    """
    try:
        return parse_json(text)
    except JSONNumberError as err:
        raise ValueError(f"{err.msg}; quote the value to pass it as text") from err
    except (json.JSONDecodeError, RecursionError):
        return text


def _type_problem(kind: str, value) -> str | None:
    if kind == "integer":
        ok = type(value) is int or (type(value) is float and value.is_integer())
    elif kind == "number":
        ok = type(value) is int or (type(value) is float and math.isfinite(value))
    else:
        ok = _KIND.get(type(value)) == kind
    return None if ok else f"is not {_article(_written(kind))} {_written(kind)}"


def _typed(kind: str, value):
    # 5.0 is the integer 5 in JSON's data model; the run sees the int.
    return int(value) if kind == "integer" and type(value) is float else value


def _unknown(key: str, specs: Mapping[str, InputSpec]) -> str:
    names = ", ".join(specs) or "none"
    return f"{key}: not an input of this flow (its inputs: {names}){_hint(key, list(specs))}"


def _described(spec: InputSpec) -> str:
    return f" ({spec.description})" if spec.description else ""


def _written(kind: str) -> str:
    return {"object": "JSON object", "array": "JSON array"}.get(kind, kind)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _choices(enum) -> str:
    return ", ".join(_shown(choice) for choice in enum)


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:60] + "…"


def _hint(word, candidates) -> str:
    if not isinstance(word, str):
        return ""
    matches = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean {matches[0]}?" if matches else ""
