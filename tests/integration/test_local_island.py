"""propulate.testing.LocalIsland: the real loop stepped in memory, with controlled delivery."""

from __future__ import annotations

import random

import pytest

from propulate.comm.local import LocalNetwork
from propulate.errors import ConfigurationError
from propulate.testing import ControlledNetwork, Immediately, InBursts, InRounds, LocalIsland
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, sphere


def island(size=3, generations=10, seed=0):
    propagators = [get_default_propagator(4, LIMITS_3D, rng=random.Random(r)) for r in range(size)]
    return LocalIsland(sphere, propagators, generations=generations, seed=seed)


def keys(propulator):
    return [ind.key for ind in propulator.population]


def test_the_local_transport_carries_bytes_in_the_order_posted():
    network = LocalNetwork(2)
    sender, receiver = network.transport(0), network.transport(1)
    for i in range(5):
        sender.post(1, bytes([i]) * 3)
    messages = receiver.poll()
    assert [(m.source, m.data) for m in messages] == [(0, bytes([i]) * 3) for i in range(5)]
    assert receiver.poll() == [] and network.messages_sent == 5


def test_a_controlled_network_holds_messages_until_released_in_order():
    network = ControlledNetwork(2)
    network.holding = True
    network.transport(0).post(1, b"a")
    network.transport(0).post(1, b"b")
    assert network.transport(1).poll() == []
    network.release(1)
    assert [m.data for m in network.transport(1).poll()] == [b"a", b"b"]


@pytest.mark.parametrize("delivery", [Immediately(), InRounds(), InBursts(4)])
def test_every_delivery_ends_with_identical_complete_populations(delivery):
    with island() as local:
        assert local.run(delivery) == 30
        expected = {(rank, g) for rank in range(3) for g in range(10)}
        for propulator in local.propulators:
            assert set(keys(propulator)) == expected
            assert propulator.known.bred_on[0] == 30


def test_in_rounds_nobody_sees_the_round_it_breeds_in():
    seen = []
    with island() as local:
        for _ in range(4):
            for rank in range(3):
                local.step(rank, InRounds())
                seen.append(len(local.propulators[rank].population) - 1)  # less its own child
        local.finish()
    # Breeding in round k, a rank knew the 3k results of the earlier rounds and none of this one.
    assert seen == [0, 0, 0, 3, 3, 3, 6, 6, 6, 9, 9, 9]


def test_in_bursts_a_rank_learns_the_others_only_every_k_steps():
    with island(size=2, generations=8) as local:
        sizes = []
        for _ in range(8):
            for rank in range(2):
                local.step(rank, InBursts(4))
            sizes.append(len(local.propulators[1].population))
        local.finish()
    # Rank 1 sees its own results at once, and rank 0's before its steps 0 and 4 (rank 0 has
    # taken its step of the round by then): 1 + 1, then + 1 per step, then 4 + 1 more.
    assert sizes == [2, 3, 4, 5, 10, 11, 12, 13]


def test_stepped_runs_are_deterministic():
    def run():
        with island(seed=3) as local:
            local.run(InBursts(3))
            return [(ind.values_dict(), ind.loss) for ind in local.propulators[0].population]

    assert run() == run()


def test_simulated_time_delivers_out_of_order_yet_completely():
    def run(seed):
        with island(generations=12) as local:
            local.simulate(seed, mean_delay=2.0)
            return [keys(p) for p in local.propulators]

    first = run(7)
    assert first == run(7)  # deterministic for a seed
    assert all(set(order) == set(first[0]) and len(order) == 36 for order in first)
    # Another rank's results arrive out of the order they were bred in.
    others = [key for key in first[0] if key[0] != 0]
    assert any(a[0] == b[0] and a[1] > b[1] for a, b in zip(others, others[1:], strict=False))
    with island(generations=-1) as local, pytest.raises(ConfigurationError, match="generations"):
        local.simulate(0)


def test_preloaded_individuals_are_known_but_not_told():
    with island(size=2, generations=5) as local:
        local.run()
        known = local.propulators[0].population
    with island(size=2, generations=8) as local:
        local.preload(known)
        assert [p.generation for p in local.propulators] == [5, 5]
        assert all(len(p.population) == 10 for p in local.propulators)
        assert local.run() == 6
        assert len(local.propulators[1].population) == 16


@pytest.mark.parametrize("batch_seconds", [0.0, 3600.0])
def test_batched_results_end_with_identical_complete_populations_in_fewer_messages(batch_seconds):
    size, generations = 4, 8
    propagators = [get_default_propagator(4, LIMITS_3D, rng=random.Random(r)) for r in range(size)]
    with LocalIsland(sphere, propagators, generations=generations,
                     batch_seconds=batch_seconds) as local:  # fmt: skip
        local.simulate(seed=3, mean_delay=0.5)
        expected = {(rank, g) for rank in range(size) for g in range(generations)}
        populations = [
            sorted((ind.key, ind.loss) for ind in propulator.population)
            for propulator in local.propulators
        ]
        assert {key for key, _ in populations[0]} == expected
        assert all(population == populations[0] for population in populations)
        shutdown = 2 * size * (size - 1)  # FINISHED and DONE
        results = local.network.messages_sent - shutdown
        if batch_seconds:  # nothing was due: each rank's results went in one batch per peer
            assert results == size * (size - 1)
        else:
            assert results == size * generations * (size - 1)
