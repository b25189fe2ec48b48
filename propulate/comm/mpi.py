"""MPI implementations of the communication interfaces (the only module importing mpi4py)."""

from __future__ import annotations

from typing import Any

from mpi4py import MPI

from . import Message

__all__ = ["MPITransport", "MPICollectives", "MPIWorkerGroup", "world", "self_comm", "is_null"]


def world() -> MPI.Comm:
    """``MPI.COMM_WORLD``."""
    return MPI.COMM_WORLD


def self_comm() -> MPI.Comm:
    """``MPI.COMM_SELF``."""
    return MPI.COMM_SELF


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
        self._requests: list[MPI.Request] = []
        self._buffers: list[bytes] = []
        self._status = MPI.Status()

    def post(self, dest: int, tag: int, data: bytes) -> None:
        """Start sending ``data``; the buffer is kept alive until the send completes."""
        self._requests.append(self.comm.Isend([data, MPI.BYTE], dest=dest, tag=tag))
        self._buffers.append(data)
        if len(self._requests) >= 64:
            self.pending_sends()

    def poll(self) -> list[Message]:
        """Receive every message that has arrived.

        Probing first and receiving only what is there never blocks, so a slow peer cannot stall
        this rank.
        """
        messages = []
        status = self._status
        while self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status):
            source, tag = status.Get_source(), status.Get_tag()
            buffer = bytearray(status.Get_count(MPI.BYTE))
            self.comm.Recv([buffer, MPI.BYTE], source=source, tag=tag)
            messages.append(Message(source, tag, bytes(buffer)))
        return messages

    def pending_sends(self) -> int:
        """Free the buffers of completed sends; return how many are still in flight."""
        if self._requests:
            done = MPI.Request.Testsome(self._requests)
            if done:
                finished = set(done)
                self._requests = [r for i, r in enumerate(self._requests) if i not in finished]
                self._buffers = [b for i, b in enumerate(self._buffers) if i not in finished]
        return len(self._requests)

    def wait_sends(self) -> None:
        """Block until every send has completed."""
        MPI.Request.Waitall(self._requests)
        self._requests.clear()
        self._buffers.clear()

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
    """

    def __init__(self, comm: MPI.Comm) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    def share(self, obj: Any) -> Any:
        """Broadcast ``obj`` from the worker's first rank."""
        return self.comm.bcast(obj, root=0)
