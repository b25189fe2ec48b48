"""select_device over a real MPI communicator: GPUs by node rank, workers on one node."""

from __future__ import annotations

import pytest


@pytest.mark.mpi(min_size=2)
def test_gpus_follow_the_node_rank_under_cyclic_placement():
    from mpi4py import MPI

    from propulate.devices import select_device

    world = MPI.COMM_WORLD
    # Pretend cyclic placement on two nodes: even ranks on n0, odd ranks on n1.
    host = f"n{world.rank % 2}"
    placement = select_device(world, host=host, environ={"CUDA_VISIBLE_DEVICES": "0,1,2,3"})
    placements = world.allgather((placement.host, placement.local_rank, placement.gpu))
    for rank, (got_host, local_rank, gpu) in enumerate(placements):
        assert got_host == f"n{rank % 2}"
        assert local_rank == rank // 2
        assert gpu == (rank // 2) % 4
    on_cpu = select_device(world, host=host, environ={"CUDA_VISIBLE_DEVICES": ""})
    assert on_cpu.gpu is None and on_cpu.local_size == (world.size + 1 - world.rank % 2) // 2


@pytest.mark.mpi(min_size=2)
def test_a_worker_across_two_hosts_is_refused_on_every_rank_of_it():
    from mpi4py import MPI

    from propulate import ConfigurationError
    from propulate.devices import select_device

    world = MPI.COMM_WORLD
    worker = world.Split(world.rank // 2, world.rank)  # workers of two consecutive ranks
    host = f"n{world.rank % 2}"  # ... each spread over n0 and n1
    try:
        if worker.size < 2:
            select_device(world, host=host, environ={}, worker_comm=worker)
            return
        with pytest.raises(ConfigurationError, match="spans several hosts"):
            select_device(world, host=host, environ={}, worker_comm=worker)
    finally:
        worker.Free()
