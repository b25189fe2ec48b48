"""Search-space kinds: the explicit specs, value sets, steps, booleans, pinned values, errors."""

from __future__ import annotations

import collections
import json
import random

import numpy as np
import pytest

import propulate
from propulate import Bool, Categorical, Float, Individual, Int, Ordinal, SearchSpace
from propulate.checkpoint import _limits_from_fingerprint
from propulate.errors import SearchSpaceError
from propulate.propagators import IntervalMutationNormal, PointMutation, RandomPointMutation
from propulate.propagators._coordinates import ModelCoordinates
from propulate.testing import KINDS_LIMITS


def sample_many(domain, n=600, seed=0):
    space = SearchSpace({"x": domain})
    rng = random.Random(seed)
    return [space.sample(rng)["x"] for _ in range(n)]


# ----- the specs and the shorthand --------------------------------------------------------------
def test_specs_are_exported_from_the_package():
    for name in ("Int", "Float", "Ordinal", "Categorical", "Bool"):
        assert name in propulate.__all__
        assert getattr(propulate, name).__module__ == "propulate.parameters"


@pytest.mark.parametrize(
    ("spec", "shorthand"),
    [
        (Int(2, 10), (2, 10)),
        (Int(1, 1024, log=True), (1, 1024, "log")),
        (Float(0.0, 1.0), (0.0, 1.0)),
        (Float(0, 1), (0.0, 1.0)),
        (Float(1e-4, 1e-2, log=True), (1e-4, 1e-2, "log")),
        (Ordinal([16, 32, 64]), (16, 32, 64)),
        (Ordinal((0.1, 0.2, 0.4)), (0.1, 0.2, 0.4)),
        (Categorical(["relu", "tanh"]), ("relu", "tanh")),
        (Bool(), (False, True)),
    ],
)
def test_a_spec_and_its_shorthand_are_the_same_space(spec, shorthand):
    a, b = SearchSpace({"x": spec}), SearchSpace({"x": shorthand})
    assert a == b
    # ... so a checkpoint written with one resumes with the other.
    assert a.fingerprint() == b.fingerprint()


def test_the_shorthand_of_1_2_is_unchanged():
    space = SearchSpace({"n": (2, 10), "x": (1.0, -1.0), "lr": (1e-4, 1e-2, "log")})
    assert [(d.kind, d.low, d.high, d.log, d.is_grid) for d in space] == [
        ("int", 2, 10, False, False),
        ("float", -1.0, 1.0, False, False),
        ("float", 1e-4, 1e-2, True, False),
    ]
    assert space.fingerprint() == json.dumps(
        [["n", [2, 10]], ["x", [1.0, -1.0]], ["lr", [1e-4, 1e-2, "log"]]]
    )


def test_two_ints_are_a_range_and_more_are_a_value_set():
    assert set(sample_many((16, 64))) == set(range(16, 65))
    assert set(sample_many((16, 32, 64))) == {16, 32, 64}


# ----- upstream's int value sets ----------------------------------------------------------------
def test_int_value_sets_sample_uniformly_as_upstream():
    # Upstream (Helmholtz-AI-Energy/propulate, propagators/base.py InitUniform and ga.py
    # PointMutation) draws ``rng.choice(limits[name])`` for more than two ints: each listed value
    # with the same probability, as an int, and nothing else.
    draws = sample_many((64, 16, 32, 128), n=4000)
    counts = collections.Counter(draws)
    assert set(counts) == {16, 32, 64, 128}
    assert all(type(x) is int for x in draws)
    assert all(abs(c / 4000 - 0.25) < 0.03 for c in counts.values())


def test_point_mutations_keep_int_value_sets_legal_and_move():
    limits = {"batch": (16, 32, 64), "x": (0.0, 1.0)}
    parent = Individual({"batch": 32, "x": 0.5}, limits)
    for mutation in (
        PointMutation(limits, points=2, rng=random.Random(0)),
        RandomPointMutation(limits, min_points=2, max_points=2, rng=random.Random(0)),
    ):
        children = [mutation(parent)["batch"] for _ in range(200)]
        assert set(children) == {16, 64}  # a point mutation changes the value


