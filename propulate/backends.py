"""A rank's communication back-ends: given (in-memory ones, in tests) or built over MPI."""

from __future__ import annotations

from typing import Any

from .comm import Collectives, Transport, WorkerGroup
from .comm.local import SingleProcess
from .job_lock import Layout

__all__ = ["Backends"]


class Backends:
    """The transport, collectives and worker group of one rank, built on first use.

    Parameters
    ----------
    island_comm, propulate_comm, worker_comm : MPI.Comm or None
        The communicators of Propulate 1.2's arguments (``None``: ``COMM_WORLD``, or
        ``COMM_SELF`` for the worker).
    migrating : bool
        Whether individuals travel between islands: then messages go over ``propulate_comm``,
        otherwise over ``island_comm``.
    transport, collectives, worker_group : optional
        Back-ends to use instead of MPI ones (tests pass in-memory ones).
    rank : int, optional
        This rank's rank in the whole optimization (default: the collectives' rank).
    """

    def __init__(
        self,
        island_comm: Any,
        propulate_comm: Any,
        worker_comm: Any,
        migrating: bool,
        transport: Transport | None = None,
        collectives: Collectives | None = None,
        worker_group: WorkerGroup | None = None,
        rank: int | None = None,
    ) -> None:
        self.comms = (island_comm, propulate_comm, worker_comm)
        self.migrating = migrating
        self.transport = transport
        self.collectives = collectives
        self.worker_group = worker_group
        self.rank = rank
        self._owns_transport = False  # True once we duplicated a communicator for it
        self._in_memory = transport is not None or collectives is not None

    def communicator(self, index: int) -> Any:
        """Propulate 1.2's communicator ``index`` (0 island, 1 propulate, 2 worker).

        The one given, else MPI's default (``COMM_WORLD``, ``COMM_SELF`` for the worker);
        ``None`` when the back-ends are in-memory ones and none was given.
        """
        comm = self.comms[index]
        if comm is not None or self._in_memory:
            return comm
        from .comm import mpi

        return mpi.self_comm() if index == 2 else mpi.world()

    def passes_comm(self) -> bool:
        """Whether the loss function is given the worker's communicator (no communication)."""
        if self.worker_group is not None:
            return self.worker_group.comm is not None
        if self.comms[2] is None:
            return False
        from .comm import mpi

        return not mpi.is_self(self.comms[2])

    def connect(self, messaging: bool = True) -> None:
        """Build the MPI back-ends not given (collective on the communicators).

        ``messaging=False`` skips the point-to-point transport (summaries need only collectives).
        A worker's other ranks get only the worker group: they evaluate, nothing else.
        """
        if self.transport is not None and self.worker_group is not None:
            return
        from .comm import mpi  # deferred: only needed (and only importing mpi4py) for MPI runs

        island_comm, propulate_comm, worker_comm = self.comms
        if self.worker_group is None:
            # As in 1.2, any worker communicator but COMM_SELF is handed to the loss function.
            self.worker_group = (
                SingleProcess() if mpi.is_self(worker_comm) else mpi.MPIWorkerGroup(worker_comm)
            )
        if self.worker_group.rank != 0:
            return
        if self.transport is None and messaging:
            group = propulate_comm if self.migrating else island_comm
            self.transport = mpi.MPITransport(group or mpi.world())
            self._owns_transport = True
        if self.collectives is None:
            self.collectives = mpi.MPICollectives(propulate_comm or mpi.world())

    def identity(self) -> int:
        """This rank's rank in the whole optimization (used to tag individuals and files)."""
        if self.rank is None:
            if self.collectives is not None:
                self.rank = self.collectives.rank
            else:
                from .comm import mpi

                self.rank = (self.comms[1] or mpi.world()).Get_rank()
        return self.rank

    def layout(self, island: int, island_sizes: tuple[int, ...] | None) -> Layout:
        """The run's layout as this rank sees it, without communicating (once connected).

        Parameters
        ----------
        island : int
            This rank's island.
        island_sizes : tuple of int, optional
            Workers per island, if known; a single island over every worker is recognized.
        """
        transport, collectives = self.transport, self.collectives
        messaging = transport.size if transport is not None else 1
        workers = collectives.size if collectives is not None else messaging
        if island_sizes is None and island == 0 and messaging == workers:
            island_sizes = (workers,)
        return Layout(workers, island_sizes)

    def release(self) -> None:
        """Free the communicator duplicated for a run (a later run duplicates a new one)."""
        free = getattr(self.transport, "free", None)
        if self._owns_transport and callable(free):
            free()
            self.transport = None
            self._owns_transport = False
