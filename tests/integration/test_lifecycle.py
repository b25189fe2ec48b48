"""The loop drives the propagator lifecycle: every result is told, own children by identity."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from propulate import Individual
from propulate.population import Status
from propulate.propagators import InitUniform, Propagator
from propulate.propagators.base import listeners
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, run_local, sphere


class Recorder(Propagator):
    """Draws uniformly and records everything the loop tells it, in order."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(parents=-1, offspring=1, rng=rng)
        self.init = InitUniform(LIMITS_3D, rng=rng)
        self.asked: list[Individual] = []
        self.events: list[tuple[str, object]] = []

    def __call__(self, inds):
        child = self.init()
        self.asked.append(child)
        return child

    def stages(self):
        return (self.init,)  # the loop finds the search space through it

    def tell(self, ind):
        self.events.append(("tell", ind))

    def get_state(self):
        return {"told": sum(kind == "tell" for kind, _ in self.events)}

    def set_state(self, state):
        self.events.append(("set_state", dict(state)))

    def told(self) -> list[Individual]:
        return [ind for kind, ind in self.events if kind == "tell"]


def failing_sometimes(params):
    if params["a"] > 3.0:
        raise RuntimeError("diverged")
    return sphere(params)


@pytest.mark.parametrize("size", [1, 3])
def test_every_result_is_told_once_own_children_as_the_objects_bred(tmp_path, size):
    recorders: dict[int, Recorder] = {}

    def make(rank, rng):
        recorders[rank] = Recorder(rng)
        return recorders[rank]

    propulators = run_local(
        size, tmp_path, loss_fn=failing_sometimes, generations=15, make_propagator=make
    )
    for rank, propulator in enumerate(propulators):
        recorder = recorders[rank]
        told = recorder.told()
        keys = Counter(ind.key for ind in told)
        assert set(keys) == {ind.key for ind in propulator.population}
        assert max(keys.values()) == 1  # once each
        own = [ind for ind in told if ind.rank == rank]
        assert len(own) == 15
        # The loop evaluated the very objects the propagator returned, in order.
        assert all(a is b for a, b in zip(own, recorder.asked, strict=True))
        assert all(ind.status in (Status.OK, Status.FAILED) for ind in told)
        failed = [ind for ind in told if ind.status == Status.FAILED]
        assert failed and all(ind.loss == float("inf") for ind in failed)


def test_a_resume_replays_the_checkpoint_before_restoring_the_state(tmp_path):
    recorders: list[Recorder] = []

    def make(rank, rng):
        recorders.append(Recorder(rng))
        return recorders[-1]

    earlier = {ind.key for p in run_local(2, tmp_path, generations=5, make_propagator=make)
               for ind in p.population}  # fmt: skip
    assert len(earlier) == 10
    recorders.clear()
    run_local(2, tmp_path, generations=8, make_propagator=make)
    for recorder in recorders:
        kinds = [kind for kind, _ in recorder.events]
        restored = kinds.index("set_state")
        replayed = {ind.key for kind, ind in recorder.events[:restored]}
        assert set(kinds[:restored]) == {"tell"}
        # The first run's 10 individuals (and maybe records the other rank has just appended).
        assert replayed >= earlier
        assert recorder.events[restored][1]["told"] >= 5  # what the first run's state said
        assert len(recorder.told()) == 16  # each individual once


def test_results_of_other_islands_are_told_when_they_immigrate(tmp_path):
    from .test_islands_local import run_islands

    plan, workers = run_islands(tmp_path, [2, 2], pollination=False, generations=20)
    # Immigrants reach tell like every other result.
    told: dict[int, list[Individual]] = {}

    class Listening(Propagator):
        def __init__(self, rank, inner):
            super().__init__(-1, 1)
            self.rank, self.inner = rank, inner

        def __call__(self, inds):
            return self.inner(inds)

        def tell(self, ind):
            told.setdefault(self.rank, []).append(ind)

    for worker in workers:
        worker.propagator = Listening(worker.rank, worker.propagator)
        worker._listeners = None
        worker.generations = 40
    import threading

    threads = [
        threading.Thread(target=w.propulate, kwargs={"logging_interval": 0}, daemon=True)
        for w in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    for worker in workers:
        mine = told[worker.rank]
        immigrants = [ind for ind in mine if ind.island != worker.island_idx]
        known_immigrants = [
            ind
            for ind in worker.population
            if ind.island != worker.island_idx and ind.generation >= 20
        ]
        assert known_immigrants, "no migration happened"
        assert {ind.key for ind in known_immigrants} <= {ind.key for ind in immigrants}


def test_the_genetic_algorithm_alone_has_no_listeners():
    genetic = get_default_propagator(4, LIMITS_3D, rng=random.Random(0), cma_share=0.0)
    assert listeners(genetic) == []  # it learns nothing from tells: the loop tells nobody


class WantsPending(Recorder):
    wants_pending = True


@pytest.mark.parametrize("wants", [True, False])
def test_evaluations_started_elsewhere_are_told_before_their_results(tmp_path, wants):
    from propulate.testing import InRounds, LocalIsland

    cls = WantsPending if wants else Recorder
    recorders = [cls(random.Random(rank)) for rank in range(3)]
    with LocalIsland(sphere, recorders, tmp_path, generations=6) as island:
        island.run(InRounds())
        sent = island.network.messages_sent
    for rank, recorder in enumerate(recorders):
        started = [ind for ind in recorder.told() if ind.status == Status.PENDING]
        results = [ind for ind in recorder.told() if ind.status != Status.PENDING]
        assert len(results) == 18
        if not wants:
            assert not started
            continue
        # Every evaluation of the two other ranks was announced, before its result.
        assert sorted(ind.key for ind in started) == sorted(
            ind.key for ind in results if ind.rank != rank
        )
        order = [(ind.key, ind.status == Status.PENDING) for ind in recorder.told()]
        for key, _ in order:
            if key[0] != rank:
                assert order.index((key, True)) < order.index((key, False))
        assert all(ind.loss is None for ind in started)
    # A result per evaluation and peer, FINISHED and DONE to each peer; a notice per evaluation
    # and peer only when a stage wants them.
    assert sent == 18 * 2 + 3 * 2 * 2 + (18 * 2 if wants else 0)
