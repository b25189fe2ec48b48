"""Dominance, non-dominated fronts, crowding distance and hypervolume against brute force."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from propulate.pareto import (
    _volumes,
    crowding_distance,
    dominates,
    hypervolume,
    hypervolume_subset,
    non_dominated_fronts,
    pareto_mask,
)
from propulate.population import Individual, Status
from propulate.propagators import SelectPareto
from propulate.propagators.pareto import pareto_order, spread_subset


def _points(seed: int, count: int, dims: int, grid: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if grid is not None:  # ties and duplicates
        return rng.integers(0, grid, size=(count, dims)).astype(float)
    return rng.random((count, dims))


def _brute_fronts(points: np.ndarray) -> list[set[int]]:
    left, fronts = set(range(len(points))), []
    while left:
        front = {i for i in left if not any(dominates(points[j], points[i]) for j in left)}
        fronts.append(front)
        left -= front
    return fronts


def _brute_hypervolume(points: np.ndarray, ref: np.ndarray) -> float:
    """Sum of the grid cells (cut at every coordinate) that some point dominates."""
    inside = points[np.all(points < ref, axis=1)]
    if len(inside) == 0:
        return 0.0
    axes = [np.unique(np.append(inside[:, d], ref[d])) for d in range(points.shape[1])]
    total = 0.0
    for cell in itertools.product(*(range(len(a) - 1) for a in axes)):
        low = np.array([axes[d][c] for d, c in enumerate(cell)])
        if np.any(np.all(inside <= low, axis=1)):
            total += float(np.prod([axes[d][c + 1] - axes[d][c] for d, c in enumerate(cell)]))
    return total


def test_dominates():
    assert dominates((1, 2), (2, 2)) and dominates((1, 1), (2, 2))
    assert not dominates((1, 2), (1, 2))  # equal: neither dominates
    assert not dominates((1, 3), (2, 2)) and not dominates((2, 2), (1, 3))


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("seed", range(4))
def test_fronts_match_brute_force(dims, seed):
    for grid in (None, 4):  # continuous, then with many ties and duplicates
        points = _points(seed, 40, dims, grid)
        fronts = non_dominated_fronts(points)
        assert [set(f.tolist()) for f in fronts] == _brute_fronts(points)
        assert set(np.flatnonzero(pareto_mask(points))) == _brute_fronts(points)[0]


def test_fronts_with_infinite_values_match_brute_force():
    # Failed evaluations count as inf in every objective; every front is non-empty.
    inf = math.inf
    for dims in (2, 3):
        points = np.vstack(
            [np.full((4, dims), inf), _points(1, 6, dims), [[1.0] + [inf] * (dims - 1)]]
        )
        fronts = non_dominated_fronts(points)
        assert [set(f.tolist()) for f in fronts] == _brute_fronts(points)
        assert all(len(f) for f in non_dominated_fronts(np.full((3, dims), inf)))


def test_fronts_stop_at_the_limit():
    points = _points(0, 60, 2)
    fronts = non_dominated_fronts(points, limit=5)
    assert sum(len(f) for f in fronts) >= 5
    assert [set(f.tolist()) for f in fronts] == _brute_fronts(points)[: len(fronts)]


@pytest.mark.parametrize("seed", range(3))
def test_crowding_distance_matches_the_definition(seed):
    points = _points(seed, 12, 3)
    distance = crowding_distance(points)
    expected = np.zeros(len(points))
    for d in range(3):
        column = points[:, d]
        order = sorted(range(len(points)), key=lambda i: column[i])
        span = column[order[-1]] - column[order[0]]
        for position, i in enumerate(order):
            if position in (0, len(order) - 1):
                expected[i] = math.inf
            elif expected[i] != math.inf:
                expected[i] += (column[order[position + 1]] - column[order[position - 1]]) / span
    assert np.allclose(distance, expected)
    assert np.all(crowding_distance(points[:2]) == math.inf)


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("seed", range(4))
def test_hypervolume_matches_brute_force(dims, seed):
    for grid in (None, 5):
        points = _points(seed, 9 if dims == 4 else 15, dims, grid)
        ref = np.full(dims, 1.1 if grid is None else 4.5)
        ref[0] -= 0.3  # some points lie outside the reference box in one objective
        assert hypervolume(points, ref) == pytest.approx(_brute_hypervolume(points, ref))


def test_hypervolume_of_known_fronts():
    assert hypervolume([[0.0, 0.0]], [1.0, 2.0]) == pytest.approx(2.0)
    assert hypervolume([[0.5, 0.5], [0.0, 1.0], [1.0, 0.0]], [1.0, 1.0]) == pytest.approx(0.25)
    assert hypervolume([[2.0, 2.0]], [1.0, 1.0]) == 0.0  # outside the box
    assert hypervolume(np.zeros((0, 2)), [1.0, 1.0]) == 0.0
    with pytest.raises(ValueError, match="reference point"):
        hypervolume([[0.0, 0.0]], [1.0, 1.0, 1.0])


def _evaluated(losses, status=Status.OK):
    ind = Individual({"x": random.random()}, {"x": (0.0, 1.0)})
    ind.losses = None if losses is None else tuple(losses)
    ind.loss = math.inf if losses is None else losses[0]
    ind.status = status
    return ind


def test_select_pareto_ranks_by_front_then_spread():
    front = [(0.0, 1.0), (0.25, 0.75), (0.5, 0.5), (0.55, 0.45), (1.0, 0.0)]
    behind = [(0.6, 0.6), (1.0, 1.0)]
    inds = [_evaluated(v) for v in behind + front] + [_evaluated(None, Status.FAILED)]
    chosen = SelectPareto(5)(inds)
    assert sorted(i.losses for i in chosen) == sorted(front)
    # Four of the front: the extremes stay, one of the close pair (0.5, 0.5), (0.55, 0.45) goes.
    four = {i.losses for i in SelectPareto(4)(inds)}
    assert {(0.0, 1.0), (1.0, 0.0)} <= four
    assert len({(0.5, 0.5), (0.55, 0.45)} & four) == 1
    seven = SelectPareto(7)(inds)
    assert {i.losses for i in seven[5:]} == set(behind)  # the second front next, failed last
    assert SelectPareto(8)(inds)[-1].status == Status.FAILED


def test_select_pareto_spreads_a_three_objective_front_where_crowding_distance_clumps():
    # A sphere's octant: its corners, its edges' midpoints, and a clump near the corners and
    # in the middle, behind which lies a dominated point.
    lattice = [p for p in itertools.product(range(3), repeat=3) if sum(p) == 2]
    clump = [(0.9, 0.1, 0.1), (0.1, 0.9, 0.1), (0.1, 0.1, 0.9), (0.34, 0.33, 0.33)]
    front = np.array(clump + lattice, dtype=float)
    front /= np.linalg.norm(front, axis=1, keepdims=True)
    inds = [_evaluated(tuple(row)) for row in front] + [_evaluated((2.0, 2.0, 2.0))]
    chosen = {ind.losses for ind in SelectPareto(6)(inds)}
    assert chosen == {tuple(row) for row in front[len(clump) :]}
    # Crowding distance (the summaries' order) keeps clumped points instead.
    crowded = {tuple(front[i]) for i in pareto_order(front, 6)}
    assert crowded & {tuple(row) for row in front[: len(clump)]}


def test_select_pareto_with_one_objective_is_select_min():
    from propulate.propagators import SelectMin

    inds = [_evaluated((v,)) for v in (3.0, 1.0, 2.0)] + [_evaluated(None, Status.FAILED)]
    for ind in inds:
        ind.losses = None  # a plain single-objective run
    assert SelectPareto(3)(inds) == SelectMin(3)(inds)


def test_pareto_order_is_a_prefix_of_a_full_ranking():
    points = _points(3, 30, 2)
    full = pareto_order(points, 30)
    assert sorted(full) == list(range(30))
    assert pareto_order(points, 10) == full[:10]


@pytest.mark.parametrize("dims", [2, 3, 4, 5])
@pytest.mark.parametrize("sliced", [True, False])
def test_batched_volumes_match_hypervolume(dims, sliced, monkeypatch):
    import propulate.pareto

    if not sliced:  # beyond three objectives, large batches are computed set by set
        monkeypatch.setattr(propulate.pareto, "_MAX_BATCHED", 0)
    rng = np.random.default_rng(dims)
    for size in (1, 2, 5, 9):
        sets = rng.random((6, size, dims))
        sets[:, :, 0] = np.round(sets[:, :, 0], 1)  # ties in the sweep's objective
        sets[0, 1:] = sets[0, 0]  # copies
        reference = 1.2 + 0.1 * np.arange(dims)
        expected = [hypervolume(points, reference) for points in sets]
        assert _volumes(sets, reference) == pytest.approx(expected)


def _greedy_by_definition(front: np.ndarray, k: int) -> list[int]:
    """The extremes, then greedy by whole hypervolumes, the reference as documented."""
    low, high = front.min(axis=0), front.max(axis=0)
    h = 1
    while math.comb(h + front.shape[1] - 1, front.shape[1] - 1) < k:
        h += 1
    reference = high + (high - low) / h
    chosen = []
    for m in range(front.shape[1]):
        best = min(range(len(front)), key=lambda i: (front[i, m], front[i].sum()))
        if best not in chosen:
            chosen.append(best)
    while len(chosen) < k:
        rest = [i for i in range(len(front)) if i not in chosen]
        gains = [hypervolume(front[chosen + [i]], reference) for i in rest]
        chosen.append(rest[int(np.argmax(gains))])
    return chosen


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("seed", range(3))
def test_hypervolume_subset_is_the_greedy_subset(dims, seed):
    rng = np.random.default_rng(seed)
    points = rng.random((40, dims))
    front = points[pareto_mask(points)]
    if dims > 2:  # a sphere's octant, as many points on the front as drawn
        front = points / np.linalg.norm(points, axis=1, keepdims=True)
    k = min(8, len(front) - 1)
    assert list(hypervolume_subset(front, k)) == _greedy_by_definition(front, k)
    assert list(hypervolume_subset(front, len(front))) == list(range(len(front)))


def test_hypervolume_subset_spreads_a_front_and_keeps_its_extremes():
    # A linear front with a clump in its middle and near its ends: five of it, evenly spread.
    xs = np.array([0.5, 0.48, 0.52, 0.46, 0.54, 0.0, 1.0, 0.05, 0.95, 0.25, 0.75, 0.3, 0.7])
    chosen = xs[hypervolume_subset(np.c_[xs, 1.0 - xs], 5)]
    assert sorted(chosen) == [0.0, 0.25, 0.5, 0.75, 1.0]
    # Three objectives, a sphere's octant (DTLZ2's front) with a clump in the middle and near
    # the corners: six of it, the corners and the edges' midpoints.
    lattice = [p for p in itertools.product(range(3), repeat=3) if sum(p) == 2]
    clump = [(0.9, 0.1, 0.1), (0.1, 0.9, 0.1), (0.1, 0.1, 0.9), (0.34, 0.33, 0.33)]
    front = np.array(clump + lattice, dtype=float)
    front /= np.linalg.norm(front, axis=1, keepdims=True)
    chosen3 = hypervolume_subset(front, 6)
    assert sorted(chosen3) == list(range(len(clump), len(front)))


def test_a_front_with_infinite_values_is_spread_by_crowding():
    front = np.array([[0.0, math.inf], [0.2, 0.8], [0.4, 0.6], [0.41, 0.59], [1.0, 0.0]])
    expected = np.argsort(-crowding_distance(front), kind="stable")[:3]
    assert list(spread_subset(front, 3)) == list(expected)
    assert list(spread_subset(front, 5)) == list(range(5))
