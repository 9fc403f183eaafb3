"""Strict JSON reading, for definitions and run inputs alike: only numbers every reader takes.

Python's json reads NaN, Infinity and -Infinity (which are not JSON), turns 1e400 into
infinity, and raises a plain ValueError without a position for an integer longer than
``sys.get_int_max_str_digits()`` (4300 by default). Other readers of wf_flow and of run
records refuse or mangle all of these, so ``parse_json`` refuses them with a
``JSONNumberError``: a ``JSONDecodeError`` that says which number and where.
"""

import json
import math
import re
import sys

_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?(?:Infinity|NaN|\d+(\.\d+)?([eE][-+]?\d+)?)', re.DOTALL)


class JSONNumberError(json.JSONDecodeError):
    """A number JSON cannot carry: NaN, an infinity, beyond float range, or too many digits."""

    def __init__(self, msg: str, doc: str, pos: int) -> None:
        super().__init__(msg, doc, pos)
        self.args = (f"{msg} (line {self.lineno}, column {self.colno})",)


class _Refused(Exception):
    def __init__(self, token: str, message: str) -> None:
        self.token, self.message = token, message


def parse_json(source: str | bytes | bytearray):
    """``json.loads(source)``, refusing the numbers above with a JSONNumberError.

    Other errors are json.loads' own: JSONDecodeError, UnicodeDecodeError, RecursionError.
    """
    if isinstance(source, bytes | bytearray):
        source = bytes(source).decode(json.detect_encoding(source), "surrogatepass")
    try:
        return json.loads(source, parse_constant=_constant, parse_float=_float)
    except _Refused as refused:
        raise JSONNumberError(refused.message, source, _position(source, refused.token)) from None
    except json.JSONDecodeError:
        raise
    except ValueError as err:
        # The only other ValueError the scanner raises: int() refusing too many digits.
        limit = sys.get_int_max_str_digits()
        message = f"a number in the JSON has more than {limit} digits"
        raise JSONNumberError(message, source, _long_integer(source, limit)) from err


def number_problem(value) -> str | None:
    """What makes a parsed value unfit for JSON storage (a NaN, an infinity, an integer
    over the digit limit), or None; for data that did not come through parse_json."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            token = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(item)]
            return f"{token} is not a JSON number: numbers must be finite"
        if isinstance(item, int) and not isinstance(item, bool) and _too_long(item):
            return f"a number has more than {sys.get_int_max_str_digits()} digits"
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


def _constant(token: str):
    raise _Refused(token, f"{token} is not a JSON number: numbers must be finite")


def _float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        shown = token if len(token) <= 24 else token[:20] + "…"
        message = f"the number {shown} is too large: numbers must be finite, at most about 1.8e308"
        raise _Refused(token, message)
    return value


def _too_long(number: int) -> bool:
    limit = sys.get_int_max_str_digits()
    # Over limit digits means over limit * log2(10) bits: most numbers need no exact test.
    return limit > 0 and abs(number).bit_length() > limit * 3.32 and abs(number) >= 10**limit


def _position(source: str, token: str) -> int:
    # Everything before the refused number parsed, so its first occurrence outside strings is it.
    for match in _TOKEN.finditer(source):
        if match.group() == token:
            return match.start()
    return 0


def _long_integer(source: str, limit: int) -> int:
    for match in _TOKEN.finditer(source):
        text = match.group()
        if text[0] != '"' and not match.group(1) and not match.group(2) and len(text.lstrip("-")) > limit:
            return match.start()
    return 0
