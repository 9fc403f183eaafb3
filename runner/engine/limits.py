"""How big a step's result may be: counted as JSON would write it, at a cost bounded by the limits."""

MAX_RESULT_NODES = 1_000_000
MAX_RESULT_BYTES = 16 * 1024 * 1024

_SEQUENCES = (list, tuple, set, frozenset)
_CONTAINERS = (dict, *_SEQUENCES)
_BINARY = (bytes, bytearray, memoryview)


def measure(value, *, max_nodes: int, max_bytes: int) -> tuple[int, int]:
    """(values, bytes): how many values ``value`` holds and about how many bytes it takes as
    JSON, counting a part that appears in several places once per place, as JSON does.

    Counting stops as soon as either figure passes its maximum, so the cost is bounded by the
    maxima whatever the value (a result that repeats an earlier one four times, a cycle); and
    it loops rather than recurses, so deep data cannot overflow the stack.
    """
    nodes, size = 1, 0
    stack = [value]  # Containers still to read; the values in them are counted already.
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, _SEQUENCES):
            children = item
        else:
            size += _scalar_bytes(item, max_bytes)
            continue
        nodes += len(item)
        if nodes > max_nodes:
            break
        if children is item:
            size += 2 + 2 * len(item)  # Brackets, then `value, ` per item.
        else:
            size += 2 + 4 * len(item)  # Braces, then `"key": value, ` per item.
            for key in item:
                if type(key) is str:
                    size += (len(key) if key.isascii() else _text_bytes(key, max_bytes)) + 2
                else:
                    size += 8
        # Most values are strings and numbers: counted here rather than pushed and popped.
        for child in children:
            kind = type(child)
            if kind is str:
                size += (len(child) if child.isascii() else _text_bytes(child, max_bytes)) + 2
            elif kind is int:
                size += child.bit_length() // 3 + 1  # About its digits, without printing it.
            elif isinstance(child, _CONTAINERS):
                stack.append(child)
            else:
                size += _scalar_bytes(child, max_bytes)
        if size > max_bytes:
            break
    return nodes, size


def _scalar_bytes(value, max_bytes: int) -> int:
    if type(value) is str:
        return _text_bytes(value, max_bytes) + 2
    if type(value) is int:
        return value.bit_length() // 3 + 1
    if isinstance(value, _BINARY):
        return len(value)
    return 8  # true, null, a float, or an object stored as it is.


def _text_bytes(text: str, max_bytes: int) -> int:
    # A string longer than the limit in characters is over it in bytes too: no need to encode.
    if len(text) > max_bytes or text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))
