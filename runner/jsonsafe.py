"""Making a run's context storable as JSON, without losing anything silently."""

import json
import math

# One step's result beyond this (serialized) is stored as a marked, truncated preview.
MAX_RESULT_BYTES = 256 * 1024
PREVIEW_CHARS = 2000


def json_safe(value):
    """A copy of value made of JSON types only; anything else becomes its repr()."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return repr(value)


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


def storable_context(context: dict, limit: int = MAX_RESULT_BYTES) -> dict:
    return {key: storable_result(value, limit) for key, value in context.items()}
