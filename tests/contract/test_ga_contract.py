"""Every core propagator through the contract battery."""

from __future__ import annotations

import random

import pytest

from propulate import get_default_propagator
from propulate.propagators import (
    Compose,
    Conditional,
    CrossoverMultiple,
    CrossoverSigmoid,
    CrossoverUniform,
    InitUniform,
    IntervalMutationNormal,
    PointMutation,
    RandomPointMutation,
    SelectMax,
    SelectMin,
    SelectUniform,
)
from propulate.search_space import Limits
from propulate.testing import (
    ALL_CHECKS,
    CONDITIONAL_LIMITS,
    FLOAT_LIMITS,
    KINDS_LIMITS,
    MIXED_LIMITS,
    PropagatorFactory,
)


def _breeder(limits: Limits, rng: random.Random) -> Compose:
    return Compose(
        [
            SelectMin(6),
            SelectUniform(2, rng=rng),
            CrossoverSigmoid(rng=rng),
            RandomPointMutation(limits, min_points=1, max_points=3, probability=0.5, rng=rng),
            IntervalMutationNormal(limits, sigma_factor=0.3, points=2, rng=rng),
        ]
    )


FACTORIES: list[tuple[str, PropagatorFactory]] = [
    ("SelectMin", lambda limits, rng: SelectMin(3)),
    ("SelectMax", lambda limits, rng: SelectMax(3)),
    ("SelectUniform", lambda limits, rng: SelectUniform(3, rng=rng)),
    ("InitUniform", lambda limits, rng: InitUniform(limits, rng=rng)),
    ("InitUniform-replace", lambda limits, rng: InitUniform(limits, 1, 0.5, rng=rng)),
    ("PointMutation", lambda limits, rng: PointMutation(limits, points=2, rng=rng)),
    ("PointMutation-half", lambda limits, rng: PointMutation(limits, probability=0.5, rng=rng)),
    ("RandomPointMutation", lambda limits, rng: RandomPointMutation(limits, 1, 3, rng=rng)),
    ("IntervalMutationNormal", lambda limits, rng: IntervalMutationNormal(limits, rng=rng)),
    (
        "IntervalMutationNormal-wide",
        lambda limits, rng: IntervalMutationNormal(limits, sigma_factor=2.0, points=2, rng=rng),
    ),
    ("CrossoverUniform", lambda limits, rng: CrossoverUniform(rng=rng)),
    ("CrossoverUniform-half", lambda limits, rng: CrossoverUniform(0.3, 0.5, rng=rng)),
    ("CrossoverMultiple", lambda limits, rng: CrossoverMultiple(rng=rng)),
    ("CrossoverMultiple-3", lambda limits, rng: CrossoverMultiple(parents=3, rng=rng)),
    ("CrossoverSigmoid", lambda limits, rng: CrossoverSigmoid(rng=rng)),
    ("CrossoverSigmoid-cold", lambda limits, rng: CrossoverSigmoid(temperature=1e-3, rng=rng)),
    ("Compose", _breeder),
    (
        "Conditional",
        lambda limits, rng: Conditional(8, _breeder(limits, rng), InitUniform(limits, rng=rng)),
    ),
    ("get_default_propagator", lambda limits, rng: get_default_propagator(4, limits, rng=rng)),
    (
        "get_default_propagator-large",
        lambda limits, rng: get_default_propagator(
            20, limits, crossover_prob=0.5, mutation_prob=0.9, random_init_prob=0.3, rng=rng
        ),
    ),
]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize(
    "limits",
    [MIXED_LIMITS, FLOAT_LIMITS, KINDS_LIMITS, CONDITIONAL_LIMITS],
    ids=["mixed", "float", "kinds", "conditional"],
)
@pytest.mark.parametrize(("name", "factory"), FACTORIES, ids=[name for name, _ in FACTORIES])
def test_contract(name, factory, limits, check):
    check(factory, limits)
