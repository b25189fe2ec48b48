from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from propulate import SearchSpace
from propulate.errors import SearchSpaceError

MIXED = {
    "layers": (2, 10),
    "lr": (0.01, 0.0001),  # reversed float bounds
    "decay": (1e-5, 1e-1, "log"),
    "width": (1, 1024, "log"),
    "act": ("relu", "sigmoid", "tanh"),
    "opt": ("sgd", "adam"),
    "momentum": (0.0, 1.0),
}


# ----- parsing ---------------------------------------------------------------------------------
def test_parses_every_kind():
    space = SearchSpace(MIXED)
    assert space.names == tuple(MIXED)
    layers, lr, decay, width, act, opt, momentum = space.dimensions
    assert (layers.kind, layers.low, layers.high, layers.log) == ("int", 2, 10, False)
    assert (lr.kind, lr.low, lr.high, lr.log) == ("float", 0.0001, 0.01, False)
    assert (decay.kind, decay.log) == ("float", True)
    assert (width.kind, width.low, width.high, width.log) == ("int", 1, 1024, True)
    assert (act.kind, act.choices) == ("categorical", ("relu", "sigmoid", "tanh"))
    assert opt.choices == ("sgd", "adam")
    assert momentum.kind == "float"
    # ints and floats one slot each, categoricals one-hot, in the order of the limits.
    assert [d.offset for d in space] == [0, 1, 2, 3, 4, 7, 9]
    assert space.encoded_size == 10
    assert space.numeric_names == ("layers", "lr", "decay", "width", "momentum")
    assert len(space) == 7
    assert space["lr"] is lr
    # The limits keep what the user wrote (reversed bounds included).
    assert space.limits["lr"] == (0.01, 0.0001)


def test_reversed_float_bounds_are_accepted_and_sorted():
    assert SearchSpace({"x": (1.0, -1.0)})["x"].low == -1.0
    assert SearchSpace({"x": (1.0, -1.0)})["x"].high == 1.0
    assert SearchSpace({"n": (5, 1)})["n"].low == 1


def test_lists_and_numpy_numbers_are_accepted():
    space = SearchSpace(
        {"x": [0.0, 1.0], "n": (np.int64(1), np.int64(4)), "y": (np.float32(1), 2.0)}
    )
    assert space["x"].kind == "float"
    assert space["n"].kind == "int"
    assert space["y"].kind == "float"


def test_pinned_values_are_accepted_as_in_1_2():
    # Propulate 1.2 accepts a domain whose entries are all equal as a fixed value.
    space = SearchSpace({"n": (3, 3), "x": (0.5, 0.5), "act": ("relu", "relu"), "b": (True, True)})
    rng = random.Random(0)
    for _ in range(5):
        assert space.sample(rng) == {"n": 3, "x": 0.5, "act": "relu", "b": True}
    assert space["act"].choices == ("relu",)
    assert space["x"].from_unit(0.9) == 0.5


def test_equality_and_of_cache():
    assert SearchSpace(MIXED) == SearchSpace(dict(MIXED))
    assert hash(SearchSpace(MIXED)) == hash(SearchSpace(dict(MIXED)))
    assert SearchSpace(MIXED) != SearchSpace({"x": (0.0, 1.0)})
    space = SearchSpace.of(MIXED)
    assert SearchSpace.of(MIXED) is space
    assert SearchSpace.of(space) is space
    assert SearchSpace(space) == space
    # An int range and a float range over the same numbers are different spaces.
    assert SearchSpace.of({"x": (0, 1)}) != SearchSpace.of({"x": (0.0, 1.0)})


