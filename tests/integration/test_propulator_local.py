"""The Propulator loop over the in-memory transport: outcomes, failures, checkpoints, resume."""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time

import pytest

from propulate import CheckpointError, LossFunctionError, Propulator
from propulate.checkpoint import log_files, read_log
from propulate.comm.local import LocalNetwork
from propulate.population import Status
from propulate.propagators import (
    AvoidDuplicates,
    Compose,
    Conditional,
    InitUniform,
    PointMutation,
)
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, run_local, sphere


def keys(p: Propulator) -> set[tuple[int, int]]:
    return {ind.key for ind in p.population}


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_every_rank_ends_with_the_complete_population(size, tmp_path):
    propulators = run_local(size, tmp_path, generations=15)
    expected = {(rank, g) for rank in range(size) for g in range(15)}
    for p in propulators:
        assert keys(p) == expected
        assert all(ind.status == Status.OK for ind in p.population)


def test_ranks_finishing_at_different_times_still_agree(tmp_path):
    def slow_on_rank_zero(params):
        if params.rank == 0:
            time.sleep(0.01)
        return sphere(params)

    propulators = run_local(3, tmp_path, loss_fn=slow_on_rank_zero, generations=10)
    assert keys(propulators[0]) == keys(propulators[1]) == keys(propulators[2])
    assert len(keys(propulators[0])) == 30


def test_sphere_optimum_is_approached(tmp_path):
    propulators = run_local(2, tmp_path, generations=300)
    best = propulators[0].best(1)[0]
    # Random search with 600 samples in [-5, 5]^3 reaches ~0.5 at best; the GA must do far better.
    assert best.loss < 0.05, best


@pytest.mark.parametrize(
    "bad_result", [float("nan"), float("inf"), None, "oops", ValueError("boom")]
)
def test_failing_loss_is_recorded_and_never_hangs(tmp_path, bad_result, caplog):
    def loss(params):
        if params.rank == 1 and params.generation % 3 == 0:
            if isinstance(bad_result, Exception):
                raise bad_result
            return bad_result
        return sphere(params)

    with caplog.at_level(logging.WARNING, logger="propulate"):
        propulators = run_local(2, tmp_path, loss_fn=loss, generations=9)
    for p in propulators:
        failed = [ind for ind in p.population if ind.status == Status.FAILED]
        assert {ind.generation for ind in failed} == {0, 3, 6}
        assert all(ind.rank == 1 and ind.loss == math.inf for ind in failed)
        assert len(p.population) == 18
    assert "recorded as failed" in caplog.text


def test_raise_on_loss_error_raises_after_clean_shutdown(tmp_path):
    def loss(params):
        if params.rank == 0 and params.generation == 2:
            raise RuntimeError("diverged")
        return sphere(params)

    with pytest.raises(LossFunctionError, match="diverged"):
        run_local(2, tmp_path, loss_fn=loss, generations=20, raise_on_loss_error=True)
    # Every evaluation made before the stop is on disk.
    _, records, _, torn = read_log(tmp_path / "island-0-rank-0.ckpt")
    assert [ind.generation for ind in records] == [0, 1, 2]
    assert records[-1].status == Status.FAILED and not torn


def test_resume_restores_the_same_population_and_continues(tmp_path):
    first = run_local(2, tmp_path, generations=10)
    before = sorted(first[0].population, key=lambda ind: ind.key)

    rng = random.Random(5)
    resumed = Propulator(
        sphere,
        get_default_propagator(4, LIMITS_3D, rng=rng),
        rng,
        generations=10,
        checkpoint_path=tmp_path,
        rank=0,
    )
    after = sorted(resumed.population, key=lambda ind: ind.key)
    assert after == before  # equal in every attribute (values, loss, times, status, ...)
    assert resumed.generation == 10

    more = run_local(2, tmp_path, generations=15)
    assert keys(more[1]) == {(r, g) for r in range(2) for g in range(15)}
    # Nothing evaluated twice: each rank's log holds exactly its 15 generations.
    for rank in range(2):
        _, records, _, _ = read_log(tmp_path / f"island-0-rank-{rank}.ckpt")
        assert [ind.generation for ind in records] == list(range(15))


def test_resume_with_another_search_space_is_a_clear_error(tmp_path):
    run_local(1, tmp_path, generations=3)
    other = {"a": (-1.0, 1.0), "b": (-5.0, 5.0), "c": (-5.0, 5.0)}
    rng = random.Random(0)
    propulator = Propulator(
        sphere, get_default_propagator(2, other, rng=rng), rng, checkpoint_path=tmp_path, rank=0
    )
    with pytest.raises(CheckpointError, match="search space"):
        _ = propulator.population


def test_time_budget_stops_new_evaluations(tmp_path):
    def slow(params):
        time.sleep(0.02)
        return sphere(params)

    start = time.monotonic()
    propulators = run_local(2, tmp_path, loss_fn=slow, generations=-1, time_budget=0.3)
    assert time.monotonic() - start < 5
    count = len(propulators[0].population)
    assert 4 <= count <= 60
    assert keys(propulators[0]) == keys(propulators[1])


def test_stop_request_from_one_rank_stops_all(tmp_path):
    network = LocalNetwork(2)
    propulators = []
    for rank in range(2):
        rng = random.Random(rank)
        transport = network.transport(rank)
        propulators.append(
            Propulator(
                lambda p: (time.sleep(0.005), sphere(p))[1],
                get_default_propagator(4, LIMITS_3D, rng=rng),
                rng,
                generations=-1,
                checkpoint_path=tmp_path,
                transport=transport,
                collectives=transport,
                rank=rank,
            )
        )
    threads = [threading.Thread(target=p.propulate, daemon=True) for p in propulators]
    for t in threads:
        t.start()
    time.sleep(0.2)
    propulators[0].stop.set("SIGTERM")  # what the signal handler does
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    assert keys(propulators[0]) == keys(propulators[1])


