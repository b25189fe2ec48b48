"""MPI implementations of the communication interfaces (the only module importing mpi4py)."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from mpi4py import MPI

from . import Message

__all__ = [
    "MPITransport",
    "MPICollectives",
    "MPIWorkerGroup",
    "world",
    "self_comm",
    "is_null",
    "is_self",
]


# The one tag of every message: MPI keeps messages of one sender, tag and communicator in order
# (its non-overtaking rule), which gives the per-sender FIFO the Transport promises.
TAG = 7


def world() -> MPI.Comm:
    """``MPI.COMM_WORLD``."""
    return MPI.COMM_WORLD


def self_comm() -> MPI.Comm:
    """``MPI.COMM_SELF``."""
    return MPI.COMM_SELF


def is_self(comm: Any) -> bool:
    """Whether ``comm`` is missing or ``MPI.COMM_SELF`` (a one-rank worker of Propulate 1.2)."""
    return comm is None or comm == MPI.COMM_SELF


def is_null(comm: Any) -> bool:
    """Whether ``comm`` is missing or ``MPI.COMM_NULL``."""
    return comm is None or comm == MPI.COMM_NULL


class MPITransport:
    """Non-blocking point-to-point messages of bytes over an MPI communicator.

    Parameters
    ----------
    comm : MPI.Comm
        The communicator; the transport duplicates it so its messages never mix with the user's.
    """

    def __init__(self, comm: MPI.Comm) -> None:
        self.comm = comm.Dup()
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        # Sends in the order posted, each with the buffer it must keep alive until complete.
        self._in_flight: deque[tuple[MPI.Request, bytes]] = deque()
        self._status = MPI.Status()

    def post(self, dest: int, data: bytes) -> None:
        """Start sending ``data``; the buffer is kept alive until the send completes."""
        self._in_flight.append((self.comm.Isend([data, MPI.BYTE], dest=dest, tag=TAG), data))

    def poll(self) -> list[Message]:
        """Receive every message that has arrived.

        Probing first and receiving only what is there never blocks, so a slow peer cannot stall
        this rank.
        """
        messages = []
        status = self._status
        misses = 0
        # A failed Iprobe is what drives MPI's progress engine: MPICH answers False for a message
        # that arrived long ago and only matches it on the next call. Stopping at the first miss
        # let a rank with long evaluations absorb one result per evaluation; so stop only after
        # a second miss in a row, which finds everything that had arrived
        # (tests/mpi/test_transport_mpi.py).
        while misses < 2:
            if self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=TAG, status=status):
                misses = 0
                source = status.Get_source()
                buffer = bytearray(status.Get_count(MPI.BYTE))
                self.comm.Recv([buffer, MPI.BYTE], source=source, tag=TAG)
                messages.append(Message(source, bytes(buffer)))
            else:
                misses += 1
        return messages

    def pending_sends(self) -> int:
        """Free the buffers of completed sends; return how many are still in flight.

        Sends complete roughly in the order they were posted, so testing from the oldest and
        stopping at the first incomplete one costs O(completed + 1), not O(in flight).
        """
        in_flight = self._in_flight
        while in_flight and in_flight[0][0].Test():
            in_flight.popleft()
        return len(in_flight)

    def wait_sends(self) -> None:
        """Block until every send has completed."""
        MPI.Request.Waitall([request for request, _ in self._in_flight])
        self._in_flight.clear()

    def free(self) -> None:
        """Release the duplicated communicator."""
        self.wait_sends()
        self.comm.Free()


class MPICollectives:
    """Collectives used outside the optimization loop.

    Parameters
    ----------
    comm : MPI.Comm
        The communicator.
    """

    def __init__(self, comm: MPI.Comm) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    def allgather(self, obj: Any) -> list[Any]:
        """Gather ``obj`` from every rank on every rank."""
        return self.comm.allgather(obj)  # type: ignore[no-any-return]

    def barrier(self) -> None:
        """Wait for every rank."""
        self.comm.Barrier()


class MPIWorkerGroup:
    """The ranks of one multi-rank worker.

    Parameters
    ----------
    comm : MPI.Comm
        The worker's sub-communicator; it is handed to the loss function as is.

    Notes
    -----
    :meth:`share` and :meth:`agree` run on a duplicate of ``comm``, made by their first call
    (every rank of the worker makes it at once: the leader's first share is the followers'
    first too). So they never match a collective of the loss function on ``comm``, even when a
    rank left its loss function at a signal while another is still in it.
    """

    def __init__(self, comm: MPI.Comm) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self._own: MPI.Comm | None = None
        # (vote, -vote): one MAX reduction gives the largest and (negated) the smallest vote.
        self._vote = np.zeros(2, dtype=np.int64)
        self._agreed = np.zeros(2, dtype=np.int64)

    def _private(self) -> MPI.Comm:
        if self._own is None:
            self._own = self.comm.Dup()
        return self._own

    def share(self, obj: Any) -> Any:
        """Broadcast ``obj`` from the worker's first rank."""
        return obj if self.size == 1 else self._private().bcast(obj, root=0)

    def agree(self, vote: int) -> tuple[int, int]:
        """The largest and the smallest ``vote`` of the worker's ranks, on every rank.

        One ``MPI_Allreduce`` of two integers into preallocated buffers, without pickling: the
        ranks call it at every intermediate value (benchmarks/worker_agreement.py measures it).
        """
        if self.size == 1:
            return vote, vote
        self._vote[0], self._vote[1] = vote, -vote
        self._private().Allreduce(self._vote, self._agreed, op=MPI.MAX)
        return int(self._agreed[0]), -int(self._agreed[1])
