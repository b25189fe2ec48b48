"""Several objectives under mpirun: every rank ends with the same vectors, and the same front."""

from __future__ import annotations

import random

import pytest

from propulate import Islands, Propulator
from propulate.utils import get_default_propagator

LIMITS = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
DECLARED = {"accuracy": "maximize", "cost": "minimize"}


def two(params):
    return {"accuracy": params["x"], "cost": params["x"] ** 2 + params["y"]}


@pytest.mark.mpi(min_size=1)
def test_every_rank_holds_the_same_vectors_and_front(shared_tmp_path):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rng = random.Random(comm.rank)
    propagator = get_default_propagator(max(2, 2 * comm.size), LIMITS, rng=rng)
    propulator = Propulator(two, propagator, rng, island_comm=comm, generations=20,
                            checkpoint_path=shared_tmp_path, objectives=DECLARED)  # fmt: skip
    propulator.propulate(logging_interval=0)
    mine = sorted((ind.key, ind.losses) for ind in propulator.population)
    everyone = comm.allgather(mine)
    assert all(theirs == mine for theirs in everyone)
    assert len(mine) == 20 * comm.size
    ordered = sorted(propulator.population, key=lambda i: i.key)
    for (_, losses), ind in zip(mine, ordered, strict=True):
        assert losses == (-ind["x"], ind["x"] ** 2 + ind["y"])
    front = propulator.summarize(top_n=3, debug=0)
    assert front[comm.rank] is not None and len(front[comm.rank].losses) == 2


@pytest.mark.mpi(min_size=1)
def test_a_bad_declaration_fails_on_every_rank_before_communicating():
    from mpi4py import MPI

    from propulate import ConfigurationError

    with pytest.raises(ConfigurationError, match="objectives"):
        Islands(two, get_default_propagator(4, LIMITS), objectives={"accuracy": "up"})
    MPI.COMM_WORLD.Barrier()  # every rank got here: none is left waiting in a split
