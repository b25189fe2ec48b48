"""Ask and tell under mpirun: several asks in flight per rank, a clean finish, and a resume."""

from __future__ import annotations

import random

import pytest

from propulate import Propulator
from propulate.utils import get_default_propagator

LIMITS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0)}


def sphere(params):
    return sum(v * v for v in params.values())


def make(path, generations):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rng = random.Random(comm.rank)
    propagator = get_default_propagator(max(2, 2 * comm.size), LIMITS, rng=rng)
    return Propulator(
        sphere, propagator, rng, island_comm=comm, generations=generations, checkpoint_path=path
    )


def ask_and_tell(propulator, in_flight):
    """Keep ``in_flight`` individuals out; tell the oldest first (as simulations would end)."""
    with propulator:
        out = []
        while True:
            while len(out) < in_flight and (ind := propulator.ask()) is not None:
                out.append(ind)
            if not out:
                return
            ind = out.pop(0)
            propulator.tell(ind, sphere(ind))


def everybody(propulator):
    from mpi4py import MPI

    return MPI.COMM_WORLD.allgather(sorted(ind.key for ind in propulator.population))


@pytest.mark.mpi(min_size=1)
def test_ranks_asking_and_telling_agree_and_resume(shared_tmp_path):
    from mpi4py import MPI

    size = MPI.COMM_WORLD.size
    first = make(shared_tmp_path, 12)
    ask_and_tell(first, in_flight=4)
    expected = sorted((rank, g) for rank in range(size) for g in range(12))
    assert all(keys == expected for keys in everybody(first))
    # A new run on the checkpoint resumes what ask and tell recorded, and goes on with the loop.
    resumed = make(shared_tmp_path, 20)
    assert sorted(ind.key for ind in resumed.population) == expected
    assert resumed.generation == 12
    resumed.propulate(logging_interval=0)
    expected = sorted((rank, g) for rank in range(size) for g in range(20))
    assert all(keys == expected for keys in everybody(resumed))
    # ... and ask and tell goes on after the loop.
    again = make(shared_tmp_path, 24)
    ask_and_tell(again, in_flight=2)
    expected = sorted((rank, g) for rank in range(size) for g in range(24))
    assert all(keys == expected for keys in everybody(again))
