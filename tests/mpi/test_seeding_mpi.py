"""Seeds and warm starts under mpirun, at whatever size the job has."""

from __future__ import annotations

import random

import pytest

from propulate import Islands, Propulator
from propulate.results import load_results
from propulate.utils import get_default_propagator
from propulate.warm_start import IMPORTED_KEY

LIMITS = {"x": (-5.0, 5.0), "y": (-5.0, 5.0), "act": ("relu", "tanh")}
OPTIMUM = {"x": 0.5, "y": -1.5, "act": "tanh"}


def loss(params):
    return (params["x"] - 0.5) ** 2 + (params["y"] + 1.5) ** 2 + (params["act"] != "tanh")


def other_seeds(count):
    return [{"x": -4.0 + 0.5 * k, "y": 4.0 - 0.25 * k, "act": "relu"} for k in range(count)]


def world():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def evaluated_records(path):
    return [r for r in load_results(path) if IMPORTED_KEY not in r["extras"]]


@pytest.mark.mpi(min_size=1)
def test_a_seeded_optimum_is_evaluation_one_and_every_seed_runs_once(shared_tmp_path):
    comm = world()
    calls = []

    def counting(params):
        calls.append(params.values_dict())
        return loss(params)

    seeds = [OPTIMUM, *other_seeds(2 * comm.size + 1)]
    rng = random.Random(comm.rank)
    propulator = Propulator(counting, get_default_propagator(4, LIMITS, rng=rng), rng,
                            island_comm=comm, generations=5, checkpoint_path=shared_tmp_path,
                            seeds=seeds)  # fmt: skip
    propulator.propulate(logging_interval=0)
    if comm.rank == 0:
        assert calls[0] == OPTIMUM  # the first evaluation of the run
    best = propulator.best(1)[0]  # every rank knows it at the end
    assert best.values_dict() == OPTIMUM and (best.worker, best.generation) == (0, 0)
    comm.Barrier()
    records = evaluated_records(shared_tmp_path)
    for i, config in enumerate(seeds):
        holders = [(r["rank"], r["generation"]) for r in records if r["params"] == config]
        assert holders == [(i % comm.size, i // comm.size)]


@pytest.mark.mpi(min_size=2)
def test_seeds_run_once_over_several_islands(shared_tmp_path):
    comm = world()
    seeds = [OPTIMUM, *other_seeds(5)]
    rng = random.Random(comm.rank)
    islands = Islands(loss, get_default_propagator(4, LIMITS, rng=rng), rng, generations=6,
                      num_islands=2, migration_probability=0.3, checkpoint_path=shared_tmp_path,
                      seeds=seeds)  # fmt: skip
    islands.propulate(logging_interval=0, debug=0)
    comm.Barrier()
    records = evaluated_records(shared_tmp_path)
    for config in seeds:
        assert sum(r["params"] == config for r in records) == 1
    by_island = {r["island"] for r in records if r["params"] in seeds}
    assert by_island == {0, 1}  # a few seeds already reach both islands
    first = next(r for r in records if r["params"] == OPTIMUM)
    assert (first["rank"], first["generation"], first["island"]) == (0, 0, 0)


@pytest.mark.mpi(min_size=1)
def test_a_warm_start_imports_on_every_rank_without_evaluating(shared_tmp_path):
    comm = world()
    rng = random.Random(comm.rank)
    old, new = shared_tmp_path / "old", shared_tmp_path / "new"
    first = Propulator(loss, get_default_propagator(4, LIMITS, rng=rng), rng, island_comm=comm,
                       generations=4, checkpoint_path=old)  # fmt: skip
    first.propulate(logging_interval=0)
    comm.Barrier()
    calls = []

    def counting(params):
        calls.append(1)
        return loss(params)

    second = Propulator(counting, get_default_propagator(4, LIMITS, rng=rng), rng,
                        island_comm=comm, generations=3, checkpoint_path=new,
                        warm_start=old)  # fmt: skip
    second.propulate(logging_interval=0)
    assert len(calls) == 3
    imported = [ind for ind in second.population if IMPORTED_KEY in ind.extras]
    assert len(imported) == 4 * comm.size
    assert len(second.population) == 4 * comm.size + 3 * comm.size
    comm.Barrier()
    assert sum(IMPORTED_KEY in r["extras"] for r in load_results(new)) == 4 * comm.size