@pytest.mark.parametrize(
    ("limits", "fragment"),
    [
        ([("x", (0.0, 1.0))], "dict"),
        ("x", "dict"),
        ({}, "empty"),
        ({"x": ()}, "'x'"),
        ({"x": (1.0,)}, "'x'"),
        ({"x": 1.0}, "'x'"),
        ({"x": (0.0, "a")}, "'x'"),
        ({"x": ("a", 1)}, "'x'"),
        ({"x": (0, 1.0)}, "'x'"),
        ({"_x": (0.0, 1.0)}, "'_x'"),
        ({1: (0.0, 1.0)}, "1"),
        ({"x": (0.0, 1.0, "log")}, "'x'"),
        ({"x": (-1.0, 1.0, "log")}, "'x'"),
        ({"x": (0, 8, "log")}, "'x'"),
        ({"x": (0.0, math.inf)}, "'x'"),
        ({"ok": (0.0, 1.0), "bad": (1,)}, "'bad'"),
    ],
)
def test_invalid_limits_raise_naming_the_key(limits, fragment):
    with pytest.raises(SearchSpaceError) as error:
        SearchSpace(limits)
    assert fragment in str(error.value)
    assert isinstance(error.value, ValueError)


def test_error_messages_say_what_to_do():
    with pytest.raises(SearchSpaceError, match=r"int and a float.*\(0\.0, 1\.0\).*\(0, 1\)"):
        SearchSpace({"x": (0, 1.0)})
    with pytest.raises(SearchSpaceError, match=r"one number.*\(1\.0, 1\.0\) to pin"):
        SearchSpace({"x": (1.0,)})
    with pytest.raises(SearchSpaceError, match="positive"):
        SearchSpace({"x": (0.0, 1.0, "log")})
    with pytest.raises(SearchSpaceError, match="reserved"):
        SearchSpace({"_loss": (0.0, 1.0)})
    with pytest.raises(SearchSpaceError, match="not a string"):
        SearchSpace({("a",): (0.0, 1.0)})


# ----- encode / decode -------------------------------------------------------------------------
def test_encode_decode_round_trip():
    space = SearchSpace(MIXED)
    rng = random.Random(1)
    for _ in range(200):
        values = space.sample(rng)
        position = space.encode(values)
        assert position.shape == (space.encoded_size,)
        decoded = space.decode(position)
        assert decoded == values
        assert [type(v) for v in decoded.values()] == [type(v) for v in values.values()]


def test_encoding_layout():
    space = SearchSpace({"n": (0, 5), "act": ("relu", "tanh", "elu"), "x": (0.0, 1.0)})
    position = space.encode({"n": 3, "act": "elu", "x": 0.25})
    np.testing.assert_array_equal(position, [3.0, 0.0, 0.0, 1.0, 0.25])


def test_decode_rounds_and_clips_and_takes_argmax():
    space = SearchSpace({"n": (0, 5), "act": ("relu", "tanh", "elu"), "x": (0.0, 1.0)})
    values = space.decode(np.array([2.6, 0.2, 0.7, 0.1, 1.5]))
    assert values == {"n": 3, "act": "tanh", "x": 1.0}
    assert type(values["n"]) is int
    assert space.decode(np.array([-9.0, 0.0, 0.0, 0.0, -0.5])) == {"n": 0, "act": "relu", "x": 0.0}


def test_decode_wrong_shape():
    space = SearchSpace(MIXED)
    with pytest.raises(SearchSpaceError, match=r"\(10,\)"):
        space.decode(np.zeros(3))


def test_unknown_category_error_names_choices():
    space = SearchSpace(MIXED)
    values = space.sample(random.Random(0))
    values["act"] = "gelu"
    with pytest.raises(SearchSpaceError, match="'gelu'.*'act'.*relu"):
        space.encode(values)


def test_record_round_trip():
    space = SearchSpace(MIXED)
    rng = random.Random(2)
    for _ in range(50):
        values = space.sample(rng)
        record = space.to_record(values)
        assert len(record) == len(space)
        assert all(type(x) is float for x in record)
        assert space.from_record(record) == values
        json.dumps(record)


def test_fingerprint_is_json_and_distinguishes_spaces():
    a = SearchSpace(MIXED).fingerprint()
    assert json.loads(a)[0] == ["layers", [2, 10]]
    assert a != SearchSpace({"x": (0.0, 1.0)}).fingerprint()
    assert a == SearchSpace(dict(MIXED)).fingerprint()


