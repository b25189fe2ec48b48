"""Conditional parameters: the spec, its errors, sampling, individuals, operators and models."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest

from propulate import Bool, Categorical, Float, Int, Ordinal, SearchSpace, SearchSpaceError
from propulate.checkpoint import _limits_from_fingerprint as limits_from_fingerprint
from propulate.parameters import parameter_from_json
from propulate.population import Individual
from propulate.propagators import (
    TPE,
    AvoidDuplicates,
    CrossoverMultiple,
    CrossoverUniform,
    IntervalMutationNormal,
    PointMutation,
)
from propulate.propagators._parzen import ParzenEstimator
from propulate.records import decode_individual, encode_individual
from propulate.testing import CONDITIONAL_LIMITS, assert_valid_child, make_population

SPACE = SearchSpace(CONDITIONAL_LIMITS)


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (
            {"m": Float(0.0, 1.0, when={"opt": "sgd"})},
            ["'m'", "'opt'", "not a parameter", "add it"],
        ),
        (
            {"n": (1, 4), "m": Float(0.0, 1.0, when={"n": 2})},
            ["'m'", "'n'", "int range", "categorical", "Categorical"],
        ),
        (
            {"opt": ("sgd", "adam"), "m": Float(0.0, 1.0, when={"opt": "sdg"})},
            ["'m'", "'sdg'", "not a choice of 'opt'", "['sgd', 'adam']"],
        ),
        (
            {"b": Bool(when={"b": True})},
            ["'b'", "depend on itself"],
        ),
        (
            {
                "a": Categorical(["x", "y"], when={"b": "x"}),
                "b": Categorical(["x", "y"], when={"a": "x"}),
            },
            ["cycle", "'a' -> 'b' -> 'a'", "Remove"],
        ),
        ({"opt": ("sgd",), "m": Int(0, 3, when="opt")}, ["'m'", "when='opt'", "Example"]),
        ({"opt": ("sgd",), "m": Int(0, 3, when={"opt": []})}, ["'m'", "never be active"]),
        ({"b": (True, False), "m": Int(0, 3, when={"b": "True"})}, ["'True'", "[True, False]"]),
    ],
)
def test_bad_conditions_name_the_parameter_the_problem_and_the_fix(limits, words):
    with pytest.raises(SearchSpaceError) as error:
        SearchSpace(limits)
    for word in words:
        assert word in str(error.value), (word, str(error.value))


def test_sampling_gives_exactly_the_active_parameters_of_every_branch():
    rng = random.Random(0)
    samples = [SPACE.sample(rng) for _ in range(600)]
    for values in samples:
        assert set(values) == SPACE.active(values)
        assert ("momentum" in values) == (values["opt"] in ("sgd", "rmsprop"))
        assert ("beta2" in values) == (values["opt"] == "adam")
        assert ("nesterov" in values) == (values["opt"] == "sgd")
        assert ("dampening" in values) == (values.get("nesterov") is False)  # nested
    assert Counter(v["opt"] for v in samples).keys() == {"sgd", "adam", "rmsprop"}
    assert sum("dampening" in v for v in samples) > 50


def test_an_individual_holds_only_active_values_and_keeps_them_consistent():
    values = {"opt": "adam", "lr": 0.01, "beta2": 0.99, "layers": 2, "momentum": 0.5}
    ind = Individual(values, SPACE)
    assert dict(ind) == {"opt": "adam", "lr": 0.01, "beta2": 0.99, "layers": 2}
    assert "momentum" not in ind
    with pytest.raises(KeyError, match="'momentum' is active only when opt in"):
        _ = ind["momentum"]
    with pytest.raises(KeyError, match="Set the parameter"):
        ind["momentum"] = 0.3
    with pytest.raises(KeyError, match=r"missing \['beta2'\]"):
        Individual({"opt": "adam", "lr": 0.01, "layers": 2}, SPACE)
    ind["opt"] = "sgd"  # activates momentum and nesterov (and dampening below it)
    assert set(ind) == SPACE.active(dict(ind)) and "beta2" not in ind
    assert SPACE["momentum"].contains(ind["momentum"])
    assert SPACE.decode(ind.position) == dict(ind)
    # An empty cell (None, NaN) stands for an inactive parameter, as in an export.
    again = Individual({**dict(ind), "beta2": math.nan}, SPACE)
    assert dict(again) == dict(ind)


def test_duplicates_ignore_inactive_values():
    a = Individual({"opt": "adam", "lr": 0.01, "beta2": 0.9, "layers": 1, "momentum": 0.1}, SPACE)
    b = Individual({"opt": "adam", "lr": 0.01, "beta2": 0.9, "layers": 1, "momentum": 0.7}, SPACE)
    assert a.values_key() == b.values_key()
    a.loss = b.loss = 1.0
    a.rank, a.generation = 0, 0
    calls = []

    def propose(inds):
        calls.append(1)
        return b.copy() if len(calls) < 3 else Individual(SPACE.sample(random.Random(1)), SPACE)

    from propulate.propagators import Propagator

    class Fixed(Propagator):
        def __call__(self, inds):
            return propose(inds)

    child = AvoidDuplicates(Fixed(-1, 1), tries=5)([a])
    assert len(calls) == 3 and child.values_key() != a.values_key()


def test_records_and_stored_spec_round_trip():
    rng = random.Random(3)
    for _ in range(50):
        ind = Individual(SPACE.sample(rng), SPACE, generation=1, rank=0)
        ind.loss = 1.0
        back = decode_individual(encode_individual(ind), SPACE)
        assert dict(back) == dict(ind)
        assert [type(v) for v in back.values()] == [type(v) for v in ind.values()]
    stored = limits_from_fingerprint(SPACE.fingerprint())
    assert SearchSpace(stored) == SPACE
    assert parameter_from_json(Bool(when={"opt": "sgd"}).to_json()) == Categorical(
        [False, True], when={"opt": ["sgd"]}
    )
    assert SearchSpace({**CONDITIONAL_LIMITS, "momentum": Float(0.0, 0.99)}) != SPACE


OPERATORS = [
    ("PointMutation", lambda rng: PointMutation(SPACE, points=2, rng=rng), 1),
    ("IntervalMutationNormal", lambda rng: IntervalMutationNormal(SPACE, points=3, rng=rng), 1),
    ("CrossoverUniform", lambda rng: CrossoverUniform(rng=rng), 2),
    ("CrossoverMultiple", lambda rng: CrossoverMultiple(parents=3, rng=rng), 3),
]


@pytest.mark.parametrize(("name", "make", "parents"), OPERATORS, ids=[o[0] for o in OPERATORS])
def test_operators_never_leave_an_active_parameter_empty_or_keep_an_inactive_one(
    name, make, parents
):
    rng = random.Random(7)
    operator = make(rng)
    population = make_population(CONDITIONAL_LIMITS, [rng.random() for _ in range(30)])
    for _ in range(400):
        child = operator(rng.sample(population, parents))
        assert_valid_child(child, CONDITIONAL_LIMITS, name)


def test_a_parameter_a_mutation_activates_gets_a_fresh_value_each_time():
    """Switching to sgd draws momentum anew; never a fixed placeholder."""
    rng = random.Random(5)
    mutation = PointMutation(SPACE, points=1, rng=rng)
    parent = Individual({"opt": "adam", "lr": 0.01, "beta2": 0.9, "layers": 1}, SPACE)
    momenta = set()
    for _ in range(300):
        child = mutation(parent)
        if "momentum" in child:
            momenta.add(child["momentum"])
    assert len(momenta) > 30


def test_crossover_takes_an_activated_value_from_the_parent_that_has_it():
    rng = random.Random(2)
    sgd = Individual(
        {"opt": "sgd", "lr": 0.01, "momentum": 0.42, "nesterov": True, "layers": 1}, SPACE
    )
    adam = Individual({"opt": "adam", "lr": 0.02, "beta2": 0.99, "layers": 2}, SPACE)
    crossover = CrossoverUniform(rng=rng)
    seen = 0
    for _ in range(200):
        child = crossover([adam, sgd])
        if child["opt"] == "sgd":
            seen += 1
            assert child["momentum"] == 0.42 and child["nesterov"] is True
        else:
            assert child["beta2"] == 0.99
    assert seen > 50


def test_parzen_models_a_column_on_the_observations_that_have_it():
    numeric = np.array([True, False])
    choices = np.array([0, 2])
    rows = np.array([[0.2, 0.0], [0.21, 0.0], [0.19, 0.0]] + [[np.nan, 1.0]] * 20)
    estimator = ParzenEstimator(rows, np.ones(len(rows)), numeric, choices, np.full(2, 0.01))
    assert np.all(np.isfinite(estimator.sigma))
    # The column's bandwidth comes from the three observations that have it: narrow.
    assert estimator.sigma[0, 0] < 0.15
    near, far = estimator.log_pdf(np.array([[0.2, 0.0], [0.8, 0.0]]))
    assert near > far + 1.0
    points = estimator.sample(np.random.default_rng(0), 200)
    assert not np.isnan(points).any()
    # A point without the column: its density is over the categorical alone.
    assert np.isfinite(estimator.log_pdf(np.array([[np.nan, 1.0]]))).all()


def test_tpe_learns_a_conditional_parameter_only_where_it_is_active():
    rng = random.Random(0)
    tpe = TPE(CONDITIONAL_LIMITS, rng=rng, n_startup=10)
    key = 0
    for _ in range(80):
        child = tpe([])
        assert_valid_child(child, CONDITIONAL_LIMITS, "TPE")
        loss = 1.0 if child["opt"] != "sgd" else abs(child["momentum"] - 0.9)
        child.loss, child.rank, child.generation = loss, 0, key
        child.status = "ok"
        key += 1
        tpe.tell(child)
    late = [tpe([]) for _ in range(20)]
    sgd = [c for c in late if c["opt"] == "sgd"]
    assert len(sgd) >= 10
    assert np.median([abs(c["momentum"] - 0.9) for c in sgd]) < 0.15


def test_ordinal_and_int_specs_take_when():
    space = SearchSpace(
        {
            "kind": ("a", "b"),
            "n": Int(1, 5, when={"kind": "a"}),
            "s": Ordinal([1, 2, 4], when={"kind": ["a", "b"]}),
        }
    )
    assert space.active({"kind": "b"}) == {"kind", "s"}
    assert space.conditional
