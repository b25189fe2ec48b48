"""Split ``MPI.COMM_WORLD`` into multi-rank workers and islands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpi4py import MPI

__all__ = ["Communicators", "split_world"]


@dataclass
class Communicators:
    """This rank's communicators.

    Attributes
    ----------
    worker : MPI.Comm
        The ranks of this rank's worker (``COMM_SELF`` for one-rank workers).
    propulate : MPI.Comm or None
        The first rank of every worker (``None`` on a worker's other ranks).
    island : MPI.Comm or None
        The first ranks of the workers of this rank's island (``None`` on other ranks).
    """

    worker: Any
    propulate: Any
    island: Any


def split_world(world: Any, ranks_per_worker: int, island_of_worker: list[int]) -> Communicators:
    """Split ``world`` into workers of consecutive ranks, and the workers into islands.

    Collective over ``world``: every rank must call it.

    Parameters
    ----------
    world : MPI.Comm
        The communicator of the whole run.
    ranks_per_worker : int
        Ranks per worker (the world size is a multiple of it).
    island_of_worker : list of int
        The island of each worker, in worker order.

    Returns
    -------
    Communicators
        This rank's communicators.
    """
    rank = world.Get_rank()
    worker_index, worker_rank = divmod(rank, ranks_per_worker)
    worker = world.Split(color=worker_index, key=rank) if ranks_per_worker > 1 else MPI.COMM_SELF
    leader = worker_rank == 0
    propulate = world.Split(color=0 if leader else MPI.UNDEFINED, key=rank)
    island_color = island_of_worker[worker_index] if leader else MPI.UNDEFINED
    island = world.Split(color=island_color, key=rank)
    if not leader:
        propulate = island = None
    return Communicators(worker=worker, propulate=propulate, island=island)
