"""The compact population store: individuals as rows, views that write through, memory bound."""

from __future__ import annotations

import copy
import gc
import math
import pickle
import random
import tracemalloc

import numpy as np

from propulate import Individual
from propulate.columns import sort_code
from propulate.population import Population, Status
from propulate.search_space import SearchSpace

MIXED = {"x": (0.0, 1.0), "n": (0, 9), "act": ("relu", "tanh")}
PLAIN = {f"x{i}": (-5.12, 5.12) for i in range(10)}


def evaluated(loss, rank=0, generation=0, x=0.5, limits=MIXED) -> Individual:
    values = {"x": x, "n": 3, "act": "tanh"} if limits is MIXED else {k: x for k in limits}
    ind = Individual(values, limits, generation=generation, rank=rank)
    ind.loss = loss
    ind.status = Status.OK
    return ind


def fresh_view(population: Population, key) -> Individual:
    """The individual of ``key`` as a new view: no earlier view of it is alive."""
    columns = population._columns
    columns._recent.clear()
    gc.collect()
    view = population.get(key)
    assert view is not None
    return view


def test_a_view_made_anew_has_every_field_of_the_individual_added():
    population = Population(owner=1)
    ind = evaluated(0.25, rank=2, generation=7, x=0.125)
    ind.island, ind.current, ind.migration_steps = 3, 1, 2
    ind.evaltime, ind.evalperiod = 1_700_000_000.5, 0.75
    ind.losses = (0.25, 4.0)
    ind.velocity = np.array([0.1, -0.2, 0.0, 0.3])
    ind["_note"] = {"a": 1}
    ind.error = "boom"  # optional metadata, as the loop sets it
    ind._island_rank = 0
    expected = copy.copy(ind)
    population.add(ind)
    del ind
    view = fresh_view(population, (2, 7))
    assert view == expected
    assert view.losses == (0.25, 4.0) and view.rank == 0 and view.worker == 2
    assert view.error == "boom" and view["_note"] == {"a": 1}
    assert np.array_equal(view.velocity, [0.1, -0.2, 0.0, 0.3])
    assert type(view.loss) is float and type(view.generation) is int
    assert view.status == Status.OK and view.active is True and view["act"] == "tanh"


def test_the_individual_added_becomes_the_stored_one():
    population = Population()
    ind = evaluated(1.0)
    population.add(ind)
    assert population.get((0, 0)) is ind
    assert population.active[0] is ind
    assert population.merge(evaluated(1.0)) is ind
    population.move((0, 0), False, 5, 1)  # a migration notice: the caller's object sees it
    assert (ind.active, ind.current, ind.migration_steps) == (False, 5, 1)


def test_changes_through_a_view_reach_later_views():
    population = Population()
    population.add(evaluated(1.0, x=0.5))
    view = fresh_view(population, (0, 0))
    view["x"] = 0.75
    view["_s"] = 3
    view.velocity = np.array([1.0, 2.0, 3.0, 4.0])
    view.evalperiod = 9.0
    view.curve = [3.0, 2.0]
    view.extras["_t"] = "kept"
    del view
    again = fresh_view(population, (0, 0))
    assert again["x"] == 0.75 and again["_s"] == 3 and again.extras["_t"] == "kept"
    assert again.evalperiod == 9.0 and again.curve == [3.0, 2.0]
    assert np.array_equal(again.velocity, [1.0, 2.0, 3.0, 4.0])


def test_a_continuous_position_and_a_missing_loss_survive():
    population = Population()
    ind = Individual(np.array([0.3, 2.4, 0.0, 1.0]), MIXED, generation=0, rank=0)
    population.add(ind)  # loss None: never evaluated
    del ind
    view = fresh_view(population, (0, 0))
    assert view.loss is None and view["n"] == 2
    assert view.position.tolist() == [0.3, 2.4, 0.0, 1.0]  # not re-encoded from the values


def test_pickle_and_copy_of_a_view_are_plain_individuals():
    population = Population()
    population.add(evaluated(0.5))
    view = fresh_view(population, (0, 0))
    for other in (pickle.loads(pickle.dumps(view)), copy.copy(view), copy.deepcopy(view)):
        assert type(other) is Individual and other == view
        other.active = False  # tied to no population
    assert fresh_view(population, (0, 0)).active is True


