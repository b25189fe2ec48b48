"""Communication: the only part of Propulate that talks MPI.

The optimization loop sees a :class:`Transport`: non-blocking ``post`` of bytes to a peer and a
non-blocking ``poll`` for arrivals. A transport carries bytes only; what they mean is
:mod:`propulate.wire`'s business. Messages from one sender arrive in the order they were posted
(the loop's shutdown relies on it). :mod:`propulate.comm.mpi` implements it over an MPI
communicator, :mod:`propulate.comm.local` in memory for tests. :class:`WorkerGroup` shares one
evaluation among the ranks of a multi-rank worker, and lets them agree on when it stops.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

__all__ = ["Message", "Transport", "WorkerGroup", "Collectives"]


class Message(NamedTuple):
    """One arrival: who sent it, and its bytes."""

    source: int
    data: bytes


class Transport(Protocol):
    """Non-blocking point-to-point messaging among the ranks of one group."""

    rank: int
    size: int

    def post(self, dest: int, data: bytes) -> None:
        """Send ``data`` to ``dest`` without waiting for it to arrive (per-sender FIFO)."""

    def poll(self) -> list[Message]:
        """Return every message that has arrived, without waiting."""

    def pending_sends(self) -> int:
        """Number of posted messages whose send has not completed yet (frees completed ones)."""

    def wait_sends(self) -> None:
        """Block until every posted message has been sent (used only at shutdown)."""


class Collectives(Protocol):
    """The collective operations used outside the loop (set-up and summaries)."""

    rank: int
    size: int

    def allgather(self, obj: Any) -> list[Any]:
        """Gather one object from every rank on every rank."""

    def barrier(self) -> None:
        """Wait until every rank arrives."""


class WorkerGroup(Protocol):
    """The ranks that evaluate one individual together (multi-rank workers)."""

    rank: int
    size: int
    comm: Any

    def share(self, obj: Any) -> Any:
        """Broadcast ``obj`` from the group's first rank; return it on every rank."""

    def agree(self, vote: int) -> tuple[int, int]:
        """Return the largest and the smallest ``vote`` of the group's ranks (a collective).

        The ranks of a multi-rank worker settle with it, at every intermediate value, whether
        to stop the evaluation and why, and wait at its end until every rank's loss function
        ended (see :mod:`propulate.interruption`).
        """