def test_one_rank_run_is_reproducible_bit_for_bit(tmp_path):
    runs = []
    for attempt in range(2):
        (p,) = run_local(1, tmp_path / str(attempt), generations=40, seed=7)
        runs.append([(ind.values_dict(), ind.loss) for ind in p.population])
    assert runs[0] == runs[1]


def test_summarize_returns_fewer_when_fewer_exist(tmp_path):
    (p,) = run_local(1, tmp_path, generations=3)
    result = p.summarize(top_n=10)
    assert len(result) == 1 and len(result[0]) == 3
    assert [ind.loss for ind in result[0]] == sorted(ind.loss for ind in result[0])


def test_checkpoint_takes_less_than_150_bytes_per_10d_individual(tmp_path):
    limits = {f"x{i}": (-5.12, 5.12) for i in range(10)}
    (p,) = run_local(1, tmp_path, generations=200, limits=limits)
    (path,) = log_files(tmp_path)
    _, records, good_end, _ = read_log(path)
    assert len(records) == 200
    empty = tmp_path / "empty"
    run_local(1, empty, generations=0, limits=limits)
    header = (empty / "island-0-rank-0.ckpt").stat().st_size
    per_record = (good_end - header) / 200
    assert per_record < 150, per_record


def test_resumed_rank_does_not_repeat_its_random_draws(tmp_path):
    # pop_size 8 on one rank: every generation here is a random draw (InitUniform).
    def run(generations):
        network = LocalNetwork(1)
        transport = network.transport(0)
        rng = random.Random(0)  # the same seed for both runs, as a rerun of a script has
        propulator = Propulator(
            sphere, get_default_propagator(8, LIMITS_3D, rng=rng), rng,
            generations=generations, checkpoint_path=tmp_path,
            transport=transport, collectives=transport, rank=0,
        )  # fmt: skip
        propulator.propulate(logging_interval=0)
        return propulator

    run(2)
    resumed = run(4)
    values = [tuple(ind.values_dict().values()) for ind in resumed.population]
    assert len(set(values)) == 4, "the resumed rank drew the same individuals again"


def test_the_saved_state_covers_generators_inside_wrappers(tmp_path):
    """Generators of stages nested in AvoidDuplicates and Compose are saved and restored."""

    def run(generations):
        transport = LocalNetwork(1).transport(0)
        draw_rng, mutate_rng = random.Random(1), random.Random(2)
        propagator = AvoidDuplicates(
            Compose(
                [InitUniform(LIMITS_3D, rng=draw_rng), PointMutation(LIMITS_3D, rng=mutate_rng)]
            )
        )
        propulator = Propulator(
            sphere, propagator, random.Random(0), generations=generations,
            checkpoint_path=tmp_path, transport=transport, collectives=transport, rank=0,
        )  # fmt: skip
        propulator.propulate(logging_interval=0)
        return draw_rng, mutate_rng

    first = run(3)
    saved = json.loads((tmp_path / "island-0-rank-0.state.json").read_text())["rngs"]
    saved_internals = [state[1] for state in saved]
    assert all(list(rng.getstate()[1]) in saved_internals for rng in first)
    resumed = run(3)  # nothing left to evaluate: the generators are restored, not drawn from
    assert [rng.getstate() for rng in resumed] == [rng.getstate() for rng in first]


class CountingInit(InitUniform):
    """A stateful stage: it counts its calls and keeps the count in its state."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def __call__(self, inds):
        self.calls += 1
        return super().__call__(inds)

    def get_state(self):
        return {"calls": self.calls}

    def set_state(self, state):
        self.calls = state["calls"]


def test_stateful_stages_inside_wrappers_resume_their_state(tmp_path):
    def run(generations):
        transport = LocalNetwork(1).transport(0)
        rng = random.Random(0)
        counting = CountingInit(LIMITS_3D, rng=rng)
        propagator = Conditional(1, Compose([counting]), InitUniform(LIMITS_3D, rng=rng))
        Propulator(
            sphere, propagator, rng, generations=generations, checkpoint_path=tmp_path,
            transport=transport, collectives=transport, rank=0,
        ).propulate(logging_interval=0)  # fmt: skip
        return counting.calls

    assert run(4) == 3  # the first individual comes from the other branch
    assert run(7) == 6  # restored to 3, then 3 more calls


def test_state_files_of_the_previous_format_are_restored(tmp_path):
    def run(generations):
        transport = LocalNetwork(1).transport(0)
        rng = random.Random(0)
        counting = CountingInit(LIMITS_3D, rng=rng)
        propagator = Conditional(1, Compose([counting]), InitUniform(LIMITS_3D, rng=rng))
        Propulator(
            sphere, propagator, rng, generations=generations, checkpoint_path=tmp_path,
            transport=transport, collectives=transport, rank=0,
        ).propulate(logging_interval=0)  # fmt: skip
        return counting.calls

    assert run(4) == 3
    path = tmp_path / "island-0-rank-0.state.json"
    state = json.loads(path.read_text())
    assert state["format_version"] == 2 and state["stages"] == [{"calls": 3}]
    # Version 1 (before propagators had a lifecycle): top-level state apart, nested in a list.
    old = {"format_version": 1, "rngs": state["rngs"], "propagator": None, "nested": [{"calls": 5}]}
    path.write_text(json.dumps(old))
    assert run(7) == 8  # restored to 5, then 3 more calls
