"""This worker's peers: whom results go to, and the shutdown that leaves nothing in flight.

Messages between two ranks arrive in the order they were sent (a
:class:`~propulate.comm.Transport` promises per-sender FIFO; over MPI it is the non-overtaking
rule of one tag). The shutdown uses
that order: a rank that stops breeding posts FINISHED to every peer and keeps serving messages;
once it has FINISHED from everybody, no result or migrant can still be on its way to it, so it
posts DONE; once it has DONE from everybody, everything anybody sent it has arrived. So at the
end every rank of an island holds the same population, whatever order ranks finish in.

With ``batch_seconds`` > 0 a worker's results wait, up to that long, to go to its island's
peers together in one ``RESULTS`` message (:meth:`Peers.post_result`). Whatever else the worker
posts (a location notice, a migrant, FINISHED, STOP) sends the waiting results first, so the
per-sender order, and with it the shutdown's guarantee, is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from .comm import Message, Transport
from .wire import Kind, encode_results, signal

__all__ = ["Peers"]

# Idle waits at shutdown back off from 0.2 ms to 10 ms: a finished rank must not steal CPU from
# ranks still evaluating on an oversubscribed node, yet answer quickly while messages flow.
IDLE_SLEEP_MIN = 0.0002
IDLE_SLEEP_MAX = 0.01

_BREEDING, _FINISHING, _CLOSING, _CLOSED = range(4)
# Plain ints for the per-message checks: looking up an enum member costs several times more.
_FINISHED, _DONE = int(Kind.FINISHED), int(Kind.DONE)


class Peers:
    """Posting to the island, broadcasting to every rank, and the two-phase shutdown.

    Parameters
    ----------
    transport : Transport
        The messaging group (every rank of the run when islands migrate, else the island).
    island : sequence of int
        The transport ranks of this worker's island, this one included.
    batch_seconds : float
        How long a result may wait to be sent with later ones (0: each at once).
    clock : callable
        Seconds of a monotonic clock (a parameter for tests).

    Notes
    -----
    :meth:`poll` takes the shutdown messages (FINISHED, DONE) out of what arrives and returns
    the rest. A rank counts as finished or done once it said so: a STOP or an exception on a
    peer posts FINISHED and DONE too, so nobody waits for a rank that is gone.
    """

    def __init__(
        self,
        transport: Transport,
        island: Sequence[int],
        batch_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transport = transport
        self.rank = transport.rank
        self.island = island
        self.island_peers = [peer for peer in island if peer != self.rank]
        self.everybody_else = [peer for peer in range(transport.size) if peer != self.rank]
        self._finished: set[int] = set()
        self._done: set[int] = set()
        self._phase = _BREEDING
        self.batch_seconds = batch_seconds
        self.clock = clock
        self._waiting: list[bytes] = []  # records of results not sent yet (batching only)
        self._waiting_since = 0.0

    def post(self, dest: int, data: bytes) -> None:
        """Post one message (non-blocking), after any waiting results."""
        self.flush()
        self._post(dest, data)

    def _post(self, dest: int, data: bytes) -> None:
        self.transport.post(dest, data)

    def post_result(self, message: bytes) -> None:
        """Post a ``RESULT`` message to the island, or keep its record for a batch.

        With ``batch_seconds`` > 0 the record waits until the oldest waiting one has waited
        that long (checked here and by :meth:`flush_if_due`) or until anything else is posted.
        """
        if self.batch_seconds <= 0:
            self.post_to_island(message)
            return
        if not self._waiting:
            self._waiting_since = self.clock()
        self._waiting.append(message[1:])  # the record: the message less its kind
        self.flush_if_due()

    def flush_if_due(self) -> None:
        """Send the waiting results if the oldest has waited ``batch_seconds``."""
        if self._waiting and self.clock() - self._waiting_since >= self.batch_seconds:
            self.flush()

    def flush(self) -> None:
        """Send the waiting results now, as one message to each peer of the island."""
        waiting = self._waiting
        if waiting:
            self._waiting = []
            self._post_to_island(encode_results(waiting))

    def post_to_island(self, data: bytes) -> None:
        """Post ``data`` to every other worker of this island (after any waiting results)."""
        self.flush()
        self._post_to_island(data)

    def _post_to_island(self, data: bytes) -> None:
        post = self.transport.post
        for peer in self.island_peers:
            post(peer, data)

    def post_to_members(self, members: Sequence[int], data: bytes) -> None:
        """Post ``data`` to each of ``members`` (e.g. every worker of another island)."""
        self.flush()
        post = self.transport.post
        for member in members:
            post(member, data)

    def broadcast(self, kind: Kind) -> None:
        """Post a message without body (STOP, FINISHED, DONE) to every other rank."""
        self.flush()
        data = signal(kind)
        for peer in self.everybody_else:
            self._post(peer, data)

    def poll(self) -> list[Message]:
        """Every message that has arrived, less the shutdown messages (which are noted)."""
        messages = self.transport.poll()
        return self._note(messages) if messages else messages

    def _note(self, messages: list[Message]) -> list[Message]:
        kept = []
        for message in messages:
            kind = message.data[0]
            if kind == _FINISHED:
                self._finished.add(message.source)
            elif kind == _DONE:
                self._done.add(message.source)
            else:
                kept.append(message)
        return kept

    def pending_sends(self) -> int:
        """Free completed sends; return how many are still in flight."""
        return self.transport.pending_sends()

    # ----- the shutdown ---------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether the shutdown is complete (every message sent to this rank has arrived)."""
        return self._phase == _CLOSED

    def start_shutdown(self) -> None:
        """Announce that this rank breeds no more (posts FINISHED; idempotent)."""
        if self._phase == _BREEDING:
            self._phase = _FINISHING
            self.broadcast(Kind.FINISHED)

    def advance_shutdown(self) -> bool:
        """Move the shutdown on as far as what has arrived allows; return :attr:`closed`."""
        peers = self.everybody_else
        if self._phase == _FINISHING and self._finished.issuperset(peers):
            self._phase = _CLOSING
            self.broadcast(Kind.DONE)
        if self._phase == _CLOSING and self._done.issuperset(peers):
            self._phase = _CLOSED
            self.transport.wait_sends()
        return self._phase == _CLOSED

    def shut_down(self, handle: Callable[[list[Message]], object]) -> None:
        """The two-phase exchange of the module docstring; ``handle`` takes what arrives."""
        self.start_shutdown()
        pause = IDLE_SLEEP_MIN
        while not self.advance_shutdown():
            arrived = self.transport.poll()
            if arrived:
                kept = self._note(arrived)
                if kept:
                    handle(kept)
                pause = IDLE_SLEEP_MIN
            else:
                self.transport.pending_sends()
                time.sleep(pause)
                pause = min(2 * pause, IDLE_SLEEP_MAX)

    def abort(self) -> None:
        """Leave at once (an error): tell everybody to stop and not to wait for this rank."""
        self.broadcast(Kind.STOP)
        if self._phase == _BREEDING:
            self.broadcast(Kind.FINISHED)
        if self._phase in (_BREEDING, _FINISHING):
            self.broadcast(Kind.DONE)
        self._phase = _CLOSED
