"""Parameter references: parsing ``@step.key`` strings and resolving them against the context.

Only a whole string is a reference: ``"@step1.msg"`` is one, ``"id-@step1.msg"`` is a literal.
``"@@text"`` is the literal ``"@text"``. Dict keys are never resolved.
"""

from collections.abc import Mapping

from .diagnostics import key_path
from .errors import ParameterResolutionError
from .freeze import ATOMIC as _ATOMIC
from .freeze import FrozenDict, freeze, thaw

SECRET_ROOT = "_secret"  # "@_secret.NAME": a secret, resolved only when the step runs
RESERVED_ROOTS = ("_input", "_runtime", SECRET_ROOT)
RUNTIME_KEYS = ("run_id", "flow_name", "start_time")


class BadReference(ValueError):
    """A string that starts with a single ``@`` but names no step or key."""


def parse(text: str) -> tuple[str, tuple[str, ...]]:
    """Split a reference (a string starting with a single ``@``) into ``(root, path)``."""
    root, *path = text[1:].split(".")
    if not root:
        raise BadReference(f'"{text}" names no step: write "@step" or "@step.key" (or "@@" for a literal @)')
    if "" in path:
        raise BadReference(f'"{text}" has an empty key: keys are separated by single dots, as in "@step.a.b"')
    return root, tuple(path)


def compile_params(params: Mapping) -> tuple[FrozenDict, tuple, tuple]:
    """Split a step's params into ``(template, references, nested)`` for resolve_params.

    The template is the read-only params with ``@@`` literals unescaped; each reference is
    ``(location, text, root, path)``, location being the keys and indexes leading to it;
    ``nested`` holds the keys of the template's objects and lists, which each step gets
    copies of. (A plain tuple: a named one costs a tenth of a microsecond per step.)
    """
    found, escaped, nested = [], [], ()
    # The top level inline (_scan does the rest), noting the objects and lists on the way.
    for key, item in params.items():
        if isinstance(item, str):
            if item[:1] == "@":
                (escaped if item[:2] == "@@" else found).append(((key,), item))
        elif isinstance(item, dict | list):
            nested += (key,)
            _scan(item, (key,), found, escaped)
    template = params if isinstance(params, FrozenDict) and not escaped else freeze(_unescape(params))
    references = []
    for location, text in found:
        try:
            references.append((location, text, *parse(text)))
        except BadReference as err:
            # Validation reports this earlier; a definition that skipped validation fails
            # when the step runs, like any other resolution error.
            references.append((location, text, None, str(err)))
    return template, tuple(references), nested


def resolve_params(compiled: tuple, context: Mapping, step: str) -> dict:
    """Return fresh params with every reference replaced by a private copy of its value in
    ``context``: the procedure may change them, and whatever is inside, freely.

    Raises ParameterResolutionError naming the step, the param path, the reference and the
    missing piece. Neither the context nor the template is changed.
    """
    template, references, nested = compiled
    params = dict(template)
    # One memo for the whole params: a value met twice (referenced twice, or shared inside
    # a stored result) is copied once, and the copies keep that sharing, as deepcopy does.
    # Made only when there is something to copy: most params are flat.
    memo = {} if nested else None
    try:
        for key in nested:
            params[key] = thaw(template[key], memo)
        for location, text, root, path in references:
            if root is None:
                raise ParameterResolutionError(f"{step}: {param_path(location)}: {path}", step=step)
            try:
                value = context[root]
                for key in path:
                    if isinstance(value, dict):
                        value = value[key]
                    elif isinstance(value, list) and key.isascii() and key.isdigit():
                        value = value[int(key)]
                    else:
                        raise TypeError(key)
            except (KeyError, IndexError, TypeError, ValueError) as err:
                raise ParameterResolutionError(
                    f'{step}: {param_path(location)}: "{text}": {explain(context, root, path)}', step=step
                ) from err
            if type(value) not in _ATOMIC:
                if memo is None:
                    memo = {}
                value = thaw(value, memo)
            if len(location) == 1:
                params[location[0]] = value
            else:
                _place(params, location, value)
    except RecursionError as err:
        message = f"{step}: params: a referenced value is nested too deeply to copy"
        raise ParameterResolutionError(message, step=step) from err
    return params


def resolve(params: Mapping, context: Mapping, step: str = "step") -> dict:
    """Resolve ``params`` against ``context`` in one go (compile_params + resolve_params)."""
    return resolve_params(compile_params(params), context, step)


def param_path(location: tuple) -> str:
    return "params" + "".join(f"[{k}]" if type(k) is int else key_path(k) for k in location)


def explain(context: Mapping, root: str, path: tuple[str, ...]) -> str:
    """Say which piece of a reference is missing from ``context`` (the slow path, after a failure)."""
    if root not in context:
        return f"no step named {root} has run before this one"
    if root == SECRET_ROOT:
        return f'no secret named "{path[0] if path else ""}"'
    owner = {"_input": "the run input", "_runtime": "the run's runtime data"}.get(root, f"{root}'s result")
    value = context[root]
    for depth, key in enumerate(path):
        where = owner if depth == 0 else f"{owner} at {'.'.join(path[:depth])}"
        if isinstance(value, dict):
            if key not in value:
                keys = [str(k) for k in list(value)[:10]] + (["..."] if len(value) > 10 else [])
                has = f"it has: {', '.join(keys)}" if keys else "it is empty"
                return f'{where} has no key "{key}" ({has})'
            value = value[key]
        elif isinstance(value, list):
            if not (key.isascii() and key.isdigit()):
                return f'{where} is a list, and "{key}" is not an item number (0, 1, ...)'
            number = _index(key)
            if number is None or number >= len(value):
                shown = number if number is not None else key[:20] + "…"
                return f"{where} has no item {shown} (it has {len(value)} items)"
            value = value[number]
        else:
            return f'{where} is {type(value).__name__}, not an object or a list, so it has no "{key}"'
    return "it could not be resolved"


def _index(key: str) -> int | None:
    # int() refuses more than sys.get_int_max_str_digits() digits (4300): no such item.
    try:
        return int(key)
    except ValueError:
        return None


def _scan(value, location, found, escaped) -> None:
    if isinstance(value, str):
        if value[:1] == "@":
            (escaped if value[:2] == "@@" else found).append((location, value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _scan(item, (*location, key), found, escaped)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _scan(item, (*location, index), found, escaped)


def _unescape(value):
    if isinstance(value, str):
        return value[1:] if value[:2] == "@@" else value
    if isinstance(value, dict):
        return {key: _unescape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unescape(item) for item in value]
    return value


def _place(params: dict, location: tuple, value) -> None:
    # The containers on the way are the template's private copies, made by thaw.
    target = params
    for key in location[:-1]:
        target = target[key]
    target[location[-1]] = value
