"""Run input written as key=value entries: the same syntax for `runflow --input`, `schedule add
--input` and the web form's key=value lines.

Only the syntax is read here: each entry gives a key and the text of its value. What the text
means (an integer, a boolean, JSON, or the text itself) depends on the flow's declared inputs,
and is decided by one function for every entry point (runner.engine.check_input, through
runner.services.run_input_for).
"""

from collections.abc import Iterable

from flows.models import Flow
from runner import services


class InputError(ValueError):
    """Run input that cannot be used; the message names the entry and what to change."""


def key_value_texts(entries: Iterable[str]) -> dict[str, str]:
    """The text of each key of ``key=value`` entries (command-line arguments or lines of text).

    Spaces around the key and around the value are dropped; blank entries are skipped. An
    entry without "=" or without a key, or a key given twice, is refused.
    """
    texts: dict[str, str] = {}
    for entry in entries:
        if not entry.strip():
            continue
        key, sep, raw = entry.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"{_shown(entry)} is not key=value")
        if key in texts:
            raise InputError(f"{_shown(key)} is given twice")
        texts[key] = raw.strip()
    return texts


def given_input(flow: Flow, values: dict, texts: dict[str, str]) -> dict:
    """The run input as given to an entry point, each value checked against the flow's declared
    inputs by services.run_input_for (texts read by their input's type), BadInput listing every
    problem: the keys given, with their checked values, for create_run.

    The defaults and nulls are left to create_run, which checks the input again and adds them:
    it refuses a null where an input's type is expected, even one check_input put there.
    """
    data = services.run_input_for(flow, values, texts)
    return {key: data[key] for key in {**values, **texts}}


def _shown(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= 80 else text[:80] + "…")
