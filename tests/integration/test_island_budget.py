"""The island-wide budget, ``total_evaluations``: every worker evaluates until the island is done.

The bound under test: an island of ``W`` workers makes at least ``total_evaluations`` and at
most ``total_evaluations + W - 1`` evaluations when every result reaches the peers before they
begin their next evaluation (in memory it is in their mailbox as soon as it is posted).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter

import pytest

from propulate import ConfigurationError
from propulate.testing import Immediately, InRounds, LocalIsland
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, one_propulator, run_local, sphere
from .test_islands_local import run_islands
from .test_progress import PATTERN, progress  # noqa: F401  # the fixture

SIZE = 4


def island(total: int, path=None, size: int = SIZE, loss=sphere) -> LocalIsland:
    rngs = [random.Random(rank) for rank in range(size)]
    propagators = [get_default_propagator(8, LIMITS_3D, rng=rng) for rng in rngs]
    return LocalIsland(loss, propagators, path, rngs=rngs, total_evaluations=total)


def slow_sphere(params):
    """The sphere after 5 ms of sleep: every thread gets the GIL, so every rank evaluates."""
    time.sleep(0.005)
    return sphere(params)


def keys(propulator):
    return sorted(ind.key for ind in propulator.population)


def assert_same_populations(propulators):
    first = keys(propulators[0])
    assert all(keys(p) == first for p in propulators)
    return first


def test_immediate_delivery_makes_exactly_the_budget():
    with island(30) as stepped:
        done = stepped.run(Immediately())
        held = assert_same_populations(stepped.propulators)
    assert done == len(held) == 30


@pytest.mark.parametrize(("total", "expected"), [(28, 28), (29, 32), (30, 32), (31, 32)])
def test_results_in_flight_exceed_the_budget_by_at_most_workers_minus_one(total, expected):
    # In rounds, the four workers breed before any of them learns the round's results: the
    # round that begins with 28 known starts four evaluations, whatever the budget above 28.
    with island(total) as stepped:
        done = stepped.run(InRounds())
        held = assert_same_populations(stepped.propulators)
    assert done == len(held) == expected
    assert total <= done <= total + SIZE - 1


def slow_rank_zero(params):
    time.sleep(0.03 if params.rank == 0 else 0.003)
    return sphere(params)


def test_fast_workers_keep_evaluating_until_the_island_is_done(tmp_path):
    total = 60
    workers = run_local(SIZE, tmp_path, slow_rank_zero, generations=-1, total_evaluations=total)
    held = assert_same_populations(workers)
    assert total <= len(held) <= total + SIZE - 1
    per_rank = Counter(rank for rank, _ in held)
    # With equal shares (generations=15) every rank would stop at 15 and wait for rank 0.
    assert per_rank[0] < min(per_rank[rank] for rank in range(1, SIZE))
    assert min(per_rank[rank] for rank in range(1, SIZE)) > total // SIZE


def test_a_resumed_run_counts_the_checkpoints_evaluations(tmp_path):
    first = len(keys(run_local(SIZE, tmp_path, generations=-1, total_evaluations=20)[0]))
    assert 20 <= first <= 20 + SIZE - 1
    again = run_local(SIZE, tmp_path, generations=-1, total_evaluations=first)
    assert len(assert_same_populations(again)) == first  # nothing left to do
    more = run_local(SIZE, tmp_path, generations=-1, total_evaluations=first + 12)
    assert first + 12 <= len(assert_same_populations(more)) <= first + 12 + SIZE - 1


def test_individuals_asked_for_count_before_they_are_told(tmp_path):
    propulator = one_propulator(tmp_path, generations=-1, total_evaluations=5)
    with propulator:
        asked = [propulator.ask() for _ in range(6)]
        assert all(ind is not None for ind in asked[:5]) and asked[5] is None
        for ind in asked[:5]:
            propulator.tell(ind, sphere(ind))
        assert propulator.ask() is None
    assert len(propulator.population) == 5


@pytest.mark.parametrize("pollination", [True, False])
def test_each_island_has_a_budget_of_its_own(tmp_path, pollination):
    total = 24
    plan, workers = run_islands(
        tmp_path, [3, 2], pollination, generations=-1, total_evaluations=total, slow_rank=0
    )
    bred = Counter(ind.island for ind in workers[0].population if ind.rank < 3)
    for island_idx, size in enumerate(plan.sizes):
        member = workers[plan.displs[island_idx]]
        own = {ind.key for ind in member.population if ind.island == island_idx}
        assert total <= len(own) <= total + size - 1, (island_idx, len(own))
    assert bred[0] >= total


def test_generations_and_total_evaluations_exclude_each_other(tmp_path):
    with pytest.raises(ConfigurationError, match=r"generations=10 must be -1.*total_evaluations"):
        one_propulator(tmp_path, generations=10, total_evaluations=100)
    for bad in (0, -1, 2.5, "100"):
        with pytest.raises(ConfigurationError, match="total_evaluations="):
            one_propulator(tmp_path, generations=-1, total_evaluations=bad)


def test_islands_check_the_budget_before_splitting_the_world(tmp_path):
    from propulate import Islands

    class NoWorld:  # any communication would fail on this
        def __getattr__(self, name):
            raise AssertionError(f"communicated ({name}) before checking the arguments")

    propagator = get_default_propagator(4, LIMITS_3D)
    with pytest.raises(ConfigurationError, match="Islands: generations=5 must be -1"):
        Islands(sphere, propagator, generations=5, total_evaluations=10, world=NoWorld())
    with pytest.raises(ConfigurationError, match="Islands: total_evaluations=0"):
        Islands(sphere, propagator, total_evaluations=0, world=NoWorld())


def test_the_progress_line_counts_against_the_island_budget(progress):  # noqa: F811
    # With microsecond losses the other threads spent the 12 evaluations before the first
    # worker (the one that logs the line) got the GIL, 2 runs in 3 under load.
    with island(12, loss=slow_sphere) as threads:
        threads.run_threads(60, logging_interval=1)
    lines = [m for level, m in progress if level == logging.INFO and m.startswith("Island 0:")]
    assert lines
    for line in lines:
        match = PATTERN.match(line)
        assert match, line
        assert int(match.group(2)) == 12
