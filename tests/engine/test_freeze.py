import copy
import json
import pickle

import pytest

from runner.engine import FrozenDict, FrozenList, freeze


def test_frozen_result_is_still_a_dict_and_a_list():
    frozen = freeze({"a": [1, {"b": 2}]})
    assert isinstance(frozen, dict) and isinstance(frozen["a"], list)
    assert frozen == {"a": [1, {"b": 2}]}


def test_frozen_result_serialises_as_json():
    assert json.loads(json.dumps(freeze({"a": [1, {"b": (2, 3)}]}))) == {"a": [1, {"b": [2, 3]}]}


def test_every_dict_mutator_raises_type_error():
    frozen = freeze({"a": 1})
    for mutate in (
        lambda: frozen.__setitem__("a", 2),
        lambda: frozen.__delitem__("a"),
        frozen.clear,
        lambda: frozen.pop("a"),
        frozen.popitem,
        lambda: frozen.setdefault("b", 1),
        lambda: frozen.update(b=1),
        lambda: frozen.__ior__({"b": 1}),
    ):
        with pytest.raises(TypeError, match="read-only"):
            mutate()
    assert frozen == {"a": 1}


def test_every_list_mutator_raises_type_error():
    frozen = freeze([3, 1])
    for mutate in (
        lambda: frozen.__setitem__(0, 2),
        lambda: frozen.__delitem__(0),
        lambda: frozen.append(1),
        lambda: frozen.extend([1]),
        lambda: frozen.insert(0, 1),
        frozen.pop,
        lambda: frozen.remove(1),
        frozen.clear,
        frozen.sort,
        frozen.reverse,
        lambda: frozen.__iadd__([1]),
        lambda: frozen.__imul__(2),
    ):
        with pytest.raises(TypeError, match="read-only"):
            mutate()
    assert frozen == [3, 1]


def test_freezing_copies_so_the_original_can_change_later():
    original = {"items": [1]}
    frozen = freeze(original)
    original["items"].append(2)
    assert frozen == {"items": [1]}


def test_freezing_a_stored_value_returns_it_as_is():
    stored = freeze({"a": [1]})
    assert freeze(stored) is stored
    assert freeze(stored["a"]) is stored["a"]


def test_freezing_a_value_that_embeds_stored_values_shares_them():
    stored = freeze({"a": [1]})
    frozen = freeze({"x": stored, "y": [stored["a"]]})
    assert frozen["x"] is stored and frozen["y"][0] is stored["a"]


def test_plain_copies_of_frozen_values_are_mutable():
    copied = dict(freeze({"a": 1}))
    copied["a"] = 2
    assert copied == {"a": 2} and type(copied) is dict


def test_deepcopy_and_pickle_keep_frozen_values_frozen():
    frozen = freeze({"a": [1]})
    for clone in (copy.deepcopy(frozen), pickle.loads(pickle.dumps(frozen)), copy.copy(frozen)):
        assert clone == frozen
        assert type(clone) is FrozenDict and type(clone["a"]) is FrozenList
