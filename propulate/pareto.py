"""Pareto dominance, non-dominated sorting, crowding distance and hypervolume (all minimized).

Pure functions of arrays of objective vectors in minimization sign (one row per point), no I/O:
the multi-objective selection (:class:`~propulate.propagators.SelectPareto`), the summaries and
the benchmark use them. References: Deb et al., "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE TEC 6(2), 2002 (non-dominated rank, crowding distance, Sec. III-A/B);
While et al., "A faster algorithm for calculating hypervolume", IEEE TEC 10(1), 2006 (the
hypervolume by slicing objectives, used here for three and more objectives); Beume et al.,
"SMS-EMOA: Multiobjective selection based on dominated hypervolume", EJOR 181(3), 2007, and
Ishibuchi et al., "How to specify a reference point in hypervolume calculation for fair
performance comparison", Evolutionary Computation 26(3), 2018 (the subset by hypervolume).

With constraint values returned by the loss function (see :mod:`propulate.feasibility`),
:func:`constrained_fronts` and :func:`constrained_pareto_mask` rank by *constrained domination*
(Deb et al. 2002, Sec. VI): a feasible point dominates every infeasible one, and of two
infeasible points the one with the smaller total violation dominates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "dominates",
    "non_dominated_fronts",
    "pareto_mask",
    "crowding_distance",
    "hypervolume",
    "hypervolume_subset",
    "constrained_fronts",
    "constrained_pareto_mask",
]


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether ``a`` Pareto-dominates ``b``: no worse in every objective, better in one."""
    better = False
    for x, y in zip(a, b, strict=True):
        if x > y:
            return False
        if x < y:
            better = True
    return better


