"""Islands under mpirun: layouts, migration invariants, pollination, multi-rank workers, resume."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from propulate import ConfigurationError, Islands
from propulate.utils import get_default_propagator

LIMITS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0), "c": (-5.0, 5.0)}


def sphere(params):
    return sum(v * v for v in params.values())


def world():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def make_islands(path, generations=20, loss=sphere, **kwargs):
    rng = random.Random(world().rank)
    return Islands(
        loss,
        get_default_propagator(4, LIMITS, rng=rng),
        rng,
        generations=generations,
        checkpoint_path=path,
        **kwargs,
    )


def gathered_views(islands):
    """(island, active keys, all keys) of every worker leader, on every rank."""
    p = islands.propulator
    mine = (
        islands.island_idx,
        sorted(i.key for i in p.population if i.active),
        sorted(i.key for i in p.population),
        world().rank % islands.plan.ranks_per_worker,
    )
    return [v for v in world().allgather(mine) if v[3] == 0]


def check_migration_invariants(views, expected_total):
    per_island = {}
    for island, active, _, _ in views:
        per_island.setdefault(island, active)
        assert per_island[island] == active, "workers of one island disagree"
    counts = Counter(tuple(key) for active in per_island.values() for key in active)
    assert max(counts.values()) == 1, "an individual is active on two islands"
    assert len(counts) == expected_total, "an individual got lost"


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("num_islands", [2, 3])
def test_real_migration_invariants(shared_tmp_path, num_islands):
    if world().size < num_islands:
        pytest.skip("needs a worker per island")
    islands = make_islands(
        shared_tmp_path, num_islands=num_islands, pollination=False, migration_probability=0.9
    )
    islands.propulate(logging_interval=0, debug=0)
    check_migration_invariants(gathered_views(islands), 20 * world().size)
    sent = world().allreduce(islands.propulator.migration_policy.sent)
    received = world().allreduce(islands.propulator.migration_policy.received)
    assert sent == received > 0


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(120)
def test_islands_without_migration_search_apart(shared_tmp_path):
    # The default migration_probability is 0: every island is a Propulator of its own that
    # knows no other island (its ranks on island 1 and above used to fail at start).
    islands = make_islands(shared_tmp_path, num_islands=2)
    islands.propulate(logging_interval=0, debug=0)
    views = gathered_views(islands)
    sizes = islands.plan.sizes
    for island, active, known, _ in views:
        # An island knows its own workers' individuals, all of them, and nothing else.
        assert len(known) == len(active) == 20 * sizes[island]
    islands_known = {island: set(map(tuple, known)) for island, _, known, _ in views}
    assert not islands_known[0] & islands_known[1]


@pytest.mark.mpi(min_size=3)
def test_heterogeneous_sizes_and_custom_topology(shared_tmp_path):
    size = world().size
    islands = make_islands(
        shared_tmp_path,
        island_sizes=[size - 1, 1],
        pollination=False,
        migration_topology=[[0, 2], [1, 0]],
        migration_probability=0.5,
    )
    assert islands.plan.sizes == (size - 1, 1)
    islands.propulate(logging_interval=0, debug=0)
    check_migration_invariants(gathered_views(islands), 20 * size)


@pytest.mark.mpi(min_size=2)
def test_pollination_replaces_exactly_what_it_receives(shared_tmp_path):
    islands = make_islands(
        shared_tmp_path, num_islands=2, pollination=True, migration_probability=0.9
    )
    islands.propulate(logging_interval=0, debug=0)
    policy = islands.propulator.migration_policy
    stats = world().allgather((islands.island_idx, policy.received, policy.replaced))
    views = gathered_views(islands)
    for island, size in enumerate(islands.plan.sizes):
        received = sum(r for i, r, _ in stats if i == island)
        replaced = sum(r for i, _, r in stats if i == island)
        assert received == replaced
        for active in [a for i, a, _, _ in views if i == island]:
            assert len(active) == 20 * size  # every worker of the island counts the same
    assert sum(r for _, r, _ in stats) > 0


@pytest.mark.mpi(min_size=4)
def test_multi_rank_workers_share_params_and_use_the_worker_comm(shared_tmp_path):
    if world().size % 2:
        pytest.skip("needs an even number of ranks")
    seen = []

    def loss(params, comm):
        seen.append(dict(params))
        # A data-parallel style reduction over the worker's ranks.
        total = comm.allreduce(sphere(params))
        return total / comm.size + comm.rank  # only the first rank's value must count

    islands = make_islands(
        shared_tmp_path,
        generations=6,
        loss=loss,
        num_islands=2,
        ranks_per_worker=2,
        migration_probability=0.5,
    )
    islands.propulate(logging_interval=0, debug=0)
    everyone = world().allgather(seen)
    for first in range(0, world().size, 2):
        assert everyone[first] == everyone[first + 1] and len(everyone[first]) == 6
    if world().rank % 2 == 0:
        for ind in islands.propulator.population:
            assert ind.loss == pytest.approx(sphere(ind))  # rank 0 of the worker: + 0
    best = islands.summarize_islands(top_n=2, debug=0)
    assert len(best) == 2  # every rank, the followers too, gets the summary
    assert (
        world().allgather([[i.loss for i in b] for b in best])[1:]
        == world().allgather([[i.loss for i in b] for b in best])[:-1]
    )


@pytest.mark.mpi(min_size=2)
def test_island_run_resumes(shared_tmp_path):
    islands = make_islands(
        shared_tmp_path, generations=8, num_islands=2, pollination=False, migration_probability=0.9
    )
    islands.propulate(logging_interval=0, debug=0)
    first = gathered_views(islands)
    resumed = make_islands(
        shared_tmp_path, generations=8, num_islands=2, pollination=False, migration_probability=0.9
    )
    # The resumed populations equal the final ones, before anything runs.
    assert gathered_views(resumed) == first
    more = make_islands(
        shared_tmp_path, generations=12, num_islands=2, pollination=False, migration_probability=0.9
    )
    more.propulate(logging_interval=0, debug=0)
    check_migration_invariants(gathered_views(more), 12 * world().size)


@pytest.mark.mpi(min_size=1)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_islands": 10_000, "migration_topology": [[0, 1], [1, 0]]},
        {"island_sizes": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]},
        {"ranks_per_worker": 10_000},
        {"num_islands": 1, "migration_probability": -0.1},
    ],
)
def test_bad_configuration_fails_fast_on_every_rank(shared_tmp_path, kwargs):
    with pytest.raises(ConfigurationError):
        make_islands(shared_tmp_path, **kwargs)
    world().Barrier()  # every rank got here: nobody is left waiting in a split
