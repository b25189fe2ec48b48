"""Generator loss functions and early stopping in the loop, over the in-memory transport."""

from __future__ import annotations

import math
import random
import threading
from typing import Any

import numpy as np
import pytest

from propulate import MedianStoppingRule, Propulator, StaticSurrogate, Surrogate
from propulate.checkpoint import log_files, read_log
from propulate.comm.local import LocalNetwork, LocalWorker
from propulate.population import Status
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, run_local

STEPS = 8


def asymptote(params: Any) -> float:
    return 1.0 + sum(float(v) ** 2 for v in params.values()) / 10.0


def curve_of(params: Any) -> list[float]:
    a = asymptote(params)
    return [a + (10.0 - a) * math.exp(-t / 3.0) for t in range(1, STEPS + 1)]


def learning_curve(params: Any):
    """Exponential decay from 10 to a parameter-dependent asymptote: one value per 'epoch'."""
    yield from curve_of(params)


def by_key(p: Propulator) -> dict[tuple[int, int], Any]:
    return {ind.key: ind for ind in p.population}


def test_generator_curves_reach_every_rank_and_the_checkpoint(tmp_path):
    propulators = run_local(3, tmp_path, loss_fn=learning_curve, generations=6)
    reference = by_key(propulators[0])
    assert len(reference) == 18
    for p in propulators:
        for key, ind in by_key(p).items():
            assert ind.status == Status.OK
            assert ind.curve == pytest.approx(curve_of(ind))
            assert ind.loss == ind.curve[-1]
            assert ind.curve == reference[key].curve
    space = propulators[0].search_space
    stored = [ind for path in log_files(tmp_path) for ind in read_log(path, space)[1]]
    assert len(stored) == 18
    assert all(ind.curve == pytest.approx(curve_of(ind)) for ind in stored)


def pruning_run(tmp_path, generations, size=3, factory=None, **kwargs):
    made: list[Surrogate] = []

    def make() -> Surrogate:
        surrogate = (factory or (lambda: MedianStoppingRule(min_runs=3)))()
        made.append(surrogate)
        return surrogate

    propulators = run_local(
        size,
        tmp_path,
        loss_fn=learning_curve,
        generations=generations,
        surrogate_factory=make,
        **kwargs,
    )
    return propulators, made


def test_pruned_individuals_are_recorded_shared_and_breed(tmp_path):
    propulators, surrogates = pruning_run(tmp_path, generations=15)
    population = propulators[0].population
    pruned = [ind for ind in population if ind.status == Status.PRUNED]
    completed = [ind for ind in population if ind.status == Status.OK]
    assert len(population) == 45 and len(pruned) > 5 and len(completed) > 5
    for ind in pruned:
        full = curve_of(ind)
        steps = len(ind.curve)  # the step it reached
        assert 1 <= steps < STEPS
        assert ind.curve == pytest.approx(full[:steps]) and ind.loss == ind.curve[-1]
    for ind in completed:
        assert len(ind.curve) == STEPS
    # Every rank holds the same outcome for every individual.
    for p in propulators[1:]:
        other = by_key(p)
        assert {k: (i.status, i.curve) for k, i in by_key(propulators[0]).items()} == {
            k: (i.status, i.curve) for k, i in other.items()
        }
    # Each rank's rule learned every run of the island: its own through update(), its peers'
    # through their result records (nothing extra was shipped).
    for surrogate in surrogates:
        assert isinstance(surrogate, MedianStoppingRule)
        assert surrogate.completed_runs == len(completed)
        assert len(surrogate._by_step[0]) == len(population)
    assert all(not hasattr(ind, "surrogate") for ind in population)
    # The breeding rule: pruned individuals compete with their last value; summaries skip them.
    active = propulators[0].known.active
    assert sum(ind.status == Status.PRUNED for ind in active) == len(pruned)
    assert all(ind.status == Status.OK for ind in propulators[0].best(5))
    # Parameters are untouched by the surrogate's bookkeeping.
    assert all(set(ind) == set(LIMITS_3D) for ind in population)


