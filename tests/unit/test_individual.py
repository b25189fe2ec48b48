from __future__ import annotations

import math
import random

import numpy as np
import pytest

from propulate import Individual, SearchSpace
from propulate.errors import SearchSpaceError
from propulate.population import Status

LIMITS = {
    "n": (1, 8),
    "act": ("relu", "tanh", "elu"),
    "lr": (0.01, 0.0001),
    "opt": ("sgd", "adam", "rmsprop"),
    "wd": (1e-6, 1e-2, "log"),
}
VALUES = {"n": 3, "act": "tanh", "lr": 0.001, "opt": "adam", "wd": 1e-4}


def make(values=None) -> Individual:
    return Individual(dict(VALUES if values is None else values), LIMITS)


def assert_consistent(ind: Individual) -> None:
    """The encoded position decodes to the values, and every categorical block is one-hot."""
    space = ind.search_space
    assert space.decode(ind.position) == dict(ind)
    for d in space:
        if d.kind == "categorical":
            block = ind.position[d.offset : d.offset + d.width]
            np.testing.assert_array_equal(block, np.eye(d.width)[d.choices.index(ind[d.name])])


# ----- dict-like behaviour ---------------------------------------------------------------------
def test_mapping_interface():
    ind = make()
    assert ind["n"] == 3 and ind["act"] == "tanh"
    assert list(ind.keys()) == list(LIMITS)
    assert list(ind) == list(LIMITS)
    assert dict(ind.items()) == VALUES
    assert list(ind.values()) == list(VALUES.values())
    assert len(ind) == 5
    assert "lr" in ind and "loss" not in ind and 1 not in ind
    assert ind.get("nope", 7) == 7
    assert dict(ind) == VALUES
    assert ind.values_dict() == VALUES
    assert {**ind} == VALUES
    with pytest.raises(KeyError):
        ind["nope"]


def test_setitem_and_update_coerce_types():
    ind = make()
    ind["n"] = 5.2
    assert ind["n"] == 5 and type(ind["n"]) is int
    ind["lr"] = np.float32(0.005)
    assert type(ind["lr"]) is float
    ind.update({"act": "elu"}, wd=1e-3)
    assert ind["act"] == "elu" and ind["wd"] == 1e-3
    with pytest.raises(SearchSpaceError, match="choices"):
        ind["act"] = "gelu"
    with pytest.raises(KeyError, match="nope"):
        ind["nope"] = 1.0
    assert_consistent(ind)


def test_update_is_setting_each_value_in_order():
    # update() writes a child's position once for all its values (breeding's fast path): the
    # same values, position and key as setting them one by one, the first ones kept if a later
    # one is refused, and the parent's position untouched.
    parent = Individual(np.array([2.6, 0.1, 0.5, 0.3, 0.005, 0.2, 0.1, 0.9, 1e-3]), LIMITS)
    one_by_one, at_once = parent.copy(), parent.copy()
    changes = {"n": 6.7, "opt": "rmsprop", "lr": 0.002, "act": "relu"}
    for name, value in changes.items():
        one_by_one[name] = value
    at_once.update(changes)
    assert dict(at_once) == dict(one_by_one) and at_once.values_key() == one_by_one.values_key()
    np.testing.assert_array_equal(at_once.position, one_by_one.position)
    assert at_once.position[0] == 7.0 and parent.position[0] == 2.6
    assert not at_once.position.flags.writeable
    assert_consistent(at_once)
    key = at_once.values_key()
    with pytest.raises(SearchSpaceError, match="choices"):
        at_once.update({"n": 2, "act": "gelu", "wd": 1e-5})
    assert at_once["n"] == 2 and at_once["wd"] == 1e-3 and at_once.values_key() != key
    assert_consistent(at_once)


def test_values_dict_is_a_copy():
    ind = make()
    values = ind.values_dict()
    values["n"] = 8
    assert ind["n"] == 3


