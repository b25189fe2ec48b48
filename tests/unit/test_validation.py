"""One sentence template for every bad argument, in the constructors of every public class."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from propulate import ASHA, DynamicSurrogate, MedianStoppingRule, Propulator, StaticSurrogate
from propulate.errors import ConfigurationError
from propulate.propagators import (
    AvoidDuplicates,
    BasicPSO,
    Conditional,
    ConstrictionPSO,
    CrossoverSigmoid,
    CrossoverUniform,
    InitUniform,
    InitUniformPSO,
    IntervalMutationNormal,
    ParallelNelderMead,
    PointMutation,
    SelectMin,
    Stochastic,
)
from propulate.utils import get_default_propagator
from propulate.validation import check_int, check_number, check_probability

LIMITS = {"x": (-5.0, 5.0), "y": (-5.0, 5.0)}
SENTENCE = re.compile(r"^(\w[\w.]*: )?.+?=.+ must be .+; e\.g\. .+?=.+\.$", re.DOTALL)


def sphere(params):
    return sum(v * v for v in params.values())


def test_the_sentence_names_owner_parameter_value_and_fix():
    with pytest.raises(ConfigurationError) as error:
        check_probability("Migrator", "migration_prob", 1.5)
    assert str(error.value) == (
        "Migrator: migration_prob=1.5 must be a probability in [0, 1]; e.g. migration_prob=0.1."
    )
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("value", [np.int64(3), np.int32(3), np.uint8(3), 3])
def test_numpy_integers_are_ints(value):
    assert check_int("X", "n", value, 1) == 3 and type(check_int("X", "n", value, 1)) is int


@pytest.mark.parametrize("value", [True, False, 2.0, "2", None, np.float64(2.0)])
def test_bools_floats_and_strings_are_not_ints(value):
    with pytest.raises(ConfigurationError, match=r"X: n=.* must be an int >= 0"):
        check_int("X", "n", value, 0)


@pytest.mark.parametrize("value", [np.float32(0.5), np.float64(0.5), np.int64(0), 1])
def test_numpy_numbers_are_numbers(value):
    assert check_number("X", "p", value, 0, 1) == float(value)


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "0.5", None])
def test_bools_nan_inf_and_strings_are_not_numbers(value):
    with pytest.raises(ConfigurationError, match="must be a finite number"):
        check_number("X", "p", value)


def test_open_and_closed_bounds_read_as_intervals():
    with pytest.raises(ConfigurationError, match=r"must be a finite number in \(0, 1\)"):
        check_number("X", "rho", 1.0, 0, 1, low_open=True, high_open=True)
    with pytest.raises(ConfigurationError, match=r"must be an int >= 0 or -1 \(-1: unbounded\)"):
        check_int("X", "generations", -2, 0, also=(-1,), note="-1: unbounded")
    assert check_int("X", "generations", -1, 0, also=(-1,)) == -1


RNG = random.Random(0)
BAD = [
    (lambda: Propulator(sphere, get_default_propagator(4, LIMITS), generations=2.5), "generations"),
    (lambda: Propulator(sphere, get_default_propagator(4, LIMITS), island_idx=-1), "island_idx"),
    (lambda: Propulator(sphere, get_default_propagator(4, LIMITS), time_budget=0), "time_budget"),
    (
        lambda: Propulator(sphere, get_default_propagator(4, LIMITS), migration_prob=2),
        "migration_prob",
    ),
    (lambda: Propulator(sphere, get_default_propagator(4, LIMITS), rank=True), "rank"),
    (lambda: Propulator(42, get_default_propagator(4, LIMITS)), "loss_fn"),
    (lambda: Propulator(sphere, "GA"), "propagator"),
    (lambda: Propulator(sphere, InitUniform(LIMITS), surrogate_factory=1), "surrogate_factory"),
    (lambda: Stochastic(1, 1, probability=True), "probability"),
    (lambda: Conditional(0, InitUniform(LIMITS), InitUniform(LIMITS)), "pop_size"),
    (lambda: AvoidDuplicates(InitUniform(LIMITS), tries=0), "tries"),
    (lambda: SelectMin(2.0), "offspring"),
    (lambda: InitUniform(LIMITS, parents=2), "parents"),
    (lambda: PointMutation(LIMITS, points=3), "points"),
    (lambda: IntervalMutationNormal(LIMITS, sigma_factor=-1), "sigma_factor"),
    (lambda: CrossoverUniform(relative_parent_contribution=2), "relative_parent_contribution"),
    (lambda: CrossoverSigmoid(temperature=0), "temperature"),
    (lambda: BasicPSO(0.7, -1, 1.5, 0, LIMITS, RNG), "c_cognitive"),
    (lambda: BasicPSO(0.7, 1.5, 1.5, np.int64(-1), LIMITS, RNG), "rank"),
    (lambda: ConstrictionPSO(1.0, 1.0, 0, LIMITS, RNG), "c_cognitive \\+ c_social"),
    (lambda: InitUniformPSO(LIMITS, 0, parents=2), "parents"),
    (lambda: ParallelNelderMead(LIMITS, RNG, np.zeros(2), rho=1.0), "rho"),
    (lambda: ParallelNelderMead(LIMITS, RNG, np.zeros(2), alpha=2.0, gamma=1.5), "gamma"),
    (lambda: StaticSurrogate(margin=0), "margin"),
    (lambda: MedianStoppingRule(min_runs=0), "min_runs"),
    (lambda: ASHA(reduction_factor=1), "reduction_factor"),
    (lambda: DynamicSurrogate(LIMITS, confidence=-1), "confidence"),
]


@pytest.mark.parametrize(("make", "name"), BAD, ids=[name for _, name in BAD])
def test_every_constructor_speaks_the_same_sentence(make, name):
    with pytest.raises(ConfigurationError) as error:
        make()
    message = str(error.value)
    assert re.match(rf"^(\w[\w.]*: )?{name}=", message), message
    assert SENTENCE.match(message), message


def test_numpy_scalars_configure_propagators_and_surrogates():
    assert PointMutation(LIMITS, points=np.int64(2)).points == 2
    assert Stochastic(1, 1, probability=np.float32(0.5)).probability == 0.5
    assert ASHA(reduction_factor=np.int64(4)).reduction_factor == 4
    assert BasicPSO(np.float64(0.7), 1.5, 1.5, np.int64(3), LIMITS, RNG).rank == 3
