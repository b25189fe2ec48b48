"""MPITransport under mpirun: results that arrived while a rank was busy are all received."""

from __future__ import annotations

import time

import pytest

SENT_PER_PEER = 5


@pytest.mark.mpi(min_size=2)
def test_one_poll_after_a_long_busy_spell_receives_every_waiting_message():
    from mpi4py import MPI

    from propulate.comm.mpi import MPITransport

    world = MPI.COMM_WORLD
    transport = MPITransport(world)
    world.Barrier()  # everybody starts together
    if transport.rank != 0:
        for i in range(SENT_PER_PEER):
            transport.post(0, 11, bytes([transport.rank, i]) * 100)
        transport.pending_sends()
        time.sleep(1.0)  # busy in a long evaluation: no MPI calls, so no progress from this side
    else:
        time.sleep(0.5)  # a long evaluation of its own: every message is long since there
        received = transport.poll()
        expected = SENT_PER_PEER * (transport.size - 1)
        # Stopping at the first failed Iprobe, a poll here got nothing, and each later one got
        # one message (MPICH), so a rank with long evaluations fell further and further behind.
        assert len(received) == expected
        assert sorted((m.source, m.data[1]) for m in received) == [
            (peer, i) for peer in range(1, transport.size) for i in range(SENT_PER_PEER)
        ]
    world.Barrier()
    transport.free()
