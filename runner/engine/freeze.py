"""Read-only copies of step results, so that no step can change what another step returned."""

_ATOMIC = frozenset({str, int, float, bool, type(None)})


def _read_only(self, *args, **kwargs):
    raise TypeError(
        f"this {type(self).__mro__[1].__name__} is read-only (a stored step result or a flow "
        "parameter); make a copy to change it: dict(value) or list(value)"
    )


class FrozenDict(dict):
    """A dict that refuses mutation; still a dict, so json.dumps and isinstance checks work."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        # The default protocol rebuilds a dict subclass item by item through __setitem__;
        # rebuilding from a plain dict lets copy, deepcopy and pickle work.
        return (FrozenDict, (dict(self),))


class FrozenList(list):
    """A list that refuses mutation; still a list."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __reduce__(self):
        return (FrozenList, (list(self),))


_STORED = frozenset({FrozenDict, FrozenList})


def freeze(value):
    """Return a deep, read-only copy of dicts, lists, tuples and sets inside ``value``.

    A FrozenDict or FrozenList is read-only all the way down already (freeze made it), so it
    is kept, not copied: a result that embeds earlier results shares them, and copying each
    would grow a result that references another four times to 4^n copies over n steps.
    Other objects are kept as they are: the guarantee covers JSON-shaped data.
    """
    if type(value) in _ATOMIC or type(value) in _STORED:
        return value
    # Atomic items are tested inline: most results are flat, and a call per item would
    # double the cost.
    if isinstance(value, dict):
        return FrozenDict({k: v if type(v) in _ATOMIC else freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList([v if type(v) in _ATOMIC else freeze(v) for v in value])
    if isinstance(value, tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(value)
    return value