def _as_points(points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    array = np.asarray(points, dtype=float)
    if array.ndim != 2:
        array = array.reshape(len(array), -1)
    return array


def non_dominated_fronts(
    points: np.ndarray | Sequence[Sequence[float]], limit: int | None = None
) -> list[np.ndarray]:
    """The indices of ``points`` by non-dominated front, best front first.

    Points are visited in the order of the sum of their objectives, ties broken
    lexicographically: a point that dominates another comes first, so no point is dominated by
    a later one. The first point left
    undecided is therefore in the current front; every point it dominates is removed at once
    (vectorized), and the next undecided point is again in the front. A front of F points out
    of N costs at most F vectorized passes over the points still undecided, which shrink fast:
    the first points (small sums) dominate many. With two objectives a front is one sweep in
    lexicographic order instead (O(N log N)).

    Parameters
    ----------
    points : numpy.ndarray
        The objective vectors (minimized), shape (N, M).
    limit : int, optional
        Stop once the fronts found hold at least this many points.

    Returns
    -------
    list of numpy.ndarray
        The fronts (each in the order of the sum of the objectives, or with two objectives
        in lexicographic order); together they hold every index once (or at least ``limit``).
    """
    array = _as_points(points)
    with np.errstate(invalid="ignore"):  # inf - inf: such a point sorts last, and is compared
        sums = array.sum(axis=1)
    # Ties in the sum (infinite values) are broken lexicographically: a dominating point still
    # comes first.
    remaining = np.lexsort((*array.T[::-1], sums)) if len(array) else np.zeros(0, dtype=int)
    fronts: list[np.ndarray] = []
    found = 0
    split = _first_front_2d if array.shape[1] == 2 else _first_front
    while len(remaining) and (limit is None or found < limit):
        front, remaining = split(array, remaining)
        if not len(front):  # cannot happen for numbers; never loop forever on odd values
            front, remaining = remaining, remaining[:0]
        fronts.append(front)
        found += len(front)
    return fronts


def _first_front(array: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``order`` (indices by sum of objectives) into its first front and the rest."""
    ordered = array[order]
    undecided = np.arange(len(order))  # positions not yet known to be dominated, ascending
    front: list[int] = []
    while len(undecided):
        position, undecided = int(undecided[0]), undecided[1:]
        front.append(position)
        # Only the undecided points are compared: the set shrinks as points are dominated.
        point, later = ordered[position], ordered[undecided]
        dominated = np.all(point <= later, axis=1) & np.any(point < later, axis=1)
        undecided = undecided[~dominated]
    in_front = np.zeros(len(order), dtype=bool)
    in_front[front] = True
    return order[in_front], order[~in_front]


def _first_front_2d(array: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_first_front` for two objectives: one sweep, O(N log N).

    In lexicographic order a point is dominated exactly if an earlier point, other than its
    copies, is no worse in the second objective (Kung et al. 1975).
    """
    points = array[order]
    lex = np.lexsort((points[:, 1], points[:, 0]))
    points, order = points[lex], order[lex]
    before = np.minimum.accumulate(np.concatenate(([np.inf], points[:-1, 1])))
    starts = np.concatenate(([True], np.any(points[1:] != points[:-1], axis=1)))
    first = np.flatnonzero(starts)  # the first of each run of copies decides for the run
    decided = before[first] <= points[first, 1]
    decided[0] = False  # nothing comes before the first point (``before`` is only a sentinel)
    dominated = decided[np.cumsum(starts) - 1]
    return order[~dominated], order[dominated]


def pareto_mask(points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """A boolean mask of the non-dominated points (the Pareto front) of ``points``."""
    array = _as_points(points)
    mask = np.zeros(len(array), dtype=bool)
    if len(array):
        mask[non_dominated_fronts(array, limit=1)[0]] = True
    return mask


def crowding_distance(points: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """NSGA-II's crowding distance of each point of one front (larger is less crowded).

    For each objective the points are sorted; the two extremes get ``inf``, every other point
    the gap between its neighbours relative to the objective's range; the distances add up
    over the objectives (Deb et al. 2002, Sec. III-B).

    Parameters
    ----------
    points : numpy.ndarray
        The objective vectors of one front, shape (N, M).

    Returns
    -------
    numpy.ndarray
        The distances, shape (N,).
    """
    array = _as_points(points)
    count = len(array)
    distance = np.zeros(count)
    if count <= 2:
        distance[:] = np.inf
        return distance
    for column in array.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        span = ordered[-1] - ordered[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if not np.isfinite(span) or span <= 0:
            continue
        distance[order[1:-1]] += (ordered[2:] - ordered[:-2]) / span
    return distance


def hypervolume(
    points: np.ndarray | Sequence[Sequence[float]], reference: np.ndarray | Sequence[float]
) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (minimized objectives).

    Points not strictly better than ``reference`` in every objective add nothing. Exact: a
    sweep for two objectives (O(N log N)); for more, slices along the last objective, each
    slice the hypervolume of one objective fewer (While et al. 2006), fine for fronts of some
    hundreds of points.

    Parameters
    ----------
    points : numpy.ndarray
        The objective vectors, shape (N, M).
    reference : numpy.ndarray or sequence of float
        The reference point, M values (worse than every point that should count).

    Returns
    -------
    float
        The hypervolume.
    """
    array = _as_points(points)
    ref = np.asarray(reference, dtype=float)
    if len(array) == 0:
        return 0.0
    if array.shape[1] != len(ref):
        raise ValueError(
            f"hypervolume: points have {array.shape[1]} objectives but the reference point "
            f"{list(ref)} has {len(ref)}; give one reference value per objective."
        )
    array = array[np.all(array < ref, axis=1)]
    if len(array) == 0:
        return 0.0
    array = array[pareto_mask(array)]
    return _volume(array, ref)


def _volume(points: np.ndarray, ref: np.ndarray) -> float:
    dims = points.shape[1]
    if dims == 1:
        return float(ref[0] - points[:, 0].min())
    if dims == 2:
        order = np.argsort(points[:, 0], kind="stable")
        total, best_y = 0.0, float(ref[1])
        for x, y in points[order]:
            if y < best_y:
                total += (ref[0] - x) * (best_y - y)
                best_y = float(y)
        return total
    # Slice along the last objective: between consecutive levels the dominated region is the
    # (dims - 1)-dimensional hypervolume of the points at or below the lower level.
    order = np.argsort(points[:, -1], kind="stable")
    levels = points[order, -1]
    total = 0.0
    for i in range(len(order)):
        upper = levels[i + 1] if i + 1 < len(order) else ref[-1]
        depth = upper - levels[i]
        if depth <= 0:
            continue
        below = points[order[: i + 1], :-1]
        below = below[pareto_mask(below)]
        total += depth * _volume(below, ref[:-1])
    return float(total)


# ----- choosing a well-spread subset of one front by hypervolume ----------------------------------
def hypervolume_subset(points: np.ndarray | Sequence[Sequence[float]], k: int) -> np.ndarray:
    """The indices of ``k`` well-spread points of one front: its extremes, then by hypervolume.

    Crowding distance, NSGA-II's tie-break, judges each point by its neighbours along each
    objective separately; with three and more objectives those neighbours are often not
    neighbours on the front, and the points it keeps clump (Kukkonen and Deb 2006). The
    hypervolume of the subset rewards spread and closeness to the front in any number of
    objectives (the indicator SMS-EMOA selects by, Beume et al. 2007).

    The subset starts with the front's extremes, the best point of each objective (ties: the
    lower sum), as crowding distance keeps them: they hold the front's range open, and a greedy
    hypervolume choice, anchored in the middle, can trade an end for a point next to it. Then
    it grows greedily, each step adding the point of largest exclusive contribution (within
    ``1 - 1/e`` of the best subset: the hypervolume is submodular). Contributions only shrink
    as the subset grows, so an old one bounds the new from above and is recomputed only when
    it leads (lazy greedy, a batch at a time): a few batched hypervolumes of at most ``k``
    points per step.

    The reference point lies beyond the worst value of each objective by ``1 / h`` of its range,
    ``h`` the smallest number of divisions whose simplex lattice in M objectives has at least
    ``k`` points (Ishibuchi et al. 2018): ``k - 1`` with two objectives, for which ``k`` points
    spread evenly over a linear front, extremes included, are the best subset. Ranges are the
    front's own, so the choice does not depend on the objectives' scales.

    Parameters
    ----------
    points : numpy.ndarray
        The objective vectors (minimized) of mutually non-dominated points, shape (N, M),
        finite.
    k : int
        How many to choose (all of them when ``k >= N``).

    Returns
    -------
    numpy.ndarray
        ``min(k, N)`` indices, in the order they were chosen (the extremes first).
    """
    array = _as_points(points)
    count, dims = array.shape
    if k >= count:
        return np.arange(count)
    low, high = array.min(axis=0), array.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    reference = high + span / _divisions(k, dims)
    chosen: list[int] = []
    sums = array.sum(axis=1)
    for m in range(dims):
        best = int(np.lexsort((sums, array[:, m]))[0])
        if best not in chosen and len(chosen) < k:
            chosen.append(best)
    open_ = np.ones(count, dtype=bool)
    open_[chosen] = False
    # Each point's box (its contribution to an empty subset) bounds its contribution; every
    # bound is stale once a point is chosen.
    bound = np.prod(reference - array, axis=1)
    stale = np.ones(count, dtype=bool)
    while len(chosen) < k:
        candidates = np.flatnonzero(open_)
        lead = int(candidates[int(np.argmax(bound[candidates]))])
        if not stale[lead]:
            chosen.append(lead)
            open_[lead] = False
            stale[:] = True
            continue
        outdated = np.flatnonzero(stale & open_)
        batch = outdated[np.argsort(-bound[outdated], kind="stable")[:_BATCH]]
        # What the chosen dominate inside a point's box is what their corners clipped to that
        # box dominate.
        clipped = np.maximum(array[chosen][None, :, :], array[batch][:, None, :])
        bound[batch] = np.prod(reference - array[batch], axis=1) - _volumes(clipped, reference)
        stale[batch] = False
    return np.array(chosen, dtype=int)


#: Contributions recomputed at once in :func:`hypervolume_subset`.
_BATCH = 16
#: The largest ``B S^(M-2)`` of a batch of B sets of S points in M > 3 objectives that
#: :func:`_volumes` slices at once (its arrays hold S times that many values).
_MAX_BATCHED = 200_000


def _divisions(k: int, dims: int) -> int:
    """The smallest ``h`` with ``comb(h + dims - 1, dims - 1) >= k`` (at least 1)."""
    h = 1
    while math.comb(h + dims - 1, dims - 1) < k:
        h += 1
    return h


def _volumes(sets: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The hypervolume of each of a batch of point sets, shape (B, S, M), all below ``reference``.

    Vectorized: with two objectives a sweep in the first objective of the running minimum of
    the second; with three, one such sweep per slice of the third, all at once; with more,
    slices along the last objective, recursively, while the arrays stay small (``B S^(M-2)`` up
    to :data:`_MAX_BATCHED`), otherwise exact per set (:func:`hypervolume`).
    """
    batch, size, dims = sets.shape
    if dims > 3:
        if batch * size ** (dims - 2) > _MAX_BATCHED:
            return np.array([hypervolume(points, reference) for points in sets])
        # Slices along the last objective, each a set of one objective fewer: the points at or
        # below the slice's level, the others moved onto the reference (where they add nothing).
        level = np.sort(sets[:, :, -1], axis=1)
        depth = np.diff(level, axis=1, append=reference[-1])
        inside = sets[:, None, :, -1] <= level[:, :, None]
        lower = np.where(inside[..., None], sets[:, None, :, :-1], reference[:-1])
        slices = _volumes(lower.reshape(batch * size, size, dims - 1), reference[:-1])
        return np.sum(depth * slices.reshape(batch, size), axis=1)
    if dims == 2:
        sets = sets[:, None, :, :]  # one slice of unit depth
        depth = np.ones((batch, 1))
        inside = np.ones((batch, 1, size), dtype=bool)
    else:
        level = np.sort(sets[:, :, 2], axis=1)
        depth = np.diff(level, axis=1, append=reference[2])
        # Slice j (between the j-th and the next level of the third objective) holds the
        # points at or below the j-th level.
        inside = sets[:, None, :, 2] <= level[:, :, None]
        sets = np.broadcast_to(sets[:, None, :, :], (batch, size, size, dims))
    by_first = np.argsort(sets[..., 0], axis=-1, kind="stable")
    first = np.take_along_axis(sets[..., 0], by_first, axis=-1)
    second = np.where(inside, sets[..., 1], reference[1])
    second = np.take_along_axis(second, by_first, axis=-1)
    lowest = np.minimum.accumulate(second, axis=-1)
    before = np.concatenate(
        [np.full(lowest.shape[:-1] + (1,), reference[1]), lowest[..., :-1]], axis=-1
    )
    areas = np.sum((reference[0] - first) * (before - lowest), axis=-1)
    return np.sum(depth * areas, axis=-1)


# ----- constrained domination (kept apart from the unconstrained sorting above) ------------------
def constrained_fronts(
    points: np.ndarray | Sequence[Sequence[float]],
    violations: np.ndarray | Sequence[float],
    limit: int | None = None,
) -> list[np.ndarray]:
    """:func:`non_dominated_fronts` by constrained domination (Deb et al. 2002, Sec. VI).

    The feasible points (violation 0) are sorted into non-dominated fronts first; the
    infeasible ones follow, one front per distinct total violation, smallest first (of two
    infeasible points the one that violates less dominates, whatever their objectives).

    Parameters
    ----------
    points : numpy.ndarray
        The objective vectors (minimized), shape (N, M).
    violations : numpy.ndarray or sequence of float
        Each point's total constraint violation (``>= 0``; 0 is feasible), shape (N,).
    limit : int, optional
        Stop once the fronts found hold at least this many points.

    Returns
    -------
    list of numpy.ndarray
        The fronts, best first; together they hold every index once (or at least ``limit``).
    """
    array = _as_points(points)
    violation = np.asarray(violations, dtype=float).reshape(len(array))
    feasible = np.flatnonzero(violation <= 0)
    fronts = [feasible[front] for front in non_dominated_fronts(array[feasible], limit)]
    found = sum(len(front) for front in fronts)
    infeasible = np.flatnonzero(violation > 0)
    infeasible = infeasible[np.argsort(violation[infeasible], kind="stable")]
    levels = violation[infeasible]
    starts = np.flatnonzero(np.concatenate(([True], levels[1:] != levels[:-1])))[: len(levels)]
    ends = np.append(starts[1:], len(levels))[: len(starts)]
    for start, end in zip(starts, ends, strict=True):
        if limit is not None and found >= limit:
            break
        fronts.append(infeasible[start:end])
        found += end - start
    return fronts


def constrained_pareto_mask(
    points: np.ndarray | Sequence[Sequence[float]], violations: np.ndarray | Sequence[float]
) -> np.ndarray:
    """The first front by constrained domination (see :func:`constrained_fronts`).

    That is the feasible points' Pareto front if any point is feasible, otherwise the points
    of least violation.
    """
    array = _as_points(points)
    mask = np.zeros(len(array), dtype=bool)
    if len(array):
        mask[constrained_fronts(array, violations, limit=1)[0]] = True
    return mask
