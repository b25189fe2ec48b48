"""MPIWorkerGroup under mpirun: the agreement of a multi-rank worker's ranks, at any size."""

from __future__ import annotations

import pytest


@pytest.mark.mpi(min_size=2)
def test_the_ranks_of_each_worker_agree_on_the_largest_and_smallest_vote():
    from mpi4py import MPI

    from propulate.comm.mpi import MPIWorkerGroup

    world = MPI.COMM_WORLD
    # Workers of two consecutive ranks (the last one alone when the size is odd).
    comm = world.Split(color=world.rank // 2, key=world.rank)
    group = MPIWorkerGroup(comm)
    assert group.share("first" if group.rank == 0 else None) == "first"
    members = [r for r in range(world.size) if r // 2 == world.rank // 2]
    for round_ in range(3):
        vote = 10 * world.rank + round_
        assert group.agree(vote) == (10 * max(members) + round_, 10 * min(members) + round_)
        # The loss function's own collectives on the worker's communicator do not mix with ours.
        assert comm.allreduce(world.rank) == sum(members)
    assert group.share(None) is None
    comm.Free()
