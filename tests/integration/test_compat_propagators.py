"""What 1.2 users' propagators rely on: one-parent stages get an individual; lists they may sort."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from propulate import Individual
from propulate.population import ActiveView
from propulate.propagators import Compose, CrossoverUniform, InitUniform, Propagator, SelectMin
from propulate.propagators.operators import Conditional
from propulate.testing.populations import as_active_view, make_population

from .local_run import run_local

LIMITS = {"x": (-2.0, 2.0), "y": (-2.0, 2.0)}


class Shift(Propagator):
    """A 1.2-style one-parent stage: indexes its parent by name."""

    def __init__(self) -> None:
        super().__init__(1, 1)
        self.got: list[type] = []

    def __call__(self, ind: Any) -> Individual:
        self.got.append(type(ind))
        child = ind.copy()
        child["x"] = ind["x"] / 2  # fails on a list: list indices must be integers
        return child


class SortingBest(Propagator):
    """A 1.2-style propagator that sorts the list it is given, then mutates the best."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(-1, 1, rng)
        self.got: list[type] = []

    def __call__(self, inds: Any) -> Individual:
        self.got.append(type(inds))
        if len(inds) < 2:
            return InitUniform(LIMITS, rng=self.rng)([])
        inds.sort(key=lambda ind: ind.loss)  # a read-only view has no sort
        random.Random(0).shuffle(inds)  # nor item assignment
        child = min(inds, key=lambda ind: ind.loss).copy()
        child["y"] = max(-2.0, min(2.0, child["y"] + self.rng.gauss(0, 0.1)))
        return child


class SpySelect(SelectMin):
    """Our own selection (subclassed without its own __call__): still handed the view."""

    seen: list[type] = []

    def __call__(self, inds: Sequence[Individual]) -> list[Individual]:
        SpySelect.seen.append(type(inds))
        return super().__call__(inds)


SpySelect.__call__.__module__ = "propulate.testing.spy"  # counts as ours, like SelectMin


def test_compose_hands_a_one_parent_user_stage_an_individual() -> None:
    stage = Shift()
    compose = Compose([SelectMin(2), CrossoverUniform(0.7, rng=random.Random(1)), stage])
    view = as_active_view(make_population(LIMITS, [3.0, 1.0, 2.0, 0.5]))
    child = compose(view)
    assert stage.got == [Individual]
    assert isinstance(child, list) and len(child) == 1 and isinstance(child[0], Individual)


def loss(params: Any) -> float:
    return float(params["x"] ** 2 + params["y"] ** 2)


def test_a_user_propagator_may_sort_its_parents(tmp_path: Any) -> None:
    made: list[SortingBest] = []

    def make(rank: int, rng: random.Random) -> Propagator:
        made.append(SortingBest(rng))
        return Conditional(2, made[-1], InitUniform(LIMITS, rng=rng))

    ranks = run_local(2, tmp_path, loss, generations=8, limits=LIMITS, make_propagator=make)
    assert len(ranks[0].population) == 16
    assert all(t is list for p in made for t in p.got) and any(p.got for p in made)


def test_our_stages_still_get_the_view_in_o1(tmp_path: Any) -> None:
    SpySelect.seen.clear()

    def make(rank: int, rng: random.Random) -> Propagator:
        breed = Compose([SpySelect(2), CrossoverUniform(0.5, rng=rng)])
        return Conditional(2, breed, InitUniform(LIMITS, rng=rng))

    run_local(2, tmp_path, loss, generations=8, limits=LIMITS, make_propagator=make)
    assert SpySelect.seen and all(t is ActiveView for t in SpySelect.seen)


def test_a_plain_sorting_function_as_the_propagator(tmp_path: Any) -> None:
    seen: list[type] = []

    def make(rank: int, rng: random.Random) -> Any:
        def propagate(inds: Any) -> Individual:
            seen.append(type(inds))
            inds.sort(key=lambda ind: ind.loss)
            return InitUniform(LIMITS, rng=rng)([])

        propagate.limits = LIMITS  # type: ignore[attr-defined]  # tells the search space
        return propagate

    ranks = run_local(2, tmp_path, lambda p: p["x"] ** 2, generations=4, limits=LIMITS,
                      make_propagator=make)  # fmt: skip
    assert len(ranks[1].population) == 8
    assert seen and all(t is list for t in seen)


def test_population_can_be_set_between_runs(tmp_path: Any) -> None:
    from propulate import ConfigurationError

    (p,) = run_local(1, tmp_path, loss, generations=6, limits=LIMITS)
    best = min(p.population, key=lambda ind: ind.loss)
    p.population = [best]
    assert p.population == [best] and p.island_comm is None  # in-memory back-ends
    stranger = Individual({"x": 0.1, "y": 0.2}, LIMITS)
    stranger.loss = 1.0
    with pytest.raises(ConfigurationError, match="distinct"):
        p.population = [stranger, stranger]
    with pytest.raises(ConfigurationError, match="evaluated"):
        p.population = [Individual({"x": 0.1, "y": 0.2}, LIMITS)]
    p.population = [stranger]
    assert [ind.key for ind in p.population] == [(-1, -1)]
