"""Early stopping under mpirun: ranks sharing what their rules learn, multi-rank workers, resume."""

from __future__ import annotations

import math
import random

import pytest

from propulate import ASHA, MedianStoppingRule, Propulator
from propulate.population import Status
from propulate.utils import get_default_propagator

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(4)}
STEPS = 9


def curve_of(params) -> list[float]:
    asymptote = 1.0 + sum(float(v) ** 2 for v in params.values()) / 10.0
    return [asymptote + (10.0 - asymptote) * math.exp(-t / 3.0) for t in range(1, STEPS + 1)]


def learning_curve(params):
    yield from curve_of(params)


def make(loss, generations, path, factory, **kwargs):
    from mpi4py import MPI

    comm = kwargs.pop("island_comm", MPI.COMM_WORLD)
    rng = random.Random(MPI.COMM_WORLD.rank)
    return Propulator(
        loss,
        get_default_propagator(4, LIMITS, rng=rng),
        rng,
        island_comm=comm,
        propulate_comm=kwargs.pop("propulate_comm", comm),
        generations=generations,
        checkpoint_path=path,
        surrogate_factory=factory,
        **kwargs,
    )


def outcomes(propulator):
    return sorted(
        (ind.key, ind.status, tuple(ind.curve), ind.loss) for ind in propulator.population
    )


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("rule", [lambda: MedianStoppingRule(min_runs=2), lambda: ASHA()])
def test_ranks_share_what_their_rules_learn(shared_tmp_path, rule):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    generations = 12
    propulator = make(learning_curve, generations, shared_tmp_path / "run", rule)
    propulator.propulate(logging_interval=0)
    mine = outcomes(propulator)
    everyone = comm.allgather(mine)
    assert all(other == everyone[0] for other in everyone)
    assert len(mine) == generations * comm.size
    statuses = [status for _, status, _, _ in mine]
    assert statuses.count(Status.PRUNED) > 0 and statuses.count(Status.OK) > 0
    for _, status, curve, loss in mine:
        assert loss == curve[-1]
        assert (len(curve) == STEPS) == (status == Status.OK)
    # Every rank's rule learned every run of the island, its peers' included.
    surrogate = propulator.surrogate
    assert surrogate.completed_runs == statuses.count(Status.OK)
    if isinstance(surrogate, MedianStoppingRule):
        assert len(surrogate._by_step[0]) == len(mine)
    else:
        assert len(surrogate._rungs[1]) == len(mine)


@pytest.mark.mpi(min_size=2)
def test_multi_rank_workers_stop_together(shared_tmp_path):
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    worker = world.Split(world.rank // 2, world.rank)  # pairs of ranks (one alone at odd sizes)
    leaders = world.Split(0 if worker.rank == 0 else MPI.UNDEFINED, world.rank)
    seen = []  # (params, values this rank yielded)

    def loss(params, comm=None):  # a worker of one rank (odd sizes) gets no communicator
        yielded = 0
        try:
            for value in curve_of(params):
                if comm is not None:  # the ranks compute together: a collective per step (DDP)
                    value = comm.allreduce(value, op=MPI.MAX)
                yielded += 1
                yield value
        finally:
            seen.append((tuple(params.values()), yielded))

    propulator = make(
        loss,
        8,
        shared_tmp_path,
        lambda: MedianStoppingRule(min_runs=2),
        island_comm=leaders,
        propulate_comm=leaders,
        worker_sub_comm=worker,
    )
    propulator.propulate(logging_interval=0)
    steps = None
    if worker.rank == 0:  # the steps of this worker's individuals, in the order evaluated
        own = sorted(
            (ind for ind in propulator.population if ind.worker == propulator._identity()),
            key=lambda ind: ind.generation,
        )
        steps = [(tuple(ind.values()), len(ind.curve)) for ind in own]
    steps = worker.bcast(steps, root=0)
    # Each rank of a worker took exactly the steps its leader recorded: the stop was shared.
    assert seen == steps
    pruned = sum(n < STEPS for _, n in steps)
    assert world.allreduce(pruned, op=MPI.SUM) > 0


@pytest.mark.mpi(min_size=2)
def test_resume_with_pruned_individuals(shared_tmp_path):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    path = shared_tmp_path / "resume"

    def rule():
        return MedianStoppingRule(min_runs=2)

    first = make(learning_curve, 8, path, rule)
    first.propulate(logging_interval=0)
    before = outcomes(first)
    assert any(status == Status.PRUNED for _, status, _, _ in before)
    comm.Barrier()

    second = make(learning_curve, 12, path, rule)
    second.propulate(logging_interval=0)
    after = outcomes(second)
    assert len(after) == 12 * comm.size
    assert set(before) <= set(after)  # every record, pruned ones included, as it was
    assert second.evaluations_this_run == 4
    # The fresh rule relearned the first run from the checkpoint, then followed the second.
    statuses = [status for _, status, _, _ in after]
    assert second.surrogate.completed_runs == statuses.count(Status.OK)
    assert len(second.surrogate._by_step[0]) == len(after)
    assert all(other == after for other in comm.allgather(after))


@pytest.mark.mpi(min_size=1)
def test_generator_curves_without_a_surrogate(shared_tmp_path):
    from mpi4py import MPI

    propulator = make(learning_curve, 5, shared_tmp_path, None)
    propulator.propulate(logging_interval=0)
    mine = outcomes(propulator)
    assert len(mine) == 5 * MPI.COMM_WORLD.size
    assert all(status == Status.OK and len(curve) == STEPS for _, status, curve, _ in mine)
    assert propulator.surrogate is None


@pytest.mark.mpi(min_size=2)
def test_islands_with_a_surrogate_factory(shared_tmp_path):
    from mpi4py import MPI

    from propulate import Islands

    comm = MPI.COMM_WORLD
    rng = random.Random(comm.rank)
    islands = Islands(
        learning_curve,
        get_default_propagator(4, LIMITS, rng=rng),
        rng,
        generations=10,
        num_islands=2,
        migration_probability=0.5,
        checkpoint_path=shared_tmp_path,
        surrogate_factory=lambda: MedianStoppingRule(min_runs=2),
    )
    islands.propulate(logging_interval=0, debug=0)
    propulator = islands.propulator
    population = propulator.population
    statuses = [ind.status for ind in population]
    # Each rank's rule learned exactly the runs it knows: its island's and the immigrants'.
    assert propulator.surrogate.completed_runs == statuses.count(Status.OK)
    assert len(propulator.surrogate._by_step[0]) == len(population)
    own = [ind for ind in population if ind.worker == propulator._identity()]
    assert len(own) == 10
    pruned = sum(ind.status == Status.PRUNED for ind in population)
    assert comm.allreduce(pruned, op=MPI.SUM) > 0
