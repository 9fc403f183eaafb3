"""Making a run's context storable as JSON, without losing anything silently."""

import json
import math

# One step's result beyond this (serialized) is stored as a marked, truncated preview.
MAX_RESULT_BYTES = 256 * 1024
PREVIEW_CHARS = 2000
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


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def storable_result(value, limit: int = MAX_RESULT_BYTES):
    """json_safe(value), or an explicit truncation marker when it serializes beyond limit."""
    safe = json_safe(value)
    text = json.dumps(safe, ensure_ascii=False)
    size = len(text.encode())
    if size <= limit:
        return safe
    return {
        "__truncated__": True,
        "original_bytes": size,
        "limit_bytes": limit,
        "preview": text[:PREVIEW_CHARS],
    }


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
