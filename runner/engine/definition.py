"""Flow definitions: parsing and validation that reports every problem at once."""

import bisect
import difflib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .declare import Param, Result, declaration_of
from .diagnostics import Diagnostic, key_path
from .freeze import freeze
from .inputs import InputSpec, read_declaration
from .jsontext import JSONNumberError, parse_json
from .loader import MAX_HINTS, ProcedureLoader
from .notify import NotifyRule, notify_problems
from .references import RESERVED_ROOTS, RUNTIME_KEYS, SECRET_ROOT, BadReference, parse
from .retry import RetryPolicy, retry_problems, timeout_problem

MAX_SOURCE_SIZE = 5 * 1024 * 1024
MAX_PARAMS_DEPTH = 100
# Bounds the work of validating 5 MB: a step can take 4 bytes ("{}, "), its checks far more.
MAX_STEPS = 100_000
# Run records store step names in 128-character columns.
MAX_STEP_NAME = 128
STEP_KEYS = ("name", "mod", "method", "params", "retry", "timeout_seconds")
FLOW_KEYS = ("procedures", "inputs", "timeout_seconds", "max_duration_seconds", "notify")
_STEP_KEY_SET = frozenset(STEP_KEYS)
_STEP_KEY_LIST = "name, mod, method, params, retry and timeout_seconds"
_JSON_SCALARS = (str, int, float, bool, type(None))
HINT_WINDOW = 1000  # "did you mean" for a step reference looks at this many earlier steps
RUN_DATA = -1  # Reference.step of "@_input..." and "@_runtime..."
NO_STEP = -2  # Reference.step of a reference that names nothing it could use
# A declared param type's Python types (bool, an int subclass, is told apart in _is_type).
_PARAM_TYPES = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}
_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


@dataclass(frozen=True, slots=True)
class Procedure:
    """One step of a flow; ``params`` is read-only and ``index`` its position in the flow.
    ``retry`` and ``timeout_seconds`` (of one attempt) are None when the step has none."""

    name: str
    mod: str
    method: str
    params: dict = field(default_factory=dict)
    index: int = 0
    retry: RetryPolicy | None = None
    timeout_seconds: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.mod}.{self.method})"


@dataclass(frozen=True)
class FlowDefinition:
    procedures: tuple[Procedure, ...]
    timeout_seconds: float | None = None  # of the whole run
    # A run still going after this long is "late": its flow's rules may notify of it.
    max_duration_seconds: float | None = None
    notify: tuple[NotifyRule, ...] = ()
    # The declared inputs, in their order; None when the flow declares none (any input goes).
    inputs: dict[str, InputSpec] | None = None


class Reference(NamedTuple):
    """A reference in a step's params, as validation read it. ``step`` is the index of the
    step its root names (usable from later steps only), RUN_DATA or NO_STEP."""

    text: str
    root: str | None  # None when malformed
    step: int


@dataclass(slots=True)
class StepOutline:
    """What validation read of one step, valid or not: enough to draw the flow."""

    index: int
    name: str | None
    mod: str | None
    method: str | None
    references: Sequence[Reference] = ()  # a list once the step has params
    error: bool = False  # a diagnostic, listed or not, points into this step


@dataclass(frozen=True)
class FlowAnalysis:
    definition: FlowDefinition | None
    diagnostics: list[Diagnostic]  # the first max_diagnostics found
    problem_count: int  # every diagnostic found, listed or not
    steps: list[StepOutline]  # empty when the text has no list of steps
    # (path, name) of each channel its notify rules name, read even from a faulty definition.
    channels: tuple[tuple[str, str], ...] = ()


def validate_flow(
    source: str | bytes | dict, *, packages: Sequence[str] = ("mod",)
) -> tuple[FlowDefinition | None, list[Diagnostic]]:
    """Parse and check a flow definition (JSON text or parsed data).

    Returns ``(definition, diagnostics)`` with every problem found; every diagnostic is an
    error, so the definition is None if and only if there is one. Checking procedures imports their
    modules from the allowed ``packages``; nothing is run.
    """
    analysis = analyse_flow(source, packages=packages)
    return analysis.definition, analysis.diagnostics


