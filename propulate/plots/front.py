"""Plots of a run with several objectives: the Pareto front, and the hypervolume over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..pareto import hypervolume, pareto_mask
from ..population import Status
from ..search_space import SearchSpace
from ._common import Results, _data, _figure, _rasterize, _time_axis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "plot_pareto_front",
    "plot_hypervolume",
    "hypervolume_history",
    "several_objectives",
    "default_reference",
]


def several_objectives(records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the successful records carry two or more objectives."""
    return any(len(r.get("losses") or ()) > 1 for r in records if r["status"] == Status.OK)


def _evaluated(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r["status"] == Status.OK and len(r.get("losses") or ()) > 1]


def default_reference(points: np.ndarray) -> np.ndarray:
    """A reference point just worse than every point: the worst value plus 10 % of the range."""
    worst, best = points.max(axis=0), points.min(axis=0)
    span = np.where(worst > best, worst - best, np.maximum(np.abs(worst), 1.0))
    return worst + 0.1 * span


def plot_pareto_front(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """The first two objectives of every successful evaluation, the Pareto front highlighted.

    The axes show the objectives as the loss function returned them (a maximized objective is
    not negated); the front is the non-dominated set over *every* objective, so with three or
    more a front member may look dominated in this projection.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        Unused; accepted so that every plot function has the same signature.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a scatter of the dominated evaluations, then one of the front (joined by a
        step line in the order of the first objective, with two objectives).
    """
    records, _ = _data(results, search_space)
    evaluated = _evaluated(records)
    figure = _figure(7, 5.5)
    ax = figure.add_subplot()
    if not evaluated:
        ax.set_title("Pareto front (no evaluation with several objectives yet)")
        return figure
    names = list(evaluated[0]["objectives"])
    shown = np.array([list(r["objectives"].values())[:2] for r in evaluated], dtype=float)
    front = pareto_mask(np.array([r["losses"] for r in evaluated], dtype=float))
    raster = _rasterize(len(evaluated))
    behind, best = shown[~front], shown[front]
    ax.scatter(behind[:, 0], behind[:, 1], s=12, color="tab:gray", alpha=0.5,
               label="dominated", rasterized=raster)  # fmt: skip
    ax.scatter(best[:, 0], best[:, 1], s=30, color="tab:red", zorder=3,
               label=f"Pareto front ({len(best)})")  # fmt: skip
    if len(names) == 2:
        order = np.argsort(shown[front, 0])
        ax.plot(
            shown[front][order, 0],
            shown[front][order, 1],
            color="tab:red",
            linewidth=1,
            drawstyle="steps-post",
        )
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    more = f" (of {len(names)} objectives)" if len(names) > 2 else ""
    ax.set_title(f"Pareto front, {len(evaluated)} evaluations{more}")
    ax.legend(loc="best")
    return figure


def hypervolume_history(
    records: Sequence[Mapping[str, Any]], reference: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hypervolume of the front after each successful evaluation, by the time it ended.

    Returns
    -------
    tuple of numpy.ndarray
        The seconds since the first evaluation started, the hypervolumes, and the reference
        point (in minimization sign; by default :func:`default_reference` of every point).
    """
    evaluated = sorted(_evaluated(records), key=lambda r: r["end"])
    if not evaluated:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    points = np.array([r["losses"] for r in evaluated], dtype=float)
    ref = default_reference(points) if reference is None else np.asarray(reference, dtype=float)
    start = min(r["start"] for r in records)
    times = np.array([r["end"] - start for r in evaluated])
    # The front grows point by point: only the new point and the old front matter.
    volumes, front = np.zeros(len(points)), np.zeros((0, points.shape[1]))
    for i, point in enumerate(points):
        front = np.vstack([front, point])
        front = front[pareto_mask(front)]
        volumes[i] = hypervolume(front, ref)
    return times, volumes, ref


def plot_hypervolume(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """The hypervolume of the Pareto front over the time its evaluations ended.

    The reference point is the worst value of each objective over the run plus 10 % of its range
    (:func:`default_reference`), so the curve compares moments of one run, not runs.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        Unused; accepted so that every plot function has the same signature.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one step line.
    """
    records, _ = _data(results, search_space)
    figure = _figure(8, 4.5)
    ax = figure.add_subplot()
    times, volumes, _ = hypervolume_history(records)
    if not len(times):
        ax.set_title("Hypervolume (no evaluation with several objectives yet)")
        return figure
    shown, unit = _time_axis(times)
    ax.step(shown, volumes, where="post", color="tab:blue")
    ax.set_xlabel(f"time since the first evaluation started ({unit})")
    ax.set_ylabel("hypervolume of the front")
    ax.set_title(f"Hypervolume over time, {len(times)} evaluations")
    return figure