def test_construction_from_dict_validates_names():
    with pytest.raises(KeyError, match=r"missing \['wd'\]"):
        Individual({k: v for k, v in VALUES.items() if k != "wd"}, LIMITS)
    with pytest.raises(KeyError, match=r"unknown \['extra'\]"):
        Individual({**VALUES, "extra": 1.0}, LIMITS)


def test_construction_from_position():
    space = SearchSpace(LIMITS)
    position = space.encode(VALUES)
    ind = Individual(position, LIMITS)
    assert dict(ind) == VALUES
    np.testing.assert_array_equal(ind.position, position)
    # The individual owns its position: changing the caller's array changes nothing.
    position[0] = 7.0
    assert ind["n"] == 3 and ind.position[0] == 3.0


def test_construction_from_continuous_position_keeps_it():
    # Particle swarms move in continuous space: the position is kept, the values decoded.
    position = np.array([2.6, 0.1, 0.5, 0.3, 0.005, 0.2, 0.1, 0.9, 1e-3])
    ind = Individual(position, LIMITS)
    assert dict(ind) == {"n": 3, "act": "tanh", "lr": 0.005, "opt": "rmsprop", "wd": 1e-3}
    np.testing.assert_array_equal(ind.position, position)


def test_wrong_shape_position():
    with pytest.raises(SearchSpaceError, match=r"shape \(3,\)"):
        Individual(np.zeros(3), LIMITS)
    ind = make()
    with pytest.raises(SearchSpaceError, match=r"\(9,\)"):
        ind.position = np.zeros(10)


def test_position_is_read_only():
    ind = make()
    with pytest.raises(ValueError, match="read-only"):
        ind.position[0] = 5.0
    ind2 = Individual(SearchSpace(LIMITS).encode(VALUES), LIMITS)
    with pytest.raises(ValueError, match="read-only"):
        ind2.position[0] = 5.0
    ind["n"] = 4
    with pytest.raises(ValueError, match="read-only"):
        ind.position[0] = 5.0


def test_assigning_a_position_updates_values():
    ind = make()
    position = ind.position.copy()
    position[0] = 7.0
    ind.position = position
    assert ind["n"] == 7
    assert_consistent(ind)


@pytest.mark.parametrize("name", ["act", "opt"])
@pytest.mark.parametrize("encode_first", [True, False])
def test_position_consistent_after_setting_any_categorical(name, encode_first):
    # Propulate 1.2 only cleared the first categorical's one-hot block: setting a later one left
    # a stale 1 behind, so the position decoded to the old choice.
    ind = make()
    if encode_first:
        ind.position  # noqa: B018  # encode now, so the update is incremental
    for choice in SearchSpace(LIMITS)[name].choices:
        ind[name] = choice
        assert ind[name] == choice
        assert_consistent(ind)


def test_position_consistent_after_setting_categorical_of_position_built_individual():
    position = np.array([2.0, 0.1, 0.5, 0.3, 0.005, 0.2, 0.1, 0.9, 1e-3])
    ind = Individual(position, LIMITS)
    ind["opt"] = "sgd"
    ind["act"] = "relu"
    assert_consistent(ind)
    np.testing.assert_array_equal(ind.position[[0, 4, 8]], [2.0, 0.005, 1e-3])


def test_position_consistent_after_setting_numbers():
    ind = make()
    ind.position  # noqa: B018
    ind["lr"] = 0.002
    ind["n"] = 6
    assert_consistent(ind)
    assert ind.position[0] == 6.0 and ind.position[4] == 0.002


# ----- metadata, repr, equality, copy ----------------------------------------------------------
def test_fresh_metadata():
    ind = make()
    assert ind.loss is None
    assert ind.status == Status.PENDING
    assert (ind.rank, ind.generation, ind.island) == (-1, -1, -1)
    assert ind.active is True
    assert ind.velocity is None
    assert math.isinf(ind.evaltime)
    assert ind.key == (-1, -1)
    assert Individual(dict(VALUES), LIMITS, generation=4, rank=2).key == (2, 4)
    assert ind.types == {"n": int, "act": str, "lr": float, "opt": str, "wd": float}
    assert ind.limits == SearchSpace(LIMITS).limits


