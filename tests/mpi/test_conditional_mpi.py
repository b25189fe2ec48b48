"""A conditional space and constraints under mpirun: islands with migration, every rank agrees."""

from __future__ import annotations

import random

import pytest

from propulate import Islands
from propulate.population import Individual
from propulate.search_space import SearchSpace
from propulate.testing import CONDITIONAL_LIMITS
from propulate.utils import get_default_propagator

SPACE = SearchSpace(CONDITIONAL_LIMITS)


def feasible(p):
    return p["lr"] * p["layers"] < 0.05


def loss(params):
    values = dict(params)
    assert set(values) == SPACE.active(values), values  # only the active parameters
    assert feasible(values), values  # never an infeasible child
    return values["lr"] + values.get("momentum", 0.0) + values.get("dampening", 0.0)


@pytest.mark.mpi(min_size=2)
def test_conditional_individuals_migrate_and_stay_consistent(shared_tmp_path):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rng = random.Random(comm.rank)
    islands = Islands(
        loss,
        get_default_propagator(4, CONDITIONAL_LIMITS, rng=rng),
        rng,
        generations=15,
        num_islands=2 if comm.size >= 4 else 1,
        migration_probability=0.3,
        checkpoint_path=shared_tmp_path,
        constraints=[feasible],
    )
    islands.propulate()
    population = islands.propulator.population
    for ind in population:
        assert isinstance(ind, Individual)
        assert set(ind) == SPACE.active(dict(ind))
        assert feasible(ind)
    assert all(ind.status == "ok" for ind in population)
    keys = comm.allgather(sorted(ind.key for ind in population))
    assert sum(len(k) > 0 for k in keys) == comm.size
