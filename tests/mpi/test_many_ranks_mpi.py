"""A short run at many ranks (CI runs it at 32, oversubscribed): nothing lost, everyone agrees.

Each test runs twice: results sent one by one, and batched (``batch_seconds``).

The losses sleep a few milliseconds, so ranks interleave as on cores of their own however few
cores the machine has. One island of every rank: each rank must end with every result of every
rank. Then four pollinating islands: each island's ranks must agree, and each must hold every
result bred on it.
"""

from __future__ import annotations

import random
import time

import pytest

from propulate import Islands, Propulator
from propulate.utils import get_default_propagator

LIMITS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0), "c": (-5.0, 5.0)}
GENERATIONS = 6


def napping_sphere(params):
    time.sleep(0.002)
    return sum(v * v for v in params.values())


def world():
    from mpi4py import MPI

    return MPI.COMM_WORLD


@pytest.mark.mpi(min_size=1)
@pytest.mark.parametrize("batch_seconds", [0.0, 0.01])  # 0.01: about 5 results per message
def test_every_rank_holds_every_result_of_every_rank(shared_tmp_path, batch_seconds):
    comm = world()
    rng = random.Random(comm.rank)
    propulator = Propulator(
        napping_sphere,
        get_default_propagator(8, LIMITS, rng=rng),
        rng,
        island_comm=comm,
        generations=GENERATIONS,
        checkpoint_path=shared_tmp_path,
        batch_seconds=batch_seconds,
    )
    propulator.propulate(logging_interval=0)
    everyone = comm.allgather(sorted(ind.key for ind in propulator.population))
    expected = sorted((rank, g) for rank in range(comm.size) for g in range(GENERATIONS))
    assert all(keys == expected for keys in everyone)


@pytest.mark.mpi(min_size=4)
@pytest.mark.parametrize("batch_seconds", [0.0, 0.01])
def test_pollinating_islands_agree_and_keep_what_they_bred(shared_tmp_path, batch_seconds):
    comm = world()
    rng = random.Random(comm.rank)
    islands = Islands(
        napping_sphere,
        get_default_propagator(4, LIMITS, rng=rng),
        rng,
        generations=GENERATIONS,
        num_islands=4,
        migration_probability=0.3,
        checkpoint_path=shared_tmp_path,
        batch_seconds=batch_seconds,
    )
    islands.propulate(logging_interval=0, debug=0)
    population = islands.propulator.population
    mine = (islands.island_idx, sorted(ind.key for ind in population))
    views = comm.allgather(mine)
    for island in range(4):
        held = [keys for idx, keys in views if idx == island]
        assert all(keys == held[0] for keys in held), f"island {island}'s ranks disagree"
        bred = {(rank, g) for rank, (idx, _) in enumerate(views) if idx == island
                for g in range(GENERATIONS)}  # fmt: skip
        assert bred <= set(map(tuple, held[0])), f"island {island} lost a result"
