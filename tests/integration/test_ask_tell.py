"""Ask and tell: evaluations made outside the loop, recorded exactly as the loop records them."""

from __future__ import annotations

import json
import logging
import math
import random

import pytest

from propulate import Propulator
from propulate.checkpoint import read_log
from propulate.comm.local import LocalNetwork
from propulate.errors import ConfigurationError, UsageError
from propulate.population import Individual, Status
from propulate.testing import LocalIsland
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, one_propulator, sphere


def test_several_asks_may_be_outstanding_and_tells_come_in_any_order(tmp_path):
    propulator = one_propulator(tmp_path)
    asked = [propulator.ask() for _ in range(4)]
    assert [ind.generation for ind in asked] == [0, 1, 2, 3]
    assert all(ind.rank == 0 and ind.status == Status.PENDING for ind in asked)
    assert propulator.population == []  # nothing told yet
    for ind in reversed(asked):
        propulator.tell(ind, sphere(ind))
    assert {ind.key for ind in propulator.population} == {(0, g) for g in range(4)}
    assert all(ind.status == Status.OK and ind.loss == sphere(ind) for ind in asked)
    while (ind := propulator.ask()) is not None:
        propulator.tell(ind, sphere(ind))
    assert propulator.finish()
    _, records, _, torn = read_log(tmp_path / "island-0-rank-0.ckpt")
    assert [r.generation for r in records] == [3, 2, 1, 0, *range(4, 12)] and not torn
    assert (tmp_path / "island-0-rank-0.state.json").exists()


def test_ask_and_tell_is_the_loop(tmp_path):
    """The same seed gives the same individuals, whether the loop or ask and tell runs."""
    looped = one_propulator(tmp_path / "loop", seed=5)
    looped.propulate(logging_interval=0)
    told = one_propulator(tmp_path / "told", seed=5)
    with told:
        while (ind := told.ask()) is not None:
            told.tell(ind, sphere(ind))
    assert [(ind.values_dict(), ind.loss) for ind in told.population] == [
        (ind.values_dict(), ind.loss) for ind in looped.population
    ]


def test_failures_and_pruned_results_are_recorded_as_the_loop_records_them(tmp_path, caplog):
    propulator = one_propulator(tmp_path)
    a, b, c, d = (propulator.ask() for _ in range(4))
    with caplog.at_level(logging.WARNING, logger="propulate"):
        propulator.tell(a, float("nan"))
    propulator.tell(b, 3.0, status="failed", error="the solver diverged")
    propulator.tell(c, 2.5, [4.0, 3.0, 2.5], status="pruned", duration=12.0)
    propulator.tell(d, 1.0, [2.0, 1.0])
    assert "not a finite number" in caplog.text
    assert (a.status, a.loss) == (Status.FAILED, math.inf) and "nan" in a.error
    assert (b.status, b.loss, b.error) == (Status.FAILED, math.inf, "the solver diverged")
    assert (c.status, c.loss, c.curve, c.evalperiod) == (Status.PRUNED, 2.5, [4.0, 3.0, 2.5], 12.0)
    assert (d.status, d.loss, d.curve) == (Status.OK, 1.0, [2.0, 1.0])
    assert 0 <= d.evalperiod < 5  # the time since it was asked for
    e = propulator.ask()
    with pytest.raises(ConfigurationError, match="status='done' must be one of"):
        propulator.tell(e, 1.0, status="done")
    propulator.tell(e, 1.0)  # a bad status leaves the individual waiting for its result
    propulator.finish()
    _, records, _, _ = read_log(tmp_path / "island-0-rank-0.ckpt")
    assert [(r.status, r.loss) for r in records[:3]] == [
        (Status.FAILED, math.inf),
        (Status.FAILED, math.inf),
        (Status.PRUNED, 2.5),
    ]


def test_misuse_is_a_clear_error(tmp_path):
    propulator = one_propulator(tmp_path)
    ind = propulator.ask()
    stranger = Individual({"a": 0.0, "b": 0.0, "c": 0.0}, LIMITS_3D)
    with pytest.raises(UsageError, match="was not asked for in this run"):
        propulator.tell(stranger, 1.0)
    with pytest.raises(UsageError, match="was not asked for"):
        propulator.tell("not an individual", 1.0)  # type: ignore[arg-type]
    propulator.tell(ind, 1.0)
    with pytest.raises(UsageError, match="told already"):
        propulator.tell(ind, 2.0)
    with pytest.raises(UsageError, match="finish"):
        propulator.start()  # a run is open
    pending = propulator.ask()
    assert propulator.finish() and propulator.finish()  # a second finish does nothing
    assert pending.key not in propulator.known  # dropped, not recorded
    for call in (propulator.ask, propulator.absorb, lambda: propulator.tell(pending, 1.0)):
        with pytest.raises(UsageError, match="this run was finished; start"):
            call()
    propulator.start(logging_interval=0)  # a new run goes on where the last one stopped
    assert propulator.ask().generation == 2  # the dropped generation 1 is not reused