def analyse_flow(
    source: str | bytes | dict, *, packages: Sequence[str] = ("mod",), max_diagnostics: int | None = None
) -> FlowAnalysis:
    """validate_flow's work, with what an editor shows beside the text.

    Lists the first ``max_diagnostics`` diagnostics (all by default) and counts the others
    without building their messages; outlines every step with the references found in it,
    so that nothing needs to read the definition a second time.
    """
    checker = _Checker(packages, max_diagnostics)
    data = checker.parse(source)
    if checker.problems:
        return checker.result(None)
    if not isinstance(data, dict):
        checker.error("SCHEMA", "", 'a flow definition must be a JSON object with a "procedures" list')
        return checker.result(None)
    for key in data:
        if key not in FLOW_KEYS and checker.listed():
            path = key_path(key).removeprefix(".")
            message = (
                f'unknown key "{key}": a flow has "procedures" and optional "inputs",'
                ' "timeout_seconds", "max_duration_seconds" and "notify"'
            ) + checker.hint(str(key), FLOW_KEYS, '"')
            checker.error("SCHEMA", path, message)
    timeout = data.get("timeout_seconds")
    if "timeout_seconds" in data and timeout_problem(timeout) and checker.listed():
        checker.error("OUT_OF_RANGE", "timeout_seconds", timeout_problem(timeout))
    max_duration = data.get("max_duration_seconds")
    if "max_duration_seconds" in data and timeout_problem(max_duration) and checker.listed():
        checker.error("OUT_OF_RANGE", "max_duration_seconds", timeout_problem(max_duration))
    rules = checker.notify(data["notify"]) if "notify" in data else ()
    if "inputs" in data:
        checker.declare_inputs(data["inputs"])
    procedures = data.get("procedures")
    if not isinstance(procedures, list) or not procedures:
        checker.error("SCHEMA", "procedures", '"procedures" must be a non-empty list of steps')
    elif len(procedures) > MAX_STEPS:
        message = f"a flow has at most {MAX_STEPS:,} steps; this one has {len(procedures):,}"
        checker.error("SCHEMA", "procedures", message)
    else:
        for index, item in enumerate(procedures):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                checker.names.setdefault(item["name"], index)
        for index, item in enumerate(procedures):
            checker.step(index, item)
    if checker.problems:
        return checker.result(None)
    policies = checker.policies
    steps = tuple(
        Procedure(p["name"], p["mod"], p["method"], freeze(p.get("params", {})), i, *policies.get(i, ()))
        for i, p in enumerate(procedures)
    )
    return checker.result(FlowDefinition(steps, timeout, max_duration, rules, checker.inputs))


class _Declared(NamedTuple):
    """What validation checks of a declared procedure's steps."""

    label: str  # mod.method, for messages
    params: Mapping[str, Param]
    extra_params: bool
    required: tuple[str, ...]
    results: Mapping[str, Result] | None  # None: references to its keys are not checked