def test_gaussian_mutation_moves_through_the_ranks_of_a_grid():
    limits = {"batch": (16, 32, 64, 128, 256), "width": Int(8, 64, step=8)}
    mutation = IntervalMutationNormal(limits, sigma_factor=0.3, points=2, rng=random.Random(1))
    parent = Individual({"batch": 64, "width": 32}, limits)
    children = [mutation(parent) for _ in range(300)]
    assert {c["batch"] for c in children} <= {16, 32, 64, 128, 256}
    assert {c["width"] for c in children} <= set(range(8, 65, 8))
    assert len({c["batch"] for c in children}) >= 4


# ----- steps, float value sets, booleans, pinned values -----------------------------------------
def test_steps_give_only_multiples():
    assert set(sample_many(Int(0, 100, step=10))) == set(range(0, 101, 10))
    floats = set(sample_many(Float(0.0, 1.0, step=0.1)))
    # Rounded to the grid: 0.3, never 0.30000000000000004.
    assert floats == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
    dimension = SearchSpace({"x": Float(-1.0, 1.0, step=0.25)})["x"]
    assert dimension.clip(0.3) == 0.25 and dimension.clip(7.0) == 1.0
    assert dimension.from_unit(0.5) == 0.0 and dimension.to_unit(0.25) == 0.625


def test_float_value_sets_and_booleans_keep_their_types():
    assert set(sample_many((0.1, 0.25, 0.5))) == {0.1, 0.25, 0.5}
    draws = sample_many((True, False))
    assert set(draws) == {True, False} and all(type(x) is bool for x in draws)
    assert SearchSpace({"b": Bool()})["b"].choices == (False, True)
    ind = Individual({"b": True}, {"b": (True, False)})
    assert ind.types == {"b": bool}
    ind["b"] = np.bool_(False)
    assert ind["b"] is False


def test_setting_a_value_off_the_grid_is_an_error_naming_the_neighbours():
    limits = {"batch": (16, 32, 64), "p": Float(0.0, 1.0, step=0.1), "b": (True, False)}
    ind = Individual({"batch": 16, "p": 0.0, "b": True}, limits)
    with pytest.raises(SearchSpaceError, match=r"48.*'batch'.*32.*64"):
        ind["batch"] = 48
    ind["p"] = 0.1 + 0.2  # float arithmetic: within rounding of the grid value 0.3
    assert ind["p"] == 0.3
    with pytest.raises(SearchSpaceError, match=r"'b' is a boolean.*True or False"):
        ind["b"] = "True"
    with pytest.raises(SearchSpaceError, match=r"'b' is a boolean"):
        ind["b"] = 1


def test_pinned_values_are_fixed_as_in_1_2():
    space = SearchSpace({"act": ("relu", "relu"), "p": (0.5, 0.5), "n": (2, 2), "k": (3, 3, 3)})
    rng = random.Random(0)
    assert all(space.sample(rng) == {"act": "relu", "p": 0.5, "n": 2, "k": 3} for _ in range(20))


# ----- encodings and records --------------------------------------------------------------------
def test_every_kind_round_trips_through_encoding_records_and_model_coordinates():
    space = SearchSpace(KINDS_LIMITS)
    coordinates = ModelCoordinates(space)
    rng = random.Random(3)
    for _ in range(200):
        values = space.sample(rng)
        assert space.decode(space.encode(values)) == values
        assert space.from_record(space.to_record(values)) == values
        # Model coordinates put log-scaled floats through log and exp: equal to the last bits
        # or so (numpy's exp and log differ by an ulp between versions); all else exactly.
        decoded = coordinates.values(coordinates.encode_values(values))
        assert decoded.keys() == values.keys()
        for name, value in values.items():
            if isinstance(value, float):
                assert decoded[name] == pytest.approx(value, rel=1e-13, abs=0.0), name
            else:
                assert decoded[name] == value and type(decoded[name]) is type(value), name
        assert all(space[name].contains(value) for name, value in values.items())


