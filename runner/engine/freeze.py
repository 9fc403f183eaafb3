"""Read-only copies of step results, so that no step can change what another step returned, and
private mutable copies of them for the procedures that take them as params."""

ATOMIC = frozenset({str, int, float, bool, type(None)})


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


def freeze(value, memo: dict | None = None):
    """Return a deep, read-only copy of dicts, lists, tuples and sets inside ``value``.

    A FrozenDict or FrozenList is read-only all the way down already (freeze made it), so it
    is kept, not copied: a result that embeds earlier results shares them, and copying each
    would grow a result that references another four times to 4^n copies over n steps.
    For the same reason a container met twice (``memo`` maps ids to copies) is copied once:
    a procedure's params hold private copies of earlier results, shared as they were.
    Other objects are kept as they are: the guarantee covers JSON-shaped data.
    """
    if type(value) in ATOMIC or type(value) in _STORED:
        return value
    # Atomic items are tested inline: most results are flat, and a call per item would
    # double the cost. A top dict is not memoized: nothing below it can be it (a cycle ends
    # in RecursionError either way).
    if memo is None:
        memo = {}
        if type(value) is dict:  # a step's result: inline, it is the hot path
            return FrozenDict({k: v if type(v) in ATOMIC else freeze(v, memo) for k, v in value.items()})
    elif (copy := memo.get(id(value))) is not None:
        return copy
    copy = memo[id(value)] = _frozen(value, memo)
    return copy


def _frozen(value, memo: dict):
    if isinstance(value, dict):
        return FrozenDict({k: v if type(v) in ATOMIC else freeze(v, memo) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList([v if type(v) in ATOMIC else freeze(v, memo) for v in value])
    if isinstance(value, tuple):
        return tuple(freeze(item, memo) for item in value)
    if isinstance(value, set | frozenset):
        return frozenset(value)
    return value


def thaw(value, memo: dict | None = None):
    """Return a private, mutable copy of the JSON-shaped data in ``value``: its dicts and lists,
    frozen or not, become new plain dicts and lists all the way down (tuples are rebuilt
    around them); strings, numbers and other objects are shared.

    ``memo`` maps the id of each container copied to its copy: a container met twice is
    copied once, so copying a result that embeds another four times costs one copy of it.
    """
    if type(value) in ATOMIC:
        return value
    if memo is None:
        memo = {}
    elif (copy := memo.get(id(value))) is not None:
        return copy
    # Atomic items are tested inline, as in freeze.
    if isinstance(value, dict):
        copy = {k: v if type(v) in ATOMIC else thaw(v, memo) for k, v in value.items()}
    elif isinstance(value, list):
        copy = [v if type(v) in ATOMIC else thaw(v, memo) for v in value]
    elif isinstance(value, tuple):
        copy = tuple(thaw(v, memo) for v in value)
    else:
        return value
    memo[id(value)] = copy
    return copy
