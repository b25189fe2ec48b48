"""Migration and pollination over the in-memory transport: the invariants, checked exactly."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest

from propulate import ConfigurationError, Migrator, Pollinator
from propulate.comm import Message
from propulate.comm.local import LocalNetwork, LocalTransport
from propulate.islands import plan_islands
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, sphere


class OvertakingNetwork(LocalNetwork):
    """Messages of different senders overtake each other, as under MPI; a pair's stay in order.

    Each message waits with probability ``lag`` (and behind any waiting one of its pair); a
    receiver's poll releases each waiting pair with probability 1/2.
    """

    def __init__(self, size, seed, lag=0.5):
        super().__init__(size)
        self.rng = random.Random(seed)
        self.lag = lag
        self.waiting = {}  # (source, dest) -> messages, in order
        self.lock = threading.Lock()

    def send(self, source, dest, data):
        with self.lock:
            self.messages_sent += 1
            queue = self.waiting.get((source, dest))
            if queue or self.rng.random() < self.lag:
                self.waiting.setdefault((source, dest), []).append(Message(source, data))
            else:
                self.deliver(Message(source, data), dest)

    def release_some(self, dest):
        with self.lock:
            for pair in [p for p, q in self.waiting.items() if p[1] == dest and q]:
                if self.rng.random() < 0.5:
                    for message in self.waiting.pop(pair):
                        self.deliver(message, dest)

    def transport(self, rank):
        network = self

        class Overtaken(LocalTransport):
            def poll(self):
                network.release_some(self.rank)
                return super().poll()

        return Overtaken(self, rank)


def run_islands(
    tmp_path,
    sizes,
    pollination,
    generations=30,
    probability=0.9,
    topology=None,
    slow_rank=None,
    network=None,
    **kwargs,
):
    plan = plan_islands(
        sum(sizes),
        island_sizes=sizes,
        migration_topology=topology,
        migration_probability=probability,
    )
    network = network or LocalNetwork(plan.num_workers)
    workers = []
    for rank, island in enumerate(plan.island_of_worker()):
        rng = random.Random(rank)
        cls = Pollinator if pollination else Migrator

        def loss(params, rank=rank):
            if rank == slow_rank:
                time.sleep(0.002)
            return sphere(params)

        transport = network.transport(rank)
        workers.append(
            cls(
                loss,
                get_default_propagator(4, LIMITS_3D, rng=rng),
                rng,
                island_idx=island,
                generations=generations,
                checkpoint_path=tmp_path,
                migration_topology=[list(r) for r in plan.topology],
                migration_prob=probability,
                island_displs=list(plan.displs),
                island_counts=list(plan.sizes),
                transport=transport,
                collectives=transport,
                rank=rank,
                **kwargs,
            )
        )
    threads = [
        threading.Thread(target=w.propulate, kwargs={"logging_interval": 0}, daemon=True)
        for w in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "hang"
    return plan, workers


def island_views(plan, workers):
    """Active keys per island; asserts every worker of an island agrees."""
    views = {}
    for worker in workers:
        active = frozenset(ind.key for ind in worker.population if ind.active)
        if worker.island_idx in views:
            assert views[worker.island_idx] == active, "workers of one island disagree"
        views[worker.island_idx] = active
    return views


@pytest.mark.parametrize("sizes", [(2, 2), (1, 2, 1), (3, 1)])
@pytest.mark.parametrize("seed", [None, 0, 1])
def test_real_migration_moves_without_loss_or_duplication(tmp_path, sizes, seed):
    network = None if seed is None else OvertakingNetwork(sum(sizes), seed)
    plan, workers = run_islands(tmp_path, sizes, pollination=False, slow_rank=0, network=network)
    views = island_views(plan, workers)
    everyone = Counter(key for active in views.values() for key in active)
    evaluated = {(r, g) for r in range(plan.num_workers) for g in range(30)}
    assert set(everyone) == evaluated  # nothing lost
    assert max(everyone.values()) == 1  # nothing active on two islands
    sent = sum(w.migration_policy.sent for w in workers)
    received = sum(w.migration_policy.received for w in workers)
    assert sent == received > 0
    moved = [
        k
        for k in evaluated
        if not any(k in v for i, v in views.items() if i == plan.island_of_worker()[k[0]])
    ]
    assert moved, "some individuals must have left their home island"
    # Progress counts the evaluations of the island, not the immigrants it took in.
    for worker in workers:
        assert worker.known.bred_on[worker.island_idx] == plan.sizes[worker.island_idx] * 30


def test_custom_topology_is_respected(tmp_path):
    # Island 0 sends to 1, island 1 sends nothing.
    plan, workers = run_islands(tmp_path, (2, 2), pollination=False, topology=[[0, 2], [0, 0]])
    views = island_views(plan, workers)
    home = plan.island_of_worker()
    assert all(home[key[0]] == 0 for key in views[1] if home[key[0]] != 1)
    assert not any(home[key[0]] == 1 for key in views[0])  # nobody came from island 1
    assert sum(w.migration_policy.sent for w in workers if w.island_idx == 1) == 0


@pytest.mark.parametrize("sizes", [(2, 2), (1, 1, 2), (3, 3)])
@pytest.mark.parametrize("seed", [None, 0, 1])
def test_pollination_replaces_exactly_what_it_receives(tmp_path, sizes, seed):
    # With seeds, messages of different senders overtake each other: copies of one individual
    # reach an island from several workers, and its breeder's result may come after a copy.
    network = None if seed is None else OvertakingNetwork(sum(sizes), seed)
    plan, workers = run_islands(tmp_path, sizes, pollination=True, network=network)
    views = island_views(plan, workers)
    for island, size in enumerate(plan.sizes):
        members = [w for w in workers if w.island_idx == island]
        received = sum(w.migration_policy.received for w in members)
        replaced = sum(w.migration_policy.replaced for w in members)
        assert received == replaced
        assert len(views[island]) == size * 30  # as many active as the island evaluated
    assert sum(w.migration_policy.received for w in workers) > 0


def test_island_resume_keeps_migration_state(tmp_path):
    plan, first = run_islands(tmp_path, (2, 2), pollination=False, generations=10)
    before = island_views(plan, first)
    plan, second = run_islands(
        tmp_path, (2, 2), pollination=False, generations=10, probability=0.0
    )  # nothing new happens: pure resume
    assert island_views(plan, second) == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"world_size": 4, "num_islands": 5, "migration_topology": [[0] * 5] * 5},
            "more than the 4 worker",
        ),
        ({"world_size": 6, "ranks_per_worker": 4}, "multiple of 4"),
        ({"world_size": 4, "island_sizes": [2, 1]}, "add up to 3"),
        ({"world_size": 4, "num_islands": 2, "migration_topology": [[0, 1]]}, "2 x 2"),
        ({"world_size": 4, "num_islands": 2, "migration_topology": [[1, 1], [1, 0]]}, "itself"),
        ({"world_size": 4, "num_islands": 2, "migration_probability": 1.5}, "a probability in"),
        ({"world_size": 4, "num_islands": 2, "migration_topology": [[0, -1], [1, 0]]}, ">= 0"),
        ({"world_size": 4, "num_islands": True}, "num_islands=True must be an int >= 1"),
        ({"world_size": 4, "island_sizes": [2, 0]}, r"island_sizes\[1\]=0"),
    ],
)
def test_bad_island_configurations_are_clear_errors(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        plan_islands(**kwargs)


@pytest.mark.parametrize("cls", [Migrator, Pollinator])
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"migration_prob": 1.5}, "{cls}: migration_prob=1.5 must be a probability in [0, 1]"),
        ({"migration_prob": -0.1}, "migration_prob=-0.1 must be a probability"),
        ({"migration_prob": float("nan")}, "migration_prob=nan must be a probability"),
        ({"migration_topology": [[5]]}, "migration_topology[0][0]=5 must be 0"),
        ({"migration_topology": [[0, 1], [1, 0]]}, "must be a 1 x 1 matrix"),
        (
            {"migration_topology": [[0, 1], [-1, 0]], "island_counts": [1, 1],
             "island_displs": [0, 1]},
            "migration_topology[1][0]=-1 must be a whole number >= 0",
        ),
        (
            {"migration_topology": [[0, 0.5], [1, 0]], "island_counts": [1, 1],
             "island_displs": [0, 1]},
            "migration_topology[0][1]=0.5 must be a whole number",
        ),
        ({"migration_topology": 3}, "migration_topology=3 must be a 1 x 1 matrix"),
    ],
)  # fmt: skip
def test_migrator_and_pollinator_validate_their_own_arguments(tmp_path, cls, kwargs, message):
    rng = random.Random(0)
    message = message.format(cls=cls.__name__)
    with pytest.raises(ConfigurationError) as error:
        cls(sphere, get_default_propagator(4, LIMITS_3D, rng=rng), rng, checkpoint_path=tmp_path,
            **kwargs)  # fmt: skip
    assert message in str(error.value)
    assert str(error.value).endswith(".") and "e.g." in str(error.value)


def test_numpy_numbers_are_accepted_and_bools_refused(tmp_path):
    import numpy as np

    from propulate import Propulator

    rng = random.Random(0)
    propagator = get_default_propagator(4, LIMITS_3D, rng=rng)
    p = Propulator(sphere, propagator, rng, generations=np.int64(3), checkpoint_path=tmp_path,
                   migration_prob=np.float32(0.5))  # fmt: skip
    assert p.generations == 3 and type(p.generations) is int
    m = Migrator(sphere, propagator, rng, checkpoint_path=tmp_path, migration_prob=np.float64(1.0),
                 migration_topology=np.zeros((1, 1), dtype=np.int64))  # fmt: skip
    assert m.migration_policy.probability == 1.0
    with pytest.raises(ConfigurationError, match="generations=True must be an int >= 0 or -1"):
        Propulator(sphere, propagator, rng, generations=True, checkpoint_path=tmp_path)
    assert plan_islands(np.int64(4), num_islands=np.int32(2)).sizes == (2, 2)


def test_equal_sizes_differ_by_at_most_one():
    assert plan_islands(7, num_islands=3).sizes == (3, 2, 2)
    assert plan_islands(8, num_islands=2, ranks_per_worker=2).sizes == (2, 2)


def test_more_islands_than_workers_runs_one_island_per_worker_as_12_did():
    with pytest.warns(UserWarning, match="num_islands=5 is more than the 4 worker"):
        assert plan_islands(4, num_islands=5).sizes == (1, 1, 1, 1)
