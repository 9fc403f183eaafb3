"""Run input written as key=value entries: the same rule for `runflow --input` and the web form."""

import json
from collections.abc import Iterable

from runner.engine import JSONNumberError, parse_json


class InputError(ValueError):
    """Run input that cannot be used; the message names the entry and what to change."""


def parse_key_values(entries: Iterable[str]) -> dict:
    """Run input from ``key=value`` entries (command-line arguments or lines of text).

    Spaces around the key and around the value are dropped; blank entries are skipped. A
    value is JSON when it parses as JSON (``n=3`` is a number, ``flag=true`` a boolean) and
    text otherwise. A number JSON cannot carry (NaN, an infinity, 1e400, an integer of more
    than 4300 digits) is refused rather than read as text: quoting it passes the text.
    """
    data: dict = {}
    for entry in entries:
        if not entry.strip():
            continue
        key, sep, raw = entry.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise InputError(f"{_shown(entry)} is not key=value")
        if key in data:
            raise InputError(f"{_shown(key)} is given twice")
        data[key] = _value(key, raw)
    return data


def _value(key: str, raw: str):
    try:
        return parse_json(raw)
    except JSONNumberError as err:
        # Read as text, "NaN" would silently become a string where a number was meant.
        raise InputError(f"{key}: {err.msg}; quote the value to pass it as text") from err
    except (json.JSONDecodeError, RecursionError):
        return raw


def _shown(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 80 else text[:80] + "…")