class _Checker:
    def __init__(self, packages: Sequence[str], max_diagnostics: int | None) -> None:
        self.loader = ProcedureLoader(packages)
        self.limit = sys.maxsize if max_diagnostics is None else max_diagnostics
        self.diagnostics: list[Diagnostic] = []
        self.problems = 0  # listed or not
        self.hints = MAX_HINTS  # each "did you mean" compares many names: a flow gets this many
        self.names: dict[str, int] = {}  # each name's first index
        self.known: dict[str, Reference] = {}  # every reference text seen, read once
        self.outlines: list[StepOutline] = []
        self.order: tuple[list[int], list[str]] | None = None  # first indexes and names, for hints
        self.policies: dict[int, tuple] = {}  # (retry, timeout_seconds) of the steps that have one
        self.channels: tuple[tuple[str, str], ...] = ()
        self.inputs: dict[str, InputSpec] | None = None  # None: no declaration, any @_input.x goes
        self.input_names: frozenset[str] | None = None  # declared names, even of faulty specs
        self.declared: dict[tuple[str, str], _Declared | None] = {}  # by (mod, method); None: undeclared
        self.results: dict[int, _Declared] = {}  # the steps whose procedure declares its result keys

    def result(self, definition: FlowDefinition | None) -> FlowAnalysis:
        return FlowAnalysis(definition, self.diagnostics, self.problems, self.outlines, self.channels)

    def error(self, code, path, message, step=None) -> None:
        self.problems += 1
        if len(self.diagnostics) < self.limit:
            self.diagnostics.append(Diagnostic(code, path, message, step))

    def listed(self, outline: StepOutline | None = None) -> bool:
        """Mark the step (if any) as faulty. True while diagnostics are listed: build the
        diagnostic then, with error(); False once the list is full: the problem is only counted."""
        if outline is not None:
            outline.error = True
        if len(self.diagnostics) < self.limit:
            return True
        self.problems += 1
        return False

    def hint(self, word: str, candidates, quote: str = "") -> str:
        if self.hints <= 0:
            return ""
        self.hints -= 1
        return _hint(difflib.get_close_matches(word, candidates, n=1), quote)

    def parse(self, source):
        if not isinstance(source, str | bytes | bytearray):
            return source
        if len(source) > MAX_SOURCE_SIZE:
            self.error("INVALID_JSON", "", f"the definition is {len(source):,} bytes long; the limit is 5 MB")
            return None
        try:
            return parse_json(source)
        except JSONNumberError as err:
            message = str(err)
        except json.JSONDecodeError as err:
            message = f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}"
        except UnicodeDecodeError:
            message = "the definition is not UTF-8 text"
        except RecursionError:
            message = "the JSON is nested too deeply to read"
        self.error("INVALID_JSON", "", message)
        return None

    def step(self, index, item) -> None:
        # Run for every step of a definition that may hold 100,000 of them: the usual case
        # takes a few dict lookups, and paths and messages are built only for listed problems.
        if not isinstance(item, dict):
            outline = StepOutline(index, None, None, None)
            self.outlines.append(outline)
            if self.listed(outline):
                message = "each step must be an object with name, mod, method and optional params"
                self.error("SCHEMA", f"procedures[{index}]", message)
            return
        name, mod, method = item.get("name"), item.get("mod"), item.get("method")
        step = name if isinstance(name, str) and name else None
        outline = StepOutline(
            index, step, mod if isinstance(mod, str) else None, method if isinstance(method, str) else None
        )
        self.outlines.append(outline)
        if not item.keys() <= _STEP_KEY_SET:
            for key in item:
                if key not in _STEP_KEY_SET and self.listed(outline):
                    message = f'unknown key "{key}": a step has {_STEP_KEY_LIST}'
                    hint = self.hint(str(key), STEP_KEYS, '"')
                    self.error("SCHEMA", f"procedures[{index}]{key_path(key)}", message + hint, step)
        if not (step and outline.mod and outline.method):
            for key, value in (("name", name), ("mod", mod), ("method", method)):
                if not (isinstance(value, str) and value) and self.listed(outline):
                    message = f'"{key}" is required: a non-empty string'
                    self.error("SCHEMA", f"procedures[{index}].{key}", message, step)
        if step and ("." in step or step[0] in "_@"):
            if self.listed(outline):
                message = f'"{step}" cannot be a step name: it must not contain "." or start with "_" or "@"'
                self.error("RESERVED_NAME", f"procedures[{index}].name", message, step)
        elif step and len(step) > MAX_STEP_NAME:
            if self.listed(outline):
                message = f"a step name has at most {MAX_STEP_NAME} characters, this one has {len(step)}"
                self.error("NAME_TOO_LONG", f"procedures[{index}].name", message, step[:MAX_STEP_NAME])
        elif step and self.names[step] != index and self.listed(outline):
            message = f'"{step}" is already the name of procedures[{self.names[step]}]'
            self.error("DUPLICATE_STEP", f"procedures[{index}].name", message, step)
        declared = None
        if outline.mod:
            err = self.loader.problem(mod, outline.method or None)
            if err is not None:
                if self.listed(outline):
                    self.error(err.code, f"procedures[{index}].{err.field}", str(err), step)
            elif outline.method:
                declared = self.declaration(mod, method)
        if "retry" in item or "timeout_seconds" in item:
            self.policy(item, outline)
        params = item.get("params")
        if declared is not None:
            if declared.results is not None:
                self.results[index] = declared
            if isinstance(params, dict) or "params" not in item:
                self.check_params(params or {}, declared, outline)
        if isinstance(params, dict):
            if params:
                outline.references = []
                self.walk(params, outline, [], 0)
        elif (params is not None or "params" in item) and self.listed(outline):
            self.error("SCHEMA", f"procedures[{index}].params", '"params" must be an object', step)

    def declaration(self, mod: str, method: str) -> _Declared | None:
        key = (mod, method)
        if key in self.declared:
            return self.declared[key]
        declaration = declaration_of(self.loader.load(mod, method)[1])
        found = None
        if declaration is not None:
            params = declaration.params
            found = _Declared(
                f"{mod}.{method}",
                params,
                declaration.extra_params,
                tuple(name for name, spec in params.items() if spec.required),
                None if declaration.extra_results else declaration.results,
            )
        self.declared[key] = found
        return found

    def check_params(self, params: dict, declared: _Declared, outline: StepOutline) -> None:
        # Run for every step of a declared procedure: per param a dict lookup and, for a
        # typed one, an isinstance; messages are built only for listed problems.
        index, specs = outline.index, declared.params
        for key, value in params.items():
            spec = specs.get(key)
            if spec is None:
                if not declared.extra_params and self.listed(outline):
                    names = ", ".join(specs)
                    takes = f"takes {names}" if names else "takes no params"
                    message = f'unknown param "{key}": {declared.label} {takes}'
                    message += self.hint(str(key), list(specs), '"')
                    self.error("UNKNOWN_PARAM", _params_path(index, [], key), message, outline.name)
            elif not _fits(spec, value) and self.listed(outline):
                message = f'param "{key}" {_wanted(spec, value)}'
                self.error("BAD_PARAM_TYPE", _params_path(index, [], key), message, outline.name)
        for name in declared.required:
            if name not in params and self.listed(outline):
                kind = _KINDS.get(specs[name].type, "any value")
                message = f'missing param "{name}": {declared.label} requires it ({kind})'
                self.error("MISSING_PARAM", _params_path(index, [], name), message, outline.name)

    def notify(self, value) -> tuple[NotifyRule, ...]:
        rules, problems, channels = notify_problems(value)
        self.channels = tuple((f"notify{path}", name) for path, name in channels)
        for code, path, message in problems:
            if self.listed():
                self.error(code, f"notify{path}", message)
        return rules

    def declare_inputs(self, value) -> None:
        specs, problems = read_declaration(value)
        for code, path, message in problems:
            if self.listed():
                self.error(code, path, message)
        self.inputs = specs
        if isinstance(value, dict):
            # A faulty spec is reported above: its name still counts, for the references.
            self.input_names = frozenset(name for name in value if isinstance(name, str))

    def policy(self, item: dict, outline: StepOutline) -> None:
        where = f"procedures[{outline.index}]"
        retry = None
        if "retry" in item:
            retry, problems = retry_problems(item["retry"])
            for code, path, message in problems:
                if self.listed(outline):
                    self.error(code, f"{where}.retry{path}", message, outline.name)
        timeout = item.get("timeout_seconds")
        problem = timeout_problem(timeout) if "timeout_seconds" in item else None
        if problem and self.listed(outline):
            self.error("OUT_OF_RANGE", f"{where}.timeout_seconds", problem, outline.name)
        self.policies[outline.index] = (retry, timeout)

    def walk(self, container, outline: StepOutline, location: list, depth: int) -> None:
        # The hot loop of a large definition: per string, a prefix test, and for a reference
        # one dict lookup (each distinct text is read once per flow) and one comparison.
        # location holds the keys and indexes from params down to container, shared by the
        # whole walk: a path is built only for a problem that is listed.
        if depth >= MAX_PARAMS_DEPTH:
            for key in container if isinstance(container, dict) else range(len(container)):
                if self.listed(outline):
                    message = f"params are nested more than {MAX_PARAMS_DEPTH} levels deep"
                    self.error("SCHEMA", _params_path(outline.index, location, key), message, outline.name)
            return
        known, found, index, results = self.known, outline.references, outline.index, self.results
        is_dict = isinstance(container, dict)
        unlisted = 0
        for key, item in container.items() if is_dict else enumerate(container):
            if is_dict and not isinstance(key, str) and self.listed(outline):
                path = _params_path(index, location, key)
                self.error("SCHEMA", path, "object keys must be strings", outline.name)
            if isinstance(item, str):
                if item[:1] == "@" and item[1:2] != "@":
                    reference = known.get(item) or self.read(item)
                    found.append(reference)
                    if RUN_DATA <= reference[2] < index:
                        if results and reference[2] in results:
                            self.result_key(reference, results[reference[2]], outline, location, key)
                        continue
                    if len(self.diagnostics) < self.limit:
                        self.reference_problem(reference, outline, location, key)
                    else:  # only counted, as listed() would, once the loop is done
                        unlisted += 1
            elif isinstance(item, (dict, list)):
                location.append(key)
                self.walk(item, outline, location, depth + 1)
                location.pop()
            elif not isinstance(item, _JSON_SCALARS) and self.listed(outline):
                message = f"{type(item).__name__} is not a JSON value"
                self.error("SCHEMA", _params_path(index, location, key), message, outline.name)
        if unlisted:
            self.problems += unlisted
            outline.error = True

    def read(self, text: str) -> Reference:
        # What references.parse() accepts, without building the key path: a flow can hold
        # a million distinct references.
        body = text[1:]
        root, dot, keys = body.partition(".")
        if not root or ".." in body or body[-1] == ".":
            root, step = None, NO_STEP
        elif root[0] != "_":
            step = self.names.get(root, NO_STEP)
        elif root == "_input":
            names = self.input_names
            step = RUN_DATA if names is None or not dot or keys.partition(".")[0] in names else NO_STEP
        elif root == "_runtime" and (not dot or keys.partition(".")[0] in RUNTIME_KEYS):
            step = RUN_DATA
        elif root == SECRET_ROOT and dot and "." not in keys:
            step = RUN_DATA  # whether the secret exists is the store's to say (runner.validation)
        else:
            step = NO_STEP
        reference = self.known[text] = Reference(text, root, step)
        return reference

    def reference_problem(self, reference: Reference, outline: StepOutline, location: list, key) -> None:
        outline.error = True
        text, _, first = reference
        path = _params_path(outline.index, location, key)
        try:
            root, keys = parse(text)
        except BadReference as err:
            self.error("BAD_REFERENCE", path, str(err), outline.name)
            return
        if root == SECRET_ROOT:
            code = "BAD_REFERENCE"
            message = 'a secret is named by one key: "@_secret.NAME"'
        elif root == "_runtime":
            code = "BAD_REFERENCE"
            message = f'_runtime has no key "{keys[0]}" (it has: {", ".join(RUNTIME_KEYS)})'
        elif root == "_input":
            declared = sorted(self.input_names or ())
            code = "UNKNOWN_INPUT"
            message = f'the flow declares no input "{keys[0]}" (its inputs: {", ".join(declared) or "none"})'
            message += self.hint(keys[0], declared)
        elif first == NO_STEP:
            what = f"a reserved name ({', '.join(RESERVED_ROOTS)})" if root[0] == "_" else "an earlier step"
            code = "UNKNOWN_STEP_REF"
            message = f"{root} is not {what}" + self.hint(root, self.earlier_names(outline.index))
        elif first == outline.index:
            code, message = "SELF_REF", "it refers to this step itself; a step can use only earlier results"
        else:
            code = "FORWARD_REF"
            message = f"{root} runs later (procedures[{first}]); a step can use only earlier results"
        self.error(code, path, f'"{text}": {message}', outline.name)

    def result_key(self, reference: Reference, declared: _Declared, outline, location, key) -> None:
        """Report "@step.key" when the step's procedure declares its result keys without key."""
        text, root, _ = reference
        wanted = text.partition(".")[2].partition(".")[0]
        keys = declared.results
        if not wanted or wanted in keys or not self.listed(outline):
            return
        message = f'"{text}": {root}\'s result has no key {wanted}'
        hint = self.hint(wanted, list(keys))
        if hint:
            message += hint
        else:
            message += f" (its keys: {', '.join(keys)})" if keys else " (it declares no keys)"
        self.error("UNKNOWN_RESULT_KEY", _params_path(outline.index, location, key), message, outline.name)

    def earlier_names(self, index: int) -> list[str]:
        """The names of the HINT_WINDOW steps before procedures[index] (most typos are of a
        nearby step; comparing with every name would make each suggestion cost the whole flow)."""
        if self.hints <= 0:
            return []
        if self.order is None:
            self.order = list(self.names.values()), list(self.names)  # in step order
        firsts, names = self.order
        end = bisect.bisect_left(firsts, index)
        return [name for name in names[max(0, end - HINT_WINDOW) : end] if name[:1] not in ("", "_", "@")]


