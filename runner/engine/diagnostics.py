"""Validation findings, each with the JSON path of what it is about."""

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a flow definition; ``path`` is like ``procedures[1].params.msg``."""

    code: str
    path: str
    message: str
    step: str | None = None


def key_path(key) -> str:
    """The path suffix for a dict key: ``.msg`` for identifiers, ``["a b"]`` otherwise."""
    if isinstance(key, str) and key.isidentifier():
        return f".{key}"
    return f"[{json.dumps(key, ensure_ascii=False)}]"
