"""Propulate 1.2's view of a run under mpirun: summaries per rank, the communicators."""

from __future__ import annotations

import random

import pytest

from propulate import Individual, Islands, Propulator
from propulate.utils import get_default_propagator

LIMITS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0)}


def sphere(params):
    return sum(v * v for v in params.values())


def world():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def make_islands(path, num_islands):
    rng = random.Random(world().rank)
    propagator = get_default_propagator(4, LIMITS, rng=rng)
    return Islands(sphere, propagator, rng, generations=6, num_islands=num_islands,
                   checkpoint_path=path)  # fmt: skip


@pytest.mark.mpi(min_size=1)
def test_summarize_has_one_entry_per_rank_as_in_12(shared_tmp_path):
    islands = make_islands(shared_tmp_path, min(2, world().size))
    islands.propulate(logging_interval=0, debug=0)
    per_island = islands.summarize_islands(top_n=2, debug=0)
    per_rank = islands.summarize(top_n=2, debug=1)
    assert len(per_rank) == world().size
    mine = per_rank[world().rank]  # 1.2 scripts index the summary by their rank
    assert [i.key for i in mine] == [i.key for i in per_island[islands.island_idx]]
    assert len(mine) == 2 and mine[0].loss <= mine[1].loss
    islands_of = world().allgather(islands.island_idx)
    for rank, best in enumerate(per_rank):
        assert [i.key for i in best] == [i.key for i in per_island[islands_of[rank]]]
    single = islands.summarize(top_n=2, debug=0)  # 1.2: debug=0 gives one individual per rank
    assert isinstance(single[world().rank], Individual)
    assert single[world().rank].key == mine[0].key


@pytest.mark.mpi(min_size=1)
def test_the_communicators_of_12(shared_tmp_path):
    from mpi4py import MPI

    rng = random.Random(world().rank)
    propulator = Propulator(sphere, get_default_propagator(4, LIMITS, rng=rng), rng,
                            generations=2, checkpoint_path=shared_tmp_path)  # fmt: skip
    assert propulator.island_comm is MPI.COMM_WORLD
    assert propulator.propulate_comm is MPI.COMM_WORLD
    assert propulator.worker_sub_comm is MPI.COMM_SELF
    world().Barrier()
    islands = make_islands(shared_tmp_path / "islands", min(2, world().size))
    p = islands.propulator
    assert p.propulate_comm.size == world().size
    assert p.island_comm.size == world().allgather(islands.island_idx).count(islands.island_idx)
    assert p.worker_sub_comm.size == 1


def tagged_sphere(params):
    loss = sphere(params)  # before tagging: values() includes the '_' keys, as in 1.2
    params["_where"] = {"rank": world().rank, "norm": [abs(params["a"]), abs(params["b"])]}
    return loss


@pytest.mark.mpi(min_size=1)
def test_underscore_keys_travel_to_every_rank_and_into_the_checkpoint(shared_tmp_path):
    from propulate.results import load_results

    rng = random.Random(world().rank)
    propulator = Propulator(tagged_sphere, get_default_propagator(4, LIMITS, rng=rng), rng,
                            generations=4, checkpoint_path=shared_tmp_path)  # fmt: skip
    propulator.propulate(logging_interval=0)
    population = propulator.population
    assert len(population) == 4 * world().size
    for ind in population:  # bred and evaluated on any rank, received over MPI
        assert ind.status == "ok"
        assert ind["_where"] == {"rank": ind.worker, "norm": [abs(ind["a"]), abs(ind["b"])]}
    world().Barrier()
    records = load_results(shared_tmp_path)
    assert len(records) == 4 * world().size
    assert all(r["extras"]["_where"]["rank"] == r["rank"] for r in records)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("probability", [0.0, 0.9])
def test_individual_rank_is_the_island_rank(shared_tmp_path, probability):
    islands = make_islands(shared_tmp_path, 2)
    if probability:
        islands = Islands(sphere, get_default_propagator(4, LIMITS, rng=random.Random(0)),
                          random.Random(world().rank), generations=6, num_islands=2,
                          migration_probability=probability, pollination=False,
                          checkpoint_path=shared_tmp_path / "migrating")  # fmt: skip
    islands.propulate(logging_interval=0, debug=0)
    first = islands.plan.displs
    for ind in islands.propulator.population:
        assert ind.rank == ind.worker - first[ind.island]
    mine = [i for i in islands.propulator.population if i.worker == world().rank]
    assert len(mine) >= 1 and {i.rank for i in mine} == {islands.propulator.island_comm.rank}
