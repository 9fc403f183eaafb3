"""Flow definitions: parsing and validation that reports every problem at once (SPEC E-1, E-2)."""

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from .diagnostics import Diagnostic, key_path
from .errors import ProcedureLoadError
from .freeze import freeze
from .loader import ProcedureLoader
from .references import RESERVED_ROOTS, RUNTIME_KEYS, BadReference, parse

MAX_SOURCE_SIZE = 5 * 1024 * 1024
MAX_PARAMS_DEPTH = 100
STEP_KEYS = ("name", "mod", "method", "params")
_JSON_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class Procedure:
    """One step of a flow; ``params`` is read-only and ``index`` its position in the flow."""

    name: str
    mod: str
    method: str
    params: dict = field(default_factory=dict)
    index: int = 0

    @property
    def label(self) -> str:
        return f"{self.name} ({self.mod}.{self.method})"


@dataclass(frozen=True)
class FlowDefinition:
    procedures: tuple[Procedure, ...]


def validate_flow(
    source: str | bytes | dict, *, packages: Sequence[str] = ("mod",)
) -> tuple[FlowDefinition | None, list[Diagnostic]]:
    """Parse and check a flow definition (JSON text or parsed data).

    Returns ``(definition, diagnostics)`` with every problem found; the definition is None
    if and only if a diagnostic has severity "error". Checking procedures imports their
    modules from the allowed ``packages``; nothing is run.
    """
    checker = _Checker(packages)
    data = checker.parse(source)
    if checker.diagnostics:
        return None, checker.diagnostics
    if not isinstance(data, dict):
        checker.error("SCHEMA", "", 'a flow definition must be a JSON object with a "procedures" list')
        return None, checker.diagnostics
    for key in data:
        if key != "procedures":
            path = key_path(key).removeprefix(".")
            checker.error("SCHEMA", path, f'unknown key "{key}": a flow has only "procedures"')
    procedures = data.get("procedures")
    if not isinstance(procedures, list) or not procedures:
        checker.error("SCHEMA", "procedures", '"procedures" must be a non-empty list of steps')
    else:
        for index, item in enumerate(procedures):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                checker.names.setdefault(item["name"], index)
        for index, item in enumerate(procedures):
            checker.step(index, item)
    if any(d.severity == "error" for d in checker.diagnostics):
        return None, checker.diagnostics
    steps = tuple(
        Procedure(p["name"], p["mod"], p["method"], freeze(p.get("params", {})), i)
        for i, p in enumerate(procedures)
    )
    return FlowDefinition(steps), checker.diagnostics


class _Checker:
    def __init__(self, packages: Sequence[str]) -> None:
        self.loader = ProcedureLoader(packages)
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[str, int] = {}  # each name's first index

    def error(self, code, path, message, step=None) -> None:
        self.diagnostics.append(Diagnostic(code, "error", path, message, step))

    def parse(self, source):
        if not isinstance(source, str | bytes | bytearray):
            return source
        if len(source) > MAX_SOURCE_SIZE:
            self.error("INVALID_JSON", "", f"the definition is {len(source):,} bytes long; the limit is 5 MB")
            return None
        try:
            return json.loads(source)
        except json.JSONDecodeError as err:
            message = f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        except UnicodeDecodeError:
            message = "the definition is not UTF-8 text"
        except RecursionError:
            message = "the JSON is nested too deeply to read"
        self.error("INVALID_JSON", "", message)
        return None

    def step(self, index, item) -> None:
        at = f"procedures[{index}]"
        if not isinstance(item, dict):
            self.error("SCHEMA", at, "each step must be an object with name, mod, method and optional params")
            return
        step = item["name"] if isinstance(item.get("name"), str) and item["name"] else None
        for key in item:
            if key not in STEP_KEYS:
                hint = difflib.get_close_matches(str(key), STEP_KEYS, n=1)
                message = f'unknown key "{key}": a step has name, mod, method and params'
                self.error("SCHEMA", at + key_path(key), message + _hint(hint, '"'), step)
        for key in ("name", "mod", "method"):
            if not isinstance(item.get(key), str) or not item[key]:
                self.error("SCHEMA", f"{at}.{key}", f'"{key}" is required: a non-empty string', step)
        if step and ("." in step or step[0] in "_@"):
            message = f'"{step}" cannot be a step name: it must not contain "." or start with "_" or "@"'
            self.error("RESERVED_NAME", f"{at}.name", message, step)
        elif step and self.names[step] != index:
            message = f'"{step}" is already the name of procedures[{self.names[step]}]'
            self.error("DUPLICATE_STEP", f"{at}.name", message, step)
        mod, method = item.get("mod"), item.get("method")
        if isinstance(mod, str) and mod:
            try:
                self.loader.load_class(mod)
                if isinstance(method, str) and method:
                    self.loader.load(mod, method)
            except ProcedureLoadError as err:
                self.error(err.code, f"{at}.{err.field}", str(err), step)
        params = item.get("params", {})
        if isinstance(params, dict):
            self.value(params, f"{at}.params", 0, index, step)
        else:
            self.error("SCHEMA", f"{at}.params", '"params" must be an object', step)

    def value(self, value, path, depth, index, step) -> None:
        if depth > MAX_PARAMS_DEPTH:
            self.error("SCHEMA", path, f"params are nested more than {MAX_PARAMS_DEPTH} levels deep", step)
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.error("SCHEMA", path + key_path(key), "object keys must be strings", step)
                self.value(item, path + key_path(key), depth + 1, index, step)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.value(item, f"{path}[{i}]", depth + 1, index, step)
        elif isinstance(value, str):
            if value[:1] == "@" and value[:2] != "@@":
                self.reference(value, path, index, step)
        elif not isinstance(value, _JSON_SCALARS):
            self.error("SCHEMA", path, f"{type(value).__name__} is not a JSON value", step)

    def reference(self, text, path, index, step) -> None:
        try:
            root, keys = parse(text)
        except BadReference as err:
            self.error("BAD_REFERENCE", path, str(err), step)
            return
        first = self.names.get(root, -1) if root[0] != "_" else -1
        if root == "_runtime" and keys and keys[0] not in RUNTIME_KEYS:
            code = "BAD_REFERENCE"
            message = f'_runtime has no key "{keys[0]}" (it has: {", ".join(RUNTIME_KEYS)})'
        elif root in RESERVED_ROOTS or 0 <= first < index:
            return
        elif first < 0:
            earlier = [n for n, i in self.names.items() if i < index and n[0] not in "_@"]
            what = f"a reserved name ({', '.join(RESERVED_ROOTS)})" if root[0] == "_" else "an earlier step"
            code = "UNKNOWN_STEP_REF"
            message = f"{root} is not {what}" + _hint(difflib.get_close_matches(root, earlier, n=1))
        elif first == index:
            code, message = "SELF_REF", "it refers to this step itself; a step can use only earlier results"
        else:
            code = "FORWARD_REF"
            message = f"{root} runs later (procedures[{first}]); a step can use only earlier results"
        self.error(code, path, f'"{text}": {message}', step)


def _hint(matches, quote="") -> str:
    return f"; did you mean {quote}{matches[0]}{quote}?" if matches else ""
