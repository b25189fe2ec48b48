"""MPITransport under mpirun: results that arrived while a rank was busy are all received."""

from __future__ import annotations

import time

import pytest

SENT_PER_PEER = 5


@pytest.mark.mpi(min_size=2)
def test_one_poll_after_a_long_busy_spell_receives_every_waiting_message(shared_tmp_path):
    from mpi4py import MPI

    from propulate.comm.mpi import MPITransport

    world = MPI.COMM_WORLD
    transport = MPITransport(world)
    world.Barrier()  # everybody starts together
    if transport.rank != 0:
        for i in range(SENT_PER_PEER):
            transport.post(0, bytes([transport.rank, i]) * 100)
        transport.wait_sends()  # small (eager) messages: complete once they are on their way
        (shared_tmp_path / f"sent-{transport.rank}").touch()
        time.sleep(1.0)  # busy in a long evaluation: no MPI calls, so no progress from this side
    else:
        # A long evaluation of its own (no MPI calls) until every peer has sent everything: a
        # file per peer, not a message, so that nothing drives MPI's progress engine here. On an
        # oversubscribed machine a peer may need a while to be scheduled at all.
        deadline = time.monotonic() + 60
        peers = [shared_tmp_path / f"sent-{peer}" for peer in range(1, transport.size)]
        while not all(flag.exists() for flag in peers) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
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