def test_finish_warns_about_individuals_never_told(tmp_path, caplog):
    propulator = one_propulator(tmp_path)
    propulator.ask()
    propulator.ask()
    with caplog.at_level(logging.WARNING, logger="propulate"):
        propulator.finish()
    assert "2 asked individual(s) never told; dropped" in caplog.text


def test_an_exception_in_the_with_block_releases_the_peers(tmp_path):
    network = LocalNetwork(2)
    first, second = (one_propulator(tmp_path, rank, network.transport(rank)) for rank in range(2))
    with pytest.raises(RuntimeError, match="simulation crashed"):
        with first:
            first.ask()
            raise RuntimeError("simulation crashed")
    with second:  # would wait forever for the first rank without its FINISHED and DONE
        while (ind := second.ask()) is not None:
            second.tell(ind, sphere(ind))
    assert second.stop.reason == "stop requested by rank 0"


def test_ranks_asking_and_telling_in_threads_end_with_the_same_population(tmp_path):
    def work(propulator: Propulator) -> None:
        with propulator:
            in_flight: list[Individual] = []
            while True:
                while len(in_flight) < 3 and (ind := propulator.ask()) is not None:
                    in_flight.append(ind)
                if not in_flight:
                    return
                ind = in_flight.pop(0)  # the oldest simulation ends first
                propulator.tell(ind, sphere(ind))

    propagators = [get_default_propagator(4, LIMITS_3D, rng=random.Random(r)) for r in range(3)]
    island = LocalIsland(sphere, propagators, tmp_path, generations=20)
    workers = island.run_threads(work=work)
    expected = {(rank, g) for rank in range(3) for g in range(20)}
    assert all({ind.key for ind in w.population} == expected for w in workers)


def test_a_run_resumes_after_an_ask_and_tell_session(tmp_path):
    propulator = one_propulator(tmp_path, generations=6)
    with propulator:
        while (ind := propulator.ask()) is not None:
            propulator.tell(ind, sphere(ind))
    rng_state = json.loads((tmp_path / "island-0-rank-0.state.json").read_text())["rngs"]
    resumed = one_propulator(tmp_path, generations=10)
    assert [ind.key for ind in resumed.population] == [(0, g) for g in range(6)]
    assert resumed.generation == 6
    assert [list(resumed.rng.getstate()[1])] == [rng_state[0][1]]  # the generator was restored
    resumed.propulate(logging_interval=0)  # the loop continues what ask and tell began
    assert [ind.key for ind in resumed.population] == [(0, g) for g in range(10)]
    values = {tuple(ind.values_dict().values()) for ind in resumed.population}
    assert len(values) == 10  # no draw repeated after the resume


def test_multi_rank_workers_evaluate_in_the_loop(tmp_path):
    class Pair:
        rank, size, comm = 0, 2, None

        def share(self, obj):
            return obj

    with pytest.raises(UsageError, match="multi-rank worker"):
        one_propulator(tmp_path, worker_group=Pair()).ask()


def test_a_told_curve_teaches_the_surrogate_as_if_it_had_followed_the_evaluation(tmp_path):
    from propulate import MedianStoppingRule

    propulator = one_propulator(tmp_path, surrogate_factory=lambda: MedianStoppingRule(min_runs=1))
    first, second = propulator.ask(), propulator.ask()
    propulator.tell(first, 1.0, [3.0, 2.0, 1.0])
    propulator.tell(second, 5.0, [6.0, 5.0], status="pruned")
    surrogate = propulator.surrogate
    assert surrogate.completed_runs == 1  # the pruned one does not complete
    assert [len(step) for step in surrogate._by_step[:3]] == [2, 2, 1]
    propulator.finish()


def test_tell_takes_several_objectives_as_loss_fn_would_return_them(tmp_path):
    declared = {"accuracy": "maximize", "latency": "minimize"}
    with one_propulator(tmp_path, generations=-1, objectives=declared) as propulator:
        first, second, third, fourth = (propulator.ask() for _ in range(4))
        propulator.tell(first, (0.9, 3.0))
        propulator.tell(second, {"latency": 1.0, "accuracy": 0.8})
        propulator.tell(third, (0.5,))  # one value for two objectives: recorded as failed
        propulator.tell(fourth, 0.7, status="pruned")
    assert first.losses == (-0.9, 3.0) and first.loss == -0.9 and first.status == Status.OK
    assert second.losses == (-0.8, 1.0)
    assert third.status == Status.FAILED and "2 objective(s)" in third.error
    assert fourth.status == Status.PRUNED and fourth.loss == 0.7
    stored = {ind.key: ind.losses for ind in read_log(next(tmp_path.glob("*.ckpt")))[1]}
    assert stored[first.key] == (-0.9, 3.0) and stored[second.key] == (-0.8, 1.0)
