"""TPE: it learns from what it is told, fills the space first, avoids repeats, converges."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import numpy as np
import pytest

from propulate import Individual, SearchSpace
from propulate.errors import ConfigurationError
from propulate.population import Status
from propulate.propagators import TPE

from .strategy_driver import drive

MIXED = {"n": (-10, 10), "x": (-1.0, 1.0), "lr": (1e-5, 1e-1, "log"), "c": ("a", "b", "c")}


def mixed_loss(values) -> float:
    # Optimum 0 at n = 4, x = 0.3, lr = 1e-3, c = "b".
    n, x, lr = values["n"], values["x"], math.log10(values["lr"])
    return 0.05 * (n - 4) ** 2 + (x - 0.3) ** 2 + 0.1 * (lr + 3.0) ** 2 + (values["c"] != "b")


def evaluated(propagator: TPE, child: Individual, generation: int, loss: float) -> Individual:
    child.rank, child.generation, child.loss, child.status = 0, generation, loss, Status.OK
    propagator.tell(child)
    return child


def test_tpe_beats_random_search_on_a_mixed_problem():
    # Measured over 10 seeds, 4 simulated workers, 150 evaluations: median 2.8e-4 (worst
    # 2.7e-3). Random search with 150 evaluations: median 0.12, best of 40 seeds 9.4e-3.
    results = []
    for seed in range(6):
        population, _ = drive(
            lambda r, seed=seed: TPE(MIXED, rng=random.Random(100 * seed + r)),
            loss=mixed_loss,
            workers=4,
            evaluations=150,
        )
        results.append(population.active.best(1)[0].loss)
    assert statistics.median(results) < 5e-3, results


def test_the_first_proposals_fill_the_space():
    # The startup design keeps proposals apart; uniform draws clump. Smallest pairwise distance
    # among 10 points in [0, 1]^2, median of 10 seeds: 0.30 here, 0.09 for uniform draws.
    limits = {"a": (0.0, 1.0), "b": (0.0, 1.0)}
    gaps = []
    for seed in range(10):
        tpe = TPE(limits, rng=random.Random(seed))
        points = []
        for generation in range(10):
            child = tpe([])
            points.append((child["a"], child["b"]))
            evaluated(tpe, child, generation, 1.0)
        gaps.append(min(math.dist(p, q) for p, q in itertools.combinations(points, 2)))
    uniform = []
    for seed in range(10):
        rng = random.Random(seed)
        points = [(rng.random(), rng.random()) for _ in range(10)]
        uniform.append(min(math.dist(p, q) for p, q in itertools.combinations(points, 2)))
    assert statistics.median(gaps) > 2 * statistics.median(uniform), (gaps, uniform)


def test_no_repeats_while_something_new_is_left():
    limits = {"a": (0, 2), "b": (0, 2), "c": ("u", "v", "w")}  # 27 combinations
    tpe = TPE(limits, rng=random.Random(0), n_startup=3)
    seen = set()
    for generation in range(27):
        child = tpe([])
        assert child.values_key() not in seen, generation
        seen.add(child.values_key())
        evaluated(tpe, child, generation, float(child["a"] + child["b"]))


def test_own_proposals_waiting_for_their_result_count_as_bad():
    # Several proposals in flight (the ask-and-tell interface allows it): each later one keeps
    # away from the earlier ones, which count as bad results ("constant liar") until told.
    # Smallest gap between 6 proposals in flight, over 20 seeds: at least 0.014 (median 0.034);
    # without the liars they pile up at the ratio's maximum (median gap 0.001).
    limits = {"x": (0.0, 1.0)}
    for seed in range(5):
        tpe = TPE(limits, rng=random.Random(seed), n_startup=5)
        for generation in range(30):  # a model whose good region is around 0.5
            child = Individual({"x": (generation * 0.37) % 1.0}, limits, generation=generation)
            child.rank, child.loss, child.status = 1, abs(child["x"] - 0.5), Status.OK
            tpe.tell(child)
        in_flight = [tpe([]) for _ in range(6)]
        xs = sorted(child["x"] for child in in_flight)
        assert min(b - a for a, b in itertools.pairwise(xs)) > 0.01, xs
        assert len(tpe._pending) == 6
        evaluated(tpe, in_flight[0], 100, 0.1)
        assert len(tpe._pending) == 5  # told: no longer pending


def test_results_are_learned_only_from_tell_and_only_once():
    tpe = TPE(MIXED, rng=random.Random(0))
    space = SearchSpace.of(MIXED)
    ind = Individual(space.sample(random.Random(1)), space, generation=0, rank=3)
    ind.loss, ind.status = 1.0, Status.OK
    tpe.tell(ind)
    tpe.tell(ind)  # the same result again (e.g. a replay): not counted twice
    assert tpe._n == 1
    failed = Individual(space.sample(random.Random(2)), space, generation=1, rank=3)
    failed.loss, failed.status = math.inf, Status.FAILED
    tpe.tell(failed)
    repeat = Individual(space.sample(random.Random(3)), space)  # rank -1: a repeat, not new
    repeat.loss = 0.5
    tpe.tell(repeat)
    assert tpe._n == 2 and tpe._loss[1] == math.inf


def test_cost_is_bounded_by_max_history():
    tpe = TPE(MIXED, rng=random.Random(0), max_history=50)
    space = SearchSpace.of(MIXED)
    rng = random.Random(1)
    for generation in range(400):
        ind = Individual(space.sample(rng), space, generation=generation, rank=1)
        ind.loss, ind.status = rng.random(), Status.OK
        tpe.tell(ind)
    seen = []
    original = TPE.__dict__["_most_promising"]

    def spy(self, generator):
        seen.append(self._n)
        return original(self, generator)

    TPE._most_promising = spy
    try:
        tpe([])
    finally:
        TPE._most_promising = original
    assert seen == [400]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_startup": 0}, "n_startup"),
        ({"n_candidates": 0}, "n_candidates"),
        ({"gamma": 1.0}, "gamma"),
        ({"prior_weight": 0.0}, "prior_weight"),
        ({"max_history": True}, "max_history"),
    ],
)
def test_configuration_errors(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        TPE(MIXED, **kwargs)


def test_the_history_is_rebuilt_by_telling_not_saved():
    tpe = TPE(MIXED, rng=random.Random(0))
    assert tpe.get_state() == {}  # nothing beyond what the loop replays on a resume
    assert np.isfinite(tpe([])["x"])


def test_evaluations_other_workers_started_count_as_bad_until_their_results_arrive():
    limits = {"x": (0.0, 1.0)}
    tpe = TPE(limits, rng=random.Random(0), n_startup=5)
    assert tpe.wants_pending
    for generation in range(30):
        child = Individual({"x": (generation * 0.37) % 1.0}, limits, generation=generation)
        child.rank, child.loss, child.status = 1, abs(child["x"] - 0.5), Status.OK
        tpe.tell(child)
    started = []
    for worker in (2, 3, 4):  # three other workers start evaluations
        ind = tpe([])
        tpe._pending.clear()  # as if another worker had proposed it
        ind.rank, ind.generation = worker, 0
        tpe.tell(ind)  # status "pending": a notice, not a result
        started.append(ind)
    assert len(tpe._started) == 3 and tpe._n == 30
    mine = tpe([])
    assert min(abs(mine["x"] - other["x"]) for other in started) > 0.01
    started[0].loss, started[0].status = 0.2, Status.OK
    tpe.tell(started[0])  # its result: no longer a liar, now a result
    assert len(tpe._started) == 2 and tpe._n == 31


def test_with_several_objectives_the_good_group_is_filled_front_by_front():
    import math as _math

    from propulate.individual import Individual
    from propulate.propagators import TPE

    limits = {"x": (0.0, 1.0)}
    tpe = TPE(limits, rng=random.Random(0))
    vectors = [(0.0, 1.0), (1.0, 0.0), (0.5, 0.5), (0.2, 0.9), (0.6, 0.6), (2.0, 2.0), None]
    for generation, vector in enumerate(vectors):
        ind = Individual({"x": generation / 10}, limits)
        ind.worker, ind.generation = 0, generation
        if vector is None:  # a failed evaluation: worst in every objective
            ind.status, ind.loss = "failed", _math.inf
        else:
            ind.status, ind.loss, ind.losses = "ok", vector[0], vector
        tpe.tell(ind)
    loss = tpe._loss[: tpe._n]
    # The first front is {0, 1, 2, 3}; with room for two, its extremes (the spread subset starts
    # with them).
    assert set(tpe._ranked(loss, 2)[:2]) == {0, 1}
    assert set(tpe._ranked(loss, 4)[:4]) == {0, 1, 2, 3}
    order = tpe._ranked(loss, 5)
    assert list(order[4:5]) == [4] and list(order[-1:]) in ([5], [6])
    assert sorted(order) == list(range(7))
