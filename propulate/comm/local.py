"""An in-memory :class:`~propulate.comm.Transport` for tests and single-process runs."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from . import Message

__all__ = ["LocalNetwork", "LocalTransport", "SingleProcess"]


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