def test_repr_is_readable():
    ind = make()
    text = repr(ind)
    assert text.startswith("Individual(")
    assert "n=3" in text and "act='tanh'" in text and "lr=0.001" in text
    assert "not evaluated" in text
    ind.loss, ind.rank, ind.generation, ind.island = 0.123456789, 2, 7, 1
    ind.status = Status.OK
    text = repr(ind)
    assert "loss=0.123457" in text and "rank=2" in text and "generation=7" in text
    assert "island=1" in text
    ind.active = False
    ind.status = Status.FAILED
    ind.loss = math.inf
    text = repr(ind)
    assert "inactive" in text and "failed" in text and "loss=inf" in text
    assert "\n" not in text


def test_equality():
    a, b = make(), make()
    assert a == b
    b["n"] = 4
    assert a != b
    b = make()
    b.loss = 1.0
    assert a != b
    a.loss = 1.0
    assert a == b
    a.loss = b.loss = math.nan
    assert a == b  # NaN losses compare equal: the same record
    b.rank = 3
    assert a != b
    assert a.equals(b)  # equals() ignores metadata other than the loss
    assert a != dict(a)
    c = Individual(dict(VALUES), {**LIMITS, "n": (1, 9)})
    assert c != make()


def test_not_hashable():
    with pytest.raises(TypeError):
        hash(make())


def test_copy_gives_fresh_metadata_and_independent_values():
    ind = make()
    ind.loss, ind.rank, ind.generation, ind.island = 0.5, 3, 9, 2
    ind.active, ind.status, ind.evalperiod, ind.migration_steps = False, Status.OK, 2.0, 4
    ind.velocity = np.ones(9)
    child = ind.copy()
    assert dict(child) == dict(ind)
    assert child.loss is None and child.status == Status.PENDING
    assert (child.rank, child.generation, child.island) == (-1, -1, -1)
    assert child.active is True and child.migration_steps == 0 and child.evalperiod == 0.0
    assert child.search_space is ind.search_space
    child["n"] = 8
    child["opt"] = "sgd"
    assert ind["n"] == 3 and ind["opt"] == "adam"
    child.velocity[0] = 5.0
    assert ind.velocity[0] == 1.0
    assert_consistent(child)
    assert_consistent(ind)


def test_copy_keeps_a_continuous_position():
    # A particle's position lies between the grid points of its ints and categoricals (and may
    # leave the bounds); the loop copies every child before evaluating it, so a copy that
    # re-encoded the rounded values would snap every particle back onto the grid.
    position = np.array([2.6, 0.1, 0.5, 0.3, 0.02, 0.2, 0.1, 0.9, 1e-3])
    ind = Individual(position, LIMITS, velocity=np.full(9, 0.5))
    child = ind.copy()
    np.testing.assert_array_equal(child.position, position)
    assert dict(child) == dict(ind)
    np.testing.assert_array_equal(child.velocity, ind.velocity)
    # Changing the copy leaves the original alone.
    child["opt"] = "sgd"
    child["lr"] = 0.001
    np.testing.assert_array_equal(ind.position, position)
    assert child.search_space.decode(child.position) == dict(child)
    np.testing.assert_array_equal(child.position[5:8], [1.0, 0.0, 0.0])


def test_from_trusted_is_equivalent_to_constructor():
    space = SearchSpace(LIMITS)
    values = space.sample(random.Random(0))
    fast = Individual._from_trusted(dict(values), space)
    assert fast == Individual(values, LIMITS)
    np.testing.assert_array_equal(fast.position, space.encode(values))
