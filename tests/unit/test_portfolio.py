"""Combinations: a mixture draws a strategy per child, a hand-off switches after results."""

from __future__ import annotations

import random

import pytest

from propulate import Individual, SearchSpace
from propulate.errors import ConfigurationError
from propulate.population import Status
from propulate.propagators import (
    TPE,
    CMAPropagator,
    Handoff,
    InitUniform,
    Mixture,
    Propagator,
    get_hybrid_propagator,
)

LIMITS = {"n": (0, 9), "x": (-1.0, 1.0), "c": ("a", "b")}


class Learner(Propagator):
    def __init__(self, name, wants=False):
        super().__init__(-1, 1)
        self.name, self.told, self.wants_pending = name, [], wants
        self.init = InitUniform(LIMITS, rng=random.Random(0))

    def __call__(self, inds):
        child = self.init()
        child.bred_by = self.name
        return child

    def tell(self, ind):
        self.told.append(ind)


def result(generation, status=Status.OK, rank=1):
    space = SearchSpace.of(LIMITS)
    ind = Individual(
        space.sample(random.Random(generation)), space, generation=generation, rank=rank
    )
    ind.status, ind.loss = status, None if status == Status.PENDING else float(generation)
    return ind


def test_the_second_strategy_breeds_once_after_results_are_known():
    first, then = Learner("first"), Learner("then", wants=True)
    handoff = Handoff(first, then, after=3)
    assert handoff.wants_pending  # one of its stages wants the evaluations started elsewhere
    bred = []
    for generation in range(5):
        bred.append(handoff([]).bred_by)
        handoff.tell(result(generation, Status.FAILED if generation == 1 else Status.OK))
    assert bred == ["first", "first", "first", "then", "then"]
    assert len(first.told) == len(then.told) == 5  # both learn from everything
    handoff.tell(result(9, Status.PENDING))
    assert len(first.told) == 5 and len(then.told) == 6  # pending: only to who wants them
    repeat = result(10, rank=-1)  # a repeat that was not evaluated is no new result
    handoff.tell(repeat)
    assert handoff.known == 5


def test_the_hybrid_is_tpe_then_cma_es():
    hybrid = get_hybrid_propagator(LIMITS, rng=random.Random(0))
    tpe, cma = hybrid.stages()
    assert isinstance(tpe, TPE) and isinstance(cma, CMAPropagator)
    assert hybrid.after == tpe.n_startup + 4 * cma.lambd  # 10 + 4 * 7 for two numeric parameters
    assert hybrid.rng is tpe.rng is cma.rng


def test_after_must_be_a_count():
    with pytest.raises(ConfigurationError, match="after=-1"):
        Handoff(Learner("a"), Learner("b"), after=-1)


def test_a_mixture_draws_each_child_from_a_strategy_by_weight():
    a, b = Learner("a"), Learner("b", wants=True)
    mixture = Mixture([a, b], [3, 1], rng=random.Random(0))
    assert mixture.weights == [0.75, 0.25] and mixture.wants_pending
    drawn = [mixture([]).bred_by for _ in range(4000)]
    assert drawn.count("a") / len(drawn) == pytest.approx(0.75, abs=0.03)
    mixture.tell(result(0))
    mixture.tell(result(1, Status.PENDING))
    assert len(a.told) == 1 and len(b.told) == 2  # results to all, pending to who wants them


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0], "1 weight"),
        ([1.0, -1.0], r"weights\[1\]=-1.0"),
        ([0.0, 0.0], "add up to 0"),
    ],
)
def test_mixture_weights_are_checked(weights, match):
    with pytest.raises(ConfigurationError, match=match):
        Mixture([Learner("a"), Learner("b")], weights)
