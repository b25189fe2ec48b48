"""The island-wide budget (``total_evaluations``) under mpirun, at whatever size the job has."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from .test_propulator_mpi import gather_keys, make, sphere


def rank_zero_slow(params):
    time.sleep(0.03 if params.rank == 0 else 0.005)
    return sphere(params)


@pytest.mark.mpi(min_size=1)
def test_the_island_makes_its_budget_and_no_rank_stops_early(shared_tmp_path):
    from mpi4py import MPI

    size = MPI.COMM_WORLD.size
    total = 12 * size
    propulator = make(rank_zero_slow, -1, shared_tmp_path, total_evaluations=total)
    propulator.propulate(logging_interval=0)
    everyone = gather_keys(propulator)
    assert all(keys == everyone[0] for keys in everyone)
    # Results reach the peers in far less than an evaluation here, so at most one evaluation
    # per other rank is in flight when the budget is reached.
    assert total <= len(everyone[0]) <= total + size - 1
    if size > 1:
        per_rank = Counter(rank for rank, _ in everyone[0])
        assert per_rank[0] < min(per_rank[rank] for rank in range(1, size))
