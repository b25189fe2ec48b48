"""Under mpirun: constraints returned with the result reach every rank; a resume with other
objectives fails on every rank before any communication."""

from __future__ import annotations

import random

import pytest

from propulate import CheckpointError, Propulator
from propulate.utils import get_default_propagator

LIMITS = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
DECLARED = {"accuracy": "maximize", "cost": "minimize"}


def two(params):
    return {"accuracy": params["x"], "cost": params["y"], "constraints": [params["x"] - 0.7]}


def propulator(comm, path, generations, objectives):
    rng = random.Random(comm.rank)
    propagator = get_default_propagator(max(2, 2 * comm.size), LIMITS, rng=rng)
    return Propulator(two, propagator, rng, island_comm=comm, generations=generations,
                      checkpoint_path=path, objectives=objectives)  # fmt: skip


@pytest.mark.mpi(min_size=1)
def test_constraints_reach_every_rank_and_other_objectives_fail_every_rank(shared_tmp_path):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    first = propulator(comm, shared_tmp_path, 6, DECLARED)
    first.propulate(logging_interval=0)
    mine = sorted((ind.key, ind.constraints) for ind in first.population)
    assert len(mine) == 6 * comm.size
    for ind in first.population:
        assert ind.constraints == (pytest.approx(ind["x"] - 0.7),)
    assert all(theirs == mine for theirs in comm.allgather(mine))
    comm.Barrier()
    # Every rank raises on its own, before communicating (no rank is left waiting).
    other = propulator(comm, shared_tmp_path, 8, {"accuracy": "maximize"})
    with pytest.raises(CheckpointError, match=r"objectives=\{'accuracy': 'maximize', 'cost'"):
        other.propulate(logging_interval=0)
    comm.Barrier()