def test_fingerprint_with_numpy_bounds():
    # Bounds computed with numpy (np.int64, np.float32) are valid limits and must fingerprint.
    space = SearchSpace({"n": (np.int64(1), np.int64(5)), "x": (np.float32(0.5), np.float32(2))})
    text = space.fingerprint()
    assert json.loads(text) == [["n", [1, 5]], ["x", [0.5, 2.0]]]
    assert text == SearchSpace({"n": (1, 5), "x": (0.5, 2.0)}).fingerprint()


# ----- unit coordinates ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["layers", "lr", "decay", "width", "momentum"])
def test_unit_coordinates_round_trip(name):
    dimension = SearchSpace(MIXED)[name]
    rng = random.Random(3)
    for _ in range(200):
        value = dimension.sample(rng)
        unit = dimension.to_unit(value)
        assert -1e-12 <= unit <= 1 + 1e-12
        back = dimension.from_unit(unit)
        assert type(back) is type(value)
        assert back == pytest.approx(value, rel=1e-9)


def test_unit_coordinates_of_bounds():
    space = SearchSpace(MIXED)
    lr = space["lr"]  # written reversed: (0.01, 0.0001)
    assert lr.to_unit(0.0001) == pytest.approx(0.0)
    assert lr.to_unit(0.01) == pytest.approx(1.0)
    assert lr.from_unit(0.0) == pytest.approx(0.0001)
    assert lr.from_unit(1.0) == pytest.approx(0.01)
    decay = space["decay"]  # log scale: the middle is the geometric mean
    assert decay.from_unit(0.5) == pytest.approx(math.sqrt(1e-5 * 1e-1))
    assert decay.to_unit(1e-3) == pytest.approx(0.5)
    width = space["width"]
    assert width.from_unit(0.5) == 32
    # Out-of-range unit coordinates are clipped into the bounds.
    assert lr.from_unit(-3.0) == pytest.approx(0.0001)
    assert lr.from_unit(7.0) == pytest.approx(0.01)
    assert space["layers"].from_unit(2.0) == 10


def test_clip_converts_types():
    space = SearchSpace(MIXED)
    assert space["layers"].clip(11.7) == 10
    assert type(space["layers"].clip(np.float64(4.4))) is int
    assert space["momentum"].clip(-0.5) == 0.0
    assert type(space["momentum"].clip(np.float32(0.5))) is float


# ----- sampling --------------------------------------------------------------------------------
def test_sampling_in_bounds_with_right_types():
    space = SearchSpace(MIXED)
    rng = random.Random(4)
    samples = [space.sample(rng) for _ in range(2000)]
    expected = {"int": int, "float": float, "categorical": str}
    for values in samples:
        assert list(values) == list(space.names)
        for d in space:
            assert type(values[d.name]) is expected[d.kind]
            assert d.contains(values[d.name])
    # Every integer and every choice turns up.
    assert {v["layers"] for v in samples} == set(range(2, 11))
    assert {v["act"] for v in samples} == {"relu", "sigmoid", "tanh"}
    # Log-uniform: about half the draws below the geometric mean.
    below = sum(v["decay"] < 1e-3 for v in samples) / len(samples)
    assert 0.45 < below < 0.55
    # Linear: the reversed range is sampled across its whole width.
    lrs = [v["lr"] for v in samples]
    assert min(lrs) < 0.001 and max(lrs) > 0.009


def test_same_seed_same_samples():
    space = SearchSpace(MIXED)
    a = [space.sample(random.Random(5)) for _ in range(3)]
    b = [space.sample(random.Random(5)) for _ in range(3)]
    assert a == b


def test_coerce():
    space = SearchSpace(MIXED)
    assert space.coerce("layers", 3.6) == 4
    assert type(space.coerce("layers", np.int64(3))) is int
    assert type(space.coerce("lr", np.float32(0.001))) is float
    assert space.coerce("act", "tanh") == "tanh"
    with pytest.raises(SearchSpaceError, match="'lr' is numeric"):
        space.coerce("lr", "big")
    with pytest.raises(SearchSpaceError, match="choices"):
        space.coerce("act", "gelu")
    with pytest.raises(KeyError, match="'nope'"):
        space.coerce("nope", 1.0)
