from __future__ import annotations

import math
import random

import pytest

from propulate import Individual
from propulate.population import ActiveView, Population, select_best, select_worst

LIMITS = {"x": (0.0, 1.0), "n": (0, 9)}


def evaluated(loss, rank=0, generation=0, x=0.5) -> Individual:
    ind = Individual({"x": x, "n": 1}, LIMITS, generation=generation, rank=rank)
    ind.loss = loss
    return ind


def keys(inds) -> list[tuple[int, int]]:
    return [ind.key for ind in inds]


def test_add_and_duplicates():
    population = Population()
    a = evaluated(1.0, rank=0, generation=0)
    assert population.add(a) is True
    assert len(population) == 1
    assert (0, 0) in population
    assert population.get((0, 0)) is a
    assert population.get((5, 5)) is None
    # The same individual arriving again (e.g. from two peers) is ignored.
    again = evaluated(1.0, rank=0, generation=0)
    assert population.add(again) is False
    assert population.add(a) is False
    assert len(population) == 1 and len(population.active) == 1
    assert population.get((0, 0)) is a
    b = evaluated(0.5, rank=1, generation=0)
    assert population.add(b) is True
    assert population.to_list() == [a, b]
    assert list(population) == [a, b]


def test_inactive_individuals_are_known_but_not_active():
    population = Population()
    ind = evaluated(0.1, rank=2, generation=3)
    ind.active = False
    population.add(ind)
    assert len(population) == 1 and len(population.active) == 0
    assert population.set_active((2, 3), True) is True
    assert ind.active is True and list(population.active) == [ind]


def test_set_active():
    population = Population()
    inds = [evaluated(float(i), rank=0, generation=i) for i in range(5)]
    for ind in inds:
        population.add(ind)
    assert population.set_active((0, 2), False) is True
    assert inds[2].active is False
    assert keys(population.active) == [(0, 0), (0, 1), (0, 3), (0, 4)]
    assert population.set_active((0, 2), False) is False  # already inactive
    assert population.set_active((9, 9), False) is False  # unknown
    assert len(population) == 5
    assert population.set_active((0, 2), True) is True
    assert keys(population.active) == [(0, i) for i in range(5)]
    assert population.set_active((0, 2), True) is False


def test_active_view_is_sorted_best_first_with_best_and_worst():
    population = Population()
    rng = random.Random(0)
    losses = [rng.random() for _ in range(50)]
    for i, loss in enumerate(losses):
        population.add(evaluated(loss, rank=i % 4, generation=i // 4))
    view = population.active
    assert isinstance(view, ActiveView)
    assert [ind.loss for ind in view] == sorted(losses)
    assert view[0].loss == min(losses) and view[-1].loss == max(losses)
    assert [ind.loss for ind in view[:3]] == sorted(losses)[:3]
    assert [ind.loss for ind in view.best(5)] == sorted(losses)[:5]
    assert [ind.loss for ind in view.worst(5)] == sorted(losses, reverse=True)[:5]
    assert len(view.best(100)) == 50 and len(view.worst(100)) == 50
    assert view.best(0) == [] and view.worst(0) == []
    assert select_best(view, 3) == view.best(3)
    assert select_worst(view, 3) == view.worst(3)
    # The view follows the population.
    population.add(evaluated(-1.0, rank=9, generation=0))
    assert view[0].loss == -1.0 and len(view) == 51


def test_active_view_is_read_only():
    population = Population()
    population.add(evaluated(1.0))
    view = population.active
    with pytest.raises(TypeError):
        view[0] = evaluated(2.0, rank=1)  # type: ignore[index]
    assert not hasattr(view, "append")


def test_ordering_with_ties_and_inf_and_none_losses():
    # Ties are broken by (rank, generation); NaN, None and +inf sort last; -inf first.
    specs = [
        (1.0, 2, 0),
        (1.0, 0, 5),
        (math.inf, 0, 1),
        (None, 1, 1),
        (math.nan, 1, 2),
        (-math.inf, 3, 3),
        (1.0, 0, 2),
        (0.5, 4, 0),
    ]
    population = Population()
    inds = [evaluated(loss, rank=r, generation=g) for loss, r, g in specs]
    for ind in inds:
        population.add(ind)
    expected = [(3, 3), (4, 0), (0, 2), (0, 5), (2, 0), (0, 1), (1, 1), (1, 2)]
    assert keys(population.active) == expected
    # A plain list gives the same order.
    assert keys(select_best(inds, 8)) == expected
    assert keys(select_worst(inds, 8)) == expected[::-1]
    assert keys(population.active.worst(8)) == expected[::-1]
    assert keys(select_worst(inds, 3)) == [(1, 2), (1, 1), (0, 1)]
    # Removing tied and infinite individuals keeps the order intact.
    population.set_active((0, 5), False)
    population.set_active((1, 2), False)
    population.set_active((3, 3), False)
    assert keys(population.active) == [(4, 0), (0, 2), (2, 0), (0, 1), (1, 1)]


def test_many_equal_losses_deactivate_the_right_one():
    population = Population()
    inds = [evaluated(7.0, rank=r, generation=g) for r in range(5) for g in range(5)]
    rng = random.Random(1)
    rng.shuffle(inds)
    for ind in inds:
        population.add(ind)
    for key in [(2, 3), (0, 0), (4, 4)]:
        assert population.set_active(key, False)
        assert key not in keys(population.active)
    assert len(population.active) == 22


def test_select_on_a_list_does_not_reorder_it():
    inds = [evaluated(float(loss), rank=i) for i, loss in enumerate([3, 1, 2])]
    before = list(inds)
    assert [i.loss for i in select_best(inds, 2)] == [1.0, 2.0]
    assert [i.loss for i in select_worst(inds, 2)] == [3.0, 2.0]
    assert inds == before


@pytest.mark.parametrize("first_question", [0, 40, 150])
def test_per_rank_questions_match_a_brute_force_answer(first_question):
    """``of_rank``/``latest_of`` agree with a scan of the active individuals, whenever asked.

    The per-rank indexes are built on the first question (after ``first_question`` operations)
    and maintained from then on through additions, deactivations and migrations.
    """
    rng = random.Random(first_question)
    population = Population(owner=0)
    generations = [0, 0, 0]
    for step in range(200):
        known = population.to_list()
        roll = rng.random()
        if roll < 0.6 or not known:
            rank = rng.randrange(3)
            ind = evaluated(rng.choice([rng.random(), math.inf]), rank, generations[rank])
            generations[rank] += 1
            population.add(ind)
        elif roll < 0.8:
            target = rng.choice(known)
            population.set_active(target.key, not target.active)
        else:
            target = rng.choice(known)
            steps = target.migration_steps + 1
            population.move(target.key, rng.random() < 0.7, rng.randrange(3), steps)
        if step < first_question:
            continue
        active = list(population.active)
        for rank in range(3):
            own = [ind for ind in active if ind.rank == rank]
            assert keys(population.active.of_rank(rank)) == keys(select_best(own, len(own)))
            latest = population.active.latest_of(rank)
            expected = max(own, key=lambda ind: ind.generation) if own else None
            assert latest is expected
