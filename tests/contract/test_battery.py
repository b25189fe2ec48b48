"""The battery must catch broken propagators: each check against a propagator that breaks it."""

from __future__ import annotations

import random

import pytest

from propulate import Individual
from propulate.propagators import Propagator
from propulate.search_space import SearchSpace
from propulate.testing import (
    MIXED_LIMITS,
    check_arity,
    check_children_valid,
    check_extreme_losses,
    check_parents_unchanged,
    check_reproducible,
    check_state_round_trip,
    check_tell,
    make_population,
    run_battery,
)


class Base(Propagator):
    def __init__(self, limits, rng, parents=2):
        super().__init__(parents, 1, rng)
        self.space = SearchSpace.of(limits)

    def fresh(self) -> Individual:
        return Individual._from_trusted(self.space.sample(self.rng), self.space)


class Good(Base):
    def __call__(self, inds):
        self._check_parents(inds)
        child = inds[0].copy()
        child.update(self.space.sample(self.rng))
        return child


class OutOfBounds(Good):
    def __call__(self, inds):
        child = super().__call__(inds)
        child._values["dropout"] = 7.0  # bypasses the search space
        return child


class WrongType(Good):
    def __call__(self, inds):
        child = super().__call__(inds)
        child._values["layers"] = 2.5
        return child


class MutatesParent(Base):
    def __call__(self, inds):
        self._check_parents(inds)
        inds[0]["act"] = "elu" if inds[0]["act"] != "elu" else "relu"
        return inds[0]


class StampsParentLoss(Base):
    def __call__(self, inds):
        inds[1].loss = 0.0
        return self.fresh()


class GlobalRandom(Base):
    def __call__(self, inds):
        return Individual._from_trusted(self.space.sample(random.Random()), self.space)


class IndexErrorOnFew(Base):
    def __call__(self, inds):
        return inds[1].copy()


class WrongCount(Good):
    def __call__(self, inds):
        return [super().__call__(inds), super().__call__(inds)]


class ReturnsTuple(Good):
    def __call__(self, inds):
        return (super().__call__(inds),)


class CrashesOnInf(Good):
    def __call__(self, inds):
        if any(ind.loss == float("inf") for ind in inds):
            raise OverflowError("inf")
        return super().__call__(inds)


class CrashesOnTies(Good):
    def __call__(self, inds):
        losses = [ind.loss for ind in inds]
        if len(set(losses)) < len(losses):
            raise ZeroDivisionError("tie")
        return super().__call__(inds)


class ChangesWhatItIsTold(Good):
    def tell(self, ind):
        ind.loss = 0.0


class CrashesOnFailures(Good):
    def tell(self, ind):
        if ind.status == "failed":
            raise ValueError("cannot rank an infinite loss")


class ForgetsItsCalls(Good):
    """Its children depend on how often it was called, which its state does not keep."""

    def __init__(self, limits, rng):
        super().__init__(limits, rng)
        self.calls = 0

    def __call__(self, inds):
        self.calls += 1
        child = super().__call__(inds)
        child["layers"] = min(self.calls, 6)
        return child

    def get_state(self):
        return {}


class NumpyState(Good):
    def get_state(self):
        import numpy as np

        return {"mean": np.zeros(3)}


def factory(cls):
    return lambda limits, rng: cls(limits, rng)


def test_good_propagator_passes():
    run_battery(factory(Good))


@pytest.mark.parametrize(
    ("cls", "check"),
    [
        (OutOfBounds, check_children_valid),
        (WrongType, check_children_valid),
        (ReturnsTuple, check_children_valid),
        (MutatesParent, check_parents_unchanged),
        (StampsParentLoss, check_parents_unchanged),
        (GlobalRandom, check_reproducible),
        (IndexErrorOnFew, check_arity),
        (WrongCount, check_arity),
        (CrashesOnInf, check_extreme_losses),
        (CrashesOnTies, check_extreme_losses),
        (ChangesWhatItIsTold, check_tell),
        (CrashesOnFailures, check_tell),
        (ForgetsItsCalls, check_state_round_trip),
        (NumpyState, check_state_round_trip),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_check_catches_broken_propagator(cls, check):
    with pytest.raises(AssertionError):
        check(factory(cls), MIXED_LIMITS)


def test_make_population_is_realistic():
    inds = make_population(MIXED_LIMITS, [1.0, 2.0, float("inf"), 0.5, 3.0])
    assert [ind.rank for ind in inds] == [0, 1, 2, 3, 0]
    assert [ind.generation for ind in inds] == [0, 0, 0, 0, 1]
    assert len({ind.key for ind in inds}) == 5
    assert inds[2].status == "failed" and inds[0].status == "ok"
    assert make_population(MIXED_LIMITS, [1.0, 2.0]) == make_population(MIXED_LIMITS, [1.0, 2.0])
