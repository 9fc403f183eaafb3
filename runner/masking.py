"""Masking secret values in what a run writes: log records, printed output, step results,
errors, tracebacks and the run's context.

A Masker knows the values revealed in its process (the child that runs a run's steps adds
each secret as a step resolves it) and replaces every occurrence of them with MASK, by
value: wherever the procedure put it, as long as the text holds the value itself. A value
transformed on the way (base64 of "user:password", a hash, a value split across two
writes) is not recognised; docs/secrets.md lists what is and is not masked.
"""

import json
import re

MASK = "****"


class Masker:
    """The values to mask, and the masking of texts and of JSON-like data."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern | None = None

    def __bool__(self) -> bool:
        """Whether there is anything to mask: the hot paths skip the work when there is not."""
        return self._pattern is not None

    def add(self, value: str) -> None:
        """Mask `value` from now on. Every non-empty value is masked, however short (a
        one-character secret then masks that character everywhere: better unreadable logs
        than a leak). The forms JSON and repr() give it are masked too, so a value with a
        quote, a backslash or a line break is still found in an escaped text."""
        if not value:
            return
        forms = {
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            repr(value)[1:-1],
        }
        if forms <= self._forms:
            return
        self._forms |= forms
        # Longest first: the regular expression takes the first alternative that matches, so
        # a value that contains another is replaced whole rather than leaving its other part.
        ordered = sorted(self._forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def text(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def cut_text(self, text: str) -> str:
        """text() of a text that was cut at its end (a stored preview): a cut through a value
        leaves its head, which no whole value matches, so an end that could be a value's
        head is masked too (at worst a few innocent characters)."""
        text = self.text(text)
        heads = (size for form in self._forms for size in range(1, len(form)) if text.endswith(form[:size]))
        head = max(heads, default=0)
        return text[: len(text) - head] + MASK if head else text

    def data(self, value):
        """`value` with every string masked, dictionary keys included (dicts, lists and
        tuples are copied; other values are kept as they are)."""
        if self._pattern is None:
            return value
        return self._data(value, self._pattern)

    def _data(self, value, pattern: re.Pattern):
        if isinstance(value, str):
            return pattern.sub(MASK, value)
        if isinstance(value, dict):
            return {
                pattern.sub(MASK, key) if isinstance(key, str) else key: self._data(item, pattern)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._data(item, pattern) for item in value]
        return value


# The values revealed in this process. Only the child that runs a run's steps adds to it
# (runner.supervisor, as steps resolve "@_secret.NAME"), so in a worker it stays empty; code
# running in that child that stores text by its own means (a sub-flow's run record, say)
# masks it with this.
revealed = Masker()
