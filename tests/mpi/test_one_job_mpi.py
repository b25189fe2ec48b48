"""One job per checkpoint folder under mpirun: every rank fails at once, none is left waiting."""

from __future__ import annotations

import random

import pytest

from propulate import CheckpointError, Islands, Propulator
from propulate.checkpoint import log_files, scan_log
from propulate.utils import get_default_propagator

LIMITS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0), "c": (-5.0, 5.0)}


def sphere(params):
    return sum(v * v for v in params.values())


def world():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def make_islands(path, generations, **kwargs):
    rng = random.Random(world().rank)
    return Islands(sphere, get_default_propagator(4, LIMITS, rng=rng), rng,
                   generations=generations, checkpoint_path=path, **kwargs)  # fmt: skip


def evaluated(path):
    """The keys of every evaluation recorded in the folder's logs."""
    return {ind.key for log in log_files(path) for ind in scan_log(log).individuals}


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(120)
def test_a_resume_with_another_island_layout_fails_on_every_rank(shared_tmp_path):
    migrating = {"num_islands": 2, "migration_probability": 0.9, "pollination": False}
    make_islands(shared_tmp_path, 4, **migrating).propulate(logging_interval=0, debug=0)
    world().Barrier()
    with pytest.raises(CheckpointError, match="was written by a run of"):
        make_islands(shared_tmp_path, 6, num_islands=1).propulate(logging_interval=0, debug=0)
    world().Barrier()  # every rank got here: nobody waits for a rank that failed
    make_islands(shared_tmp_path, 6, **migrating).propulate(logging_interval=0, debug=0)
    assert evaluated(shared_tmp_path) == {(r, g) for r in range(world().size) for g in range(6)}


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(120)
def test_processes_started_without_mpirun_fail_while_a_job_runs(shared_tmp_path):
    from mpi4py import MPI

    job = make_islands(shared_tmp_path, 5).propulator
    job.start(logging_interval=0)
    rng = random.Random(0)
    # What each process would be if started without mpirun: rank 0 of a run of one.
    alone = Propulator(sphere, get_default_propagator(4, LIMITS, rng=rng), rng, generations=9,
                       checkpoint_path=shared_tmp_path, island_comm=MPI.COMM_SELF,
                       propulate_comm=MPI.COMM_SELF)  # fmt: skip
    with pytest.raises(CheckpointError, match="is in use by another job"):
        alone.propulate(logging_interval=0)
    while (ind := job.ask()) is not None:
        job.tell(ind, sphere(ind))
    job.finish()
    world().Barrier()
    assert evaluated(shared_tmp_path) == {(r, g) for r in range(world().size) for g in range(5)}