def test_resume_with_pruned_individuals(tmp_path):
    first, _ = pruning_run(tmp_path, generations=10)
    before = {k: (i.status, i.curve, i.loss) for k, i in by_key(first[0]).items()}
    assert any(status == Status.PRUNED for status, _, _ in before.values())

    # Same budget: nothing new is evaluated, and the fresh rules relearn everything on resume.
    again, surrogates = pruning_run(tmp_path, generations=10)
    assert all(p.evaluations_this_run == 0 for p in again)
    completed = sum(status == Status.OK for status, _, _ in before.values())
    for surrogate in surrogates:
        assert isinstance(surrogate, MedianStoppingRule)
        assert surrogate.completed_runs == completed
        assert len(surrogate._by_step[0]) == len(before)

    # A larger budget continues with everything it had, pruned individuals included.
    more, _ = pruning_run(tmp_path, generations=16)
    after = {k: (i.status, i.curve, i.loss) for k, i in by_key(more[0]).items()}
    assert len(after) == 48
    assert {k: after[k] for k in before} == before


class LegacySurrogate(Surrogate):
    """A Propulate-1.2-style surrogate: shares its own data (numpy) through merge/data."""

    def __init__(self) -> None:
        self.merged: list[Any] = []
        self.values: list[float] = []
        self.runs = 0

    def start_run(self, ind):
        self.values = []

    def update(self, loss):
        self.runs += 1

    def cancel(self, loss):
        self.values.append(loss)
        return False

    def merge(self, data):
        self.merged.append(data)

    def data(self):
        return {"runs": np.int64(self.runs), "curve": np.array(self.values)}


def test_a_custom_surrogate_shares_its_data_with_the_results(tmp_path):
    propulators, surrogates = pruning_run(tmp_path, generations=5, factory=LegacySurrogate)
    for p, surrogate in zip(propulators, surrogates, strict=True):
        assert isinstance(surrogate, LegacySurrogate)
        peers = [ind for ind in p.population if ind.rank != p._identity()]
        assert len(surrogate.merged) == len(peers) == 10
        for data in surrogate.merged:
            assert isinstance(data["curve"], list) and len(data["curve"]) == STEPS
        assert all(set(ind) == set(LIMITS_3D) for ind in p.population)
    # ... and the data travel in the checkpoint, so a resumed rank merges them again.
    _, resumed = pruning_run(tmp_path, generations=5, factory=LegacySurrogate)
    assert all(len(s.merged) == 15 for s in resumed)  # type: ignore[attr-defined]


def test_multi_rank_workers_stop_together(tmp_path):
    workers, ranks_per_worker, generations = 2, 2, 8
    seen: list[tuple[int, tuple[Any, ...], int]] = []  # (rank in worker, params, values yielded)
    lock = threading.Lock()

    def loss(params, comm):
        assert comm.startswith("local-worker-")
        count = 0
        try:
            for value in curve_of(params):
                count += 1
                yield value
        finally:
            with lock:
                seen.append((id(threading.current_thread()), tuple(params.values()), count))

    network = LocalNetwork(workers)
    runners = []
    for w in range(workers):
        worker = LocalWorker(ranks_per_worker)
        for r in range(ranks_per_worker):
            rng = random.Random(10 * w + r)
            transport = network.transport(w) if r == 0 else LocalNetwork(1).transport(0)
            runners.append(
                Propulator(
                    loss,
                    get_default_propagator(4, LIMITS_3D, rng=rng),
                    rng,
                    generations=generations,
                    checkpoint_path=tmp_path,
                    surrogate_factory=lambda: MedianStoppingRule(min_runs=2),
                    transport=transport,
                    collectives=transport,
                    worker_group=worker.group(r),
                    rank=w,
                )
            )
    errors: list[BaseException] = []

    def work(p: Propulator) -> None:
        try:
            p.propulate(logging_interval=0)
        except BaseException as error:  # noqa: BLE001  # handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(p,), daemon=True) for p in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a rank did not finish: the loop hangs"
    assert not errors, errors
    leaders = runners[::ranks_per_worker]
    population = leaders[0].population
    assert len(population) == workers * generations
    assert any(ind.status == Status.PRUNED for ind in population)
    # Every rank of a worker saw exactly as many values as the leader recorded.
    # (A child can repeat a parent's values when no operator fired: key by values -> lengths.)
    recorded: dict[tuple[Any, ...], set[int]] = {}
    for ind in population:
        recorded.setdefault(tuple(ind.values()), set()).add(len(ind.curve))
    assert len(seen) == workers * ranks_per_worker * generations
    for _, values, count in seen:
        assert count in recorded[values]


def test_a_broken_surrogate_stops_the_run_without_hanging(tmp_path):
    class Broken(StaticSurrogate):
        def cancel(self, loss):
            raise ZeroDivisionError("surrogate bug")

    with pytest.raises(ZeroDivisionError, match="surrogate bug"):
        pruning_run(tmp_path, generations=3, size=2, factory=Broken)
