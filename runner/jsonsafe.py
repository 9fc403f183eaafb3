"""Making a run's context storable as JSON, without losing anything silently."""

import json
import math
from collections.abc import Mapping

from runner.engine.limits import measure

# One step's result beyond this (serialized) is stored as a marked, truncated preview.
MAX_RESULT_BYTES = 256 * 1024
PREVIEW_CHARS = 2000
_PREVIEW_ENCODER = json.JSONEncoder(ensure_ascii=False, default=repr)
# MariaDB refuses JSON nested 32 levels deep; a run context adds two levels above a value.
MAX_DEPTH = 28


def json_safe(value, depth: int = 0):
    """A copy of value made of JSON types the database can store; anything else is repr()'d.

    Strings the database cannot encode (lone surrogates, e.g. from a non-UTF-8 file name)
    are backslash-escaped, and data nested beyond MAX_DEPTH is replaced by a marker.
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth >= MAX_DEPTH:
        return f"<nested deeper than {MAX_DEPTH} levels: not stored>"
    if isinstance(value, dict):
        return {_encodable(str(key)): json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item, depth + 1) for item in value]
    return _encodable(repr(value))


def is_json_native(value, depth: int = 0) -> bool:
    """Whether json_safe(value) keeps value as it is: JSON types only, string keys, finite
    numbers (lists and tuples alike); False as soon as something would be repr()'d."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if depth >= MAX_DEPTH:
        return False
    if isinstance(value, Mapping):
        return all(isinstance(key, str) and is_json_native(item, depth + 1) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return all(is_json_native(item, depth + 1) for item in value)
    return False


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def storable_result(value, limit: int = MAX_RESULT_BYTES):
    """json_safe(value), or an explicit truncation marker when it serializes beyond limit.

    The size is estimated first, reading no further into value than the limit: a huge value,
    or one that repeats a shared part many times, is never copied or serialized whole.
    """
    # Every value takes at least a byte as JSON, so more values than bytes is over the limit.
    nodes, size = measure(value, max_nodes=limit, max_bytes=limit)
    if nodes > limit or size > limit:
        return _truncated(size, limit, _preview(value))
    safe = json_safe(value)
    text = json.dumps(safe, ensure_ascii=False)
    size = len(text.encode())
    if size <= limit:
        return safe
    return _truncated(size, limit, text[:PREVIEW_CHARS])


def _truncated(size: int, limit: int, preview: str) -> dict:
    # When the estimate stopped early, original_bytes is as far as it got: a lower bound.
    return {"__truncated__": True, "original_bytes": size, "limit_bytes": limit, "preview": preview}


def _preview(value) -> str:
    # The pure-Python encoder yields the text piece by piece: stop once the preview is full.
    pieces, length = [], 0
    try:
        for piece in _PREVIEW_ENCODER.iterencode(value):
            pieces.append(piece)
            length += len(piece)
            if length >= PREVIEW_CHARS:
                break
    except (TypeError, ValueError, RecursionError):
        pass  # A key JSON cannot hold, a cycle, deep data: the preview ends there.
    return _encodable("".join(pieces)[:PREVIEW_CHARS])


def depth_of(value, limit: int) -> int:
    """How deeply value nests, counting no further than limit (no recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack and deepest < limit:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest


def storable_text(text: object, limit: int | None = None) -> str:
    """str(text) as the database can store it: lone surrogates backslash-escaped, and cut
    to limit characters (with a marker) when the column has one."""
    text = _encodable(str(text))
    if limit is not None and len(text) > limit:
        marker = "…"
        text = text[: limit - len(marker)] + marker
    return text