def test_model_coordinates_space_a_value_set_evenly():
    coordinates = ModelCoordinates(SearchSpace({"batch": (16, 32, 64, 1024)}))
    units = [float(coordinates.encode_values({"batch": b})[0]) for b in (16, 32, 64, 1024)]
    assert np.allclose(np.diff(units), 0.25)  # four bins of equal width, whatever the spacing
    assert [coordinates.values(np.array([u]))["batch"] for u in (0.0, 0.3, 0.6, 1.0)] == [
        16,
        32,
        64,
        1024,
    ]


def test_fingerprint_round_trips_every_kind():
    space = SearchSpace(KINDS_LIMITS)
    restored = SearchSpace(_limits_from_fingerprint(space.fingerprint()))
    assert restored == space
    assert restored.fingerprint() == space.fingerprint()


def test_a_changed_spec_changes_the_fingerprint():
    base = SearchSpace({"w": Int(8, 64, step=8)}).fingerprint()
    for other in (Int(8, 64, step=4), Int(8, 64), Ordinal([8, 64])):
        assert SearchSpace({"w": other}).fingerprint() != base


def test_the_space_cache_tells_specs_apart():
    assert SearchSpace.of({"x": Ordinal([1, 2])}) != SearchSpace.of({"x": Ordinal([1.0, 2.0])})
    with pytest.raises(SearchSpaceError):
        SearchSpace.of({"x": Int(2.0, 10)})  # type: ignore[arg-type]


# ----- error messages: the parameter, the problem, the fix --------------------------------------
@pytest.mark.parametrize(
    ("domain", "pattern"),
    [
        ((1e-4, 1e-2, "Log"), r"'lr'.*only be 'log' \(in lower case\).*\(0\.0001, 0\.01, 'log'\)"),
        ((1e-4, 1e-2, "linear"), r"'lr'.*only be 'log'; got 'linear'"),
        ((True, "a"), r"'lr'.*mixes bool and str.*only booleans, \(True, False\)"),
        ((1, True), r"'lr'.*mixes bool and int"),
        ((0.0, "a"), r"'lr'.*mixes float and str"),
        ((16, 16, 32), r"'lr'.*16 appears more than once; list each value once"),
        ((1, 2.0, 3), r"'lr'.*mixes ints and floats.*\(1\.0, 2\.0, 3\.0\)"),
        (("a", "b", "a"), r"'lr'.*'a' appears more than once"),
        ((1.0,), r"'lr'.*one number.*\(1\.0, 1\.0\) to pin"),
        (Int(0, 10, step=3), r"'lr'.*not a multiple of step 3; set high to 9 or 12"),
        (Float(0.0, 1.0, step=0.3), r"'lr'.*not a multiple of step 0\.3; set high to 0\.9 or 1\.2"),
        (Int(1, 64, step=2, log=True), r"'lr'.*a step and log=True do not combine"),
        (Int(1.5, 3), r"'lr'.*low must be an int; got 1\.5\. Use Float\(1\.5, 3\)"),
        (Int(10, 2), r"'lr'.*low > high; swap them \(2, 10\)"),
        (Float(0.0, 1.0, log=True), r"'lr'.*positive bounds"),
        (Float(0.0, 1.0, step=-0.1), r"'lr'.*step must be positive"),
        (Categorical([16, 32]), r"'lr'.*16 \(int\).*Ordinal\(\[16, 32, 64\]\)"),
        (Categorical([]), r"'lr'.*non-empty"),
        (Ordinal(["a", "b"]), r"'lr'.*'a' is not a finite number.*Categorical"),
        (Ordinal([1, 1]), r"'lr'.*1 appears more than once"),
    ],
)
def test_errors_name_the_parameter_the_problem_and_the_fix(domain, pattern):
    with pytest.raises(SearchSpaceError, match=pattern):
        SearchSpace({"lr": domain})


def test_an_int_and_a_float_suggest_only_what_keeps_the_bounds():
    # (0, 0.1) must not suggest the integer range (0, 0): that would lose the upper bound.
    with pytest.raises(SearchSpaceError) as error:
        SearchSpace({"p": (0, 0.1)})
    message = str(error.value)
    assert "limits['p'] = (0, 0.1)" in message
    assert "(0.0, 0.1)" in message
    assert "(0, 0)" not in message