def test_values_lookup_finds_the_first_individual_with_the_values():
    population = Population()
    population.add(evaluated(1.0, rank=0, x=0.5))
    population.add(evaluated(2.0, rank=1, x=0.5))  # same values, later
    population.add(evaluated(3.0, rank=2, x=0.25))
    gc.collect()
    assert population.find_values(evaluated(0.0, x=0.5)).key == (0, 0)
    assert population.find_values(evaluated(0.0, x=0.25)).key == (2, 0)
    assert population.find_values(evaluated(0.0, x=0.875)) is None


def test_sort_codes_order_like_loss_worker_generation():
    rng = random.Random(0)
    rows = []
    for row in range(2000):
        loss = rng.choice([-math.inf, math.inf, None, math.nan, 0.0, -0.0, -1e-300, 1e300])
        if rng.random() < 0.5:
            loss = rng.uniform(-1e3, 1e3)
        rows.append((loss, rng.randrange(-1, 50), rng.randrange(-100, 100), row))

    def key(item):
        loss = item[0]
        return (math.inf if loss is None or loss != loss else loss, item[1], item[2], item[3])

    assert sorted(rows, key=lambda item: sort_code(*item)) == sorted(rows, key=key)


def test_sort_codes_put_feasible_rows_first_then_by_violation_and_failed_ones_last():
    rng = random.Random(1)
    rows = []
    for row in range(2000):
        loss = rng.choice([math.inf, None, math.nan, rng.uniform(-1e3, 1e3), 0.0])
        violated = rng.choice([0.0, 0.0, rng.uniform(0.0, 5.0), 1e-300, 3.0])
        rows.append((loss, rng.randrange(-1, 50), rng.randrange(-100, 100), row, violated))

    def key(item):  # Deb's rule, as propulate.population._sort_key orders individuals
        loss, worker, generation, row, violated = item
        if loss is None or loss != loss or loss == math.inf:
            return (math.inf, math.inf, worker, generation, row)
        return (violated, loss, worker, generation, row)

    assert sorted(rows, key=lambda item: sort_code(*item)) == sorted(rows, key=key)


def test_a_large_population_stays_under_300_bytes_an_individual():
    """Traced memory of 20,000 10-d individuals (the benchmark's 100,000 take long here)."""
    space = SearchSpace.of(PLAIN)
    rng = random.Random(0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    population = Population(owner=0)
    losses = []
    for i in range(20_000):
        ind = Individual._from_trusted({k: rng.uniform(-5, 5) for k in PLAIN}, space)
        ind.worker = ind.current = i % 4
        ind.generation, ind.island, ind.loss = i // 4, 0, rng.random()
        ind.status, ind.evaltime, ind.evalperiod = Status.OK, 1.7e9 + i, 0.5
        population.add(ind)
        losses.append(ind.loss)
    del ind
    gc.collect()
    per_individual = (tracemalloc.get_traced_memory()[0] - before) / len(population)
    tracemalloc.stop()
    assert len(population) == 20_000
    assert per_individual < 300, per_individual
    # Rows past the first chunks read back right.
    assert population.get((3, 4999)).loss == losses[19_999]
    assert [ind.loss for ind in population.active.best(3)] == sorted(losses)[:3]


def test_migration_steps_are_read_without_a_view():
    population = Population()
    population.add(evaluated(1.0))
    population.move((0, 0), True, 3, 4)
    assert population.migration_steps((0, 0)) == 4
    assert population.migration_steps((9, 9)) is None


def test_far_apart_generations_are_found_without_a_huge_array():
    population = Population()
    for generation in (0, 10**9, -(10**9), 5):
        population.add(evaluated(float(generation), generation=generation, x=0.5))
    for generation in (0, 10**9, -(10**9), 5):
        assert population.get((0, generation)).loss == float(generation)
    assert population.get((0, 10**9 - 1)) is None and population.get((0, 6)) is None
    assert max(len(column) for column in population._columns._rows[0]) < 1000