def _fits(spec: Param, value) -> bool:
    if isinstance(value, str) and value[:1] == "@":
        if value[1:2] != "@":
            return True  # a reference: its value is known when the step runs
        value = value[1:]
    return _is_type(spec, value) and (
        not spec.choices or any(_same(value, choice) for choice in spec.choices)
    )


def _is_type(spec: Param, value) -> bool:
    types = _PARAM_TYPES.get(spec.type)  # None for "any"
    if types is None or (value is None and spec.has_default and spec.default is None):
        return True
    # True and False are ints to Python, never integers or numbers to JSON.
    return isinstance(value, types) and (types is bool or not isinstance(value, bool))


def _same(value, choice) -> bool:
    return value == choice and isinstance(value, bool) == isinstance(choice, bool)


def _wanted(spec: Param, value) -> str:
    """Why a literal that _fits refuses does not fit."""
    if isinstance(value, str) and value[:2] == "@@":
        value = value[1:]
    if not _is_type(spec, value):
        return f"must be {_KINDS[spec.type]}, not {_kind_of(value)}"
    choices = ", ".join(_shown(choice) for choice in spec.choices)
    return f"must be one of {choices}, not {_shown(value)}"


def _kind_of(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "an array"
    for kind, types in (("a boolean", bool), ("a string", str), ("an integer", int), ("a number", float)):
        if isinstance(value, types):
            return f"{kind} {_shown(value)}"
    return type(value).__name__


def _shown(value) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _params_path(index: int, location: list, key) -> str:
    keys = "".join(f"[{k}]" if type(k) is int else key_path(k) for k in (*location, key))
    return f"procedures[{index}].params{keys}"


def _hint(matches, quote="") -> str:
    return f"; did you mean {quote}{matches[0]}{quote}?" if matches else ""
