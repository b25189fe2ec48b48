"""An in-memory :class:`~propulate.comm.Transport` for tests and single-process runs."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from . import Message

__all__ = ["LocalNetwork", "LocalTransport", "SingleProcess", "LocalWorker", "LocalWorkerGroup"]


class LocalNetwork:
    """Mailboxes for ``size`` in-process ranks (each rank typically runs in its own thread).

    Parameters
    ----------
    size : int
        The number of ranks.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.mailboxes: list[deque[Message]] = [deque() for _ in range(size)]
        self._barrier = threading.Barrier(size)
        self._gathered: list[Any] = [None] * size
        self.messages_sent = 0

    def send(self, source: int, dest: int, data: bytes) -> None:
        """Deliver a message to ``dest``'s mailbox at once.

        :mod:`propulate.testing.local` overrides this to hold messages back and deliver them
        later (in bursts, or after random delays).
        """
        self.messages_sent += 1
        self.deliver(Message(source, data), dest)

    def deliver(self, message: Message, dest: int) -> None:
        """Put ``message`` into ``dest``'s mailbox."""
        self.mailboxes[dest].append(message)

    def transport(self, rank: int) -> LocalTransport:
        """The transport of ``rank``."""
        return LocalTransport(self, rank)


class LocalTransport:
    """One rank's end of a :class:`LocalNetwork` (sends complete immediately)."""

    def __init__(self, network: LocalNetwork, rank: int) -> None:
        self.network = network
        self.rank = rank
        self.size = network.size

    def post(self, dest: int, data: bytes) -> None:
        """Hand ``data`` to the network for ``dest`` (delivered at once unless it holds them)."""
        self.network.send(self.rank, dest, bytes(data))

    def poll(self) -> list[Message]:
        """Take every message in this rank's mailbox."""
        box = self.network.mailboxes[self.rank]
        messages = []
        while box:
            messages.append(box.popleft())
        return messages

    def pending_sends(self) -> int:
        """Always 0: local sends complete at once."""
        return 0

    def wait_sends(self) -> None:
        """Nothing to wait for."""

    def allgather(self, obj: Any) -> list[Any]:
        """Gather ``obj`` from every rank (all ranks must call it)."""
        self.network._gathered[self.rank] = obj
        self.network._barrier.wait()
        result = list(self.network._gathered)
        self.network._barrier.wait()
        return result

    def barrier(self) -> None:
        """Wait for every rank."""
        self.network._barrier.wait()


class SingleProcess:
    """A worker group of one rank: sharing is the identity."""

    rank = 0
    size = 1
    comm = None

    def share(self, obj: Any) -> Any:
        """Return ``obj``."""
        return obj

    def agree(self, vote: int) -> tuple[int, int]:
        """Return ``(vote, vote)``: a lone rank agrees with itself."""
        return vote, vote


class LocalWorker:
    """The ranks of one multi-rank worker as threads of this process (for tests).

    Parameters
    ----------
    size : int
        The ranks of the worker.
    timeout : float
        Seconds a rank waits for the others in :meth:`LocalWorkerGroup.share` and
        :meth:`LocalWorkerGroup.agree` before ``threading.BrokenBarrierError``: a test that
        breaks the protocol fails instead of hanging.
    """

    def __init__(self, size: int, timeout: float = 30.0) -> None:
        self.size = size
        self.timeout = timeout
        self._barrier = threading.Barrier(size)
        self._slots: list[Any] = [None] * size

    def group(self, rank: int) -> LocalWorkerGroup:
        """The worker group of ``rank`` (its ``comm`` names the worker, for the loss function)."""
        return LocalWorkerGroup(self, rank)

    def _exchange(self, rank: int, obj: Any) -> list[Any]:
        self._slots[rank] = obj
        self._barrier.wait(self.timeout)
        gathered = list(self._slots)
        self._barrier.wait(self.timeout)  # nobody writes the next round's slot before all read
        return gathered


class LocalWorkerGroup:
    """One thread-rank's end of a :class:`LocalWorker`."""

    def __init__(self, worker: LocalWorker, rank: int) -> None:
        self.worker = worker
        self.rank = rank
        self.size = worker.size
        self.comm = f"local-worker-{id(worker)}"

    def share(self, obj: Any) -> Any:
        """Return the first rank's ``obj`` on every rank."""
        return self.worker._exchange(self.rank, obj)[0]

    def agree(self, vote: int) -> tuple[int, int]:
        """Return the largest and the smallest vote of the worker's ranks."""
        votes = self.worker._exchange(self.rank, vote)
        return max(votes), min(votes)
