"""Breeding-time feasibility: Feasible and the constraints keyword."""

from __future__ import annotations

import logging
import random

import pytest

from propulate import ConfigurationError, Propulator
from propulate.population import Individual
from propulate.propagators import (
    TPE,
    AvoidDuplicates,
    BasicCMA,
    CMAPropagator,
    CrossoverUniform,
    Feasible,
    InitUniform,
    Propagator,
    StatelessPSO,
)
from propulate.testing import CONDITIONAL_LIMITS, FLOAT_LIMITS, breed, make_population
from propulate.utils import get_default_propagator


def a_below_b(p):
    return p["a"] < p["b"]


FACTORIES = [
    ("default", lambda rng: get_default_propagator(8, FLOAT_LIMITS, rng=rng)),
    ("TPE", lambda rng: TPE(FLOAT_LIMITS, rng=rng, n_startup=5)),
    ("CMA", lambda rng: CMAPropagator(BasicCMA(), FLOAT_LIMITS, rng=rng)),
    ("crossover", lambda rng: CrossoverUniform(rng=rng)),
    ("PSO", lambda rng: StatelessPSO(1.5, 1.5, 0, FLOAT_LIMITS, rng=rng)),
]


def _infeasible_share(propagator, rng, children=150):
    population = make_population(FLOAT_LIMITS, [rng.uniform(0, 10) for _ in range(24)])
    parents = propagator.parents if propagator.parents > 0 else len(population)
    bad = 0
    for _ in range(children):
        child = breed(propagator, rng.sample(population, parents))[0]
        bad += not a_below_b(child)
    return bad


@pytest.mark.parametrize(("name", "make"), FACTORIES, ids=[f[0] for f in FACTORIES])
def test_every_propagator_wrapped_breeds_only_feasible_children(name, make):
    rng = random.Random(4)
    unconstrained = _infeasible_share(make(random.Random(1)), rng)
    assert unconstrained > 15  # the constraint matters for this propagator
    feasible = Feasible(make(random.Random(1)), [a_below_b])
    assert _infeasible_share(feasible, rng) == 0
    assert feasible.rejected > 0


def test_a_conditional_space_and_a_constraint_on_a_conditional_parameter():
    rng = random.Random(0)
    feasible = Feasible(
        get_default_propagator(8, CONDITIONAL_LIMITS, rng=rng),
        [lambda p: p.get("momentum", 0.0) < 0.5],
    )
    population = make_population(CONDITIONAL_LIMITS, [rng.random() for _ in range(20)])
    population = [p for p in population if p.get("momentum", 0.0) < 0.5]
    for _ in range(300):
        assert breed(feasible, population)[0].get("momentum", 0.0) < 0.5


class _Spy(Propagator):
    """Proposes infeasible children twice, then a feasible one; records what it is told."""

    def __init__(self):
        super().__init__(-1, 1, random.Random(0))
        self.told = []
        self.calls = 0

    def __call__(self, inds):
        self.calls += 1
        a = 1.0 if self.calls < 3 else -1.0
        return Individual({"a": a, "b": 0.0, "c": 0.0, "d": 0.0}, FLOAT_LIMITS)

    def tell(self, ind):
        self.told.append(ind)


def test_a_learning_propagator_is_told_infeasible_proposals_as_failed():
    spy = _Spy()
    child = Feasible(spy, [a_below_b])([])
    assert child["a"] == -1.0 and spy.calls == 3
    assert [(t.loss, t.status, t.rank) for t in spy.told] == [(float("inf"), "failed", -1)] * 2


def test_after_tries_a_random_feasible_child_with_a_warning_then_a_clear_error(caplog):
    stuck = Feasible(InitUniform(FLOAT_LIMITS, rng=random.Random(0)), [lambda p: p["a"] > 0.0], 3)
    with caplog.at_level(logging.WARNING):
        children = [stuck([]) for _ in range(60)]
    assert all(c["a"] > 0.0 for c in children)
    assert "Raise tries" in caplog.text
    never = Feasible(InitUniform(FLOAT_LIMITS, rng=random.Random(0)), [lambda p: False], 5)
    with pytest.raises(ConfigurationError, match=r"constraints\[0\] \(a lambda\).*empty or tiny"):
        never([])


def test_a_constraint_that_raises_is_named_with_the_fix():
    feasible = Feasible(InitUniform(CONDITIONAL_LIMITS, rng=random.Random(0)),
                        [lambda p: p["lr"] > 0, lambda p: p["momentum"] < 0.5])  # fmt: skip
    with pytest.raises(ConfigurationError, match=r"constraints\[1\].*p\.get\(name\)"):
        for _ in range(50):
            feasible([])


@pytest.mark.parametrize(
    ("constraints", "words"),
    [("p['a'] < 1", "not a list of functions"), ([a_below_b, 3], "constraints[1] = 3")],
)
def test_bad_constraints_are_refused_by_the_propulator(constraints, words):
    rng = random.Random(0)
    with pytest.raises(ConfigurationError) as error:
        Propulator(lambda p: 0.0, InitUniform(FLOAT_LIMITS, rng=rng), rng, rank=0,
                   constraints=constraints)  # fmt: skip
    assert words in str(error.value)


def test_the_propulator_wraps_its_propagator_around_avoid_duplicates():
    rng = random.Random(0)
    inner = AvoidDuplicates(InitUniform(FLOAT_LIMITS, rng=rng))
    propulator = Propulator(lambda p: 0.0, inner, rng, rank=0, constraints=a_below_b)
    assert isinstance(propulator.propagator, Feasible)
    assert propulator.propagator.stages() == (inner,)
