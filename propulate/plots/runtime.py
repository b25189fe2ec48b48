"""Plots of how the run spent its time and what it found: the workers' timeline, the loss ECDF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..population import Status
from ..search_space import SearchSpace
from ._common import (
    _STATUS_COLORS,
    Results,
    _data,
    _figure,
    _island_colors,
    _loss_scale,
    _plural,
    _rasterize,
    _time_axis,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_timeline", "plot_ecdf", "busy_share"]

_SECONDS_PER = {"hours": 3600.0, "minutes": 60.0, "seconds": 1.0}
_BAR_HEIGHT = 0.7  # of a worker's row; the gaps between rows keep neighbouring bars apart


def busy_share(records: Sequence[Mapping[str, Any]]) -> float:
    """The share of the workers' time spent evaluating, from the first start to the last end.

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`~propulate.results.load_results`.

    Returns
    -------
    float
        The summed durations over (number of workers x the run's span); 1 means no worker was
        ever idle. A pause between a stop and a resume counts as idle time. ``nan`` without
        records or when the span is 0.
    """
    if not records:
        return float("nan")
    span = max(r["end"] for r in records) - min(r["start"] for r in records)
    workers = len({r["rank"] for r in records})
    if span <= 0:
        return float("nan")
    return sum(r["duration"] for r in records) / (workers * span)


def plot_timeline(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """One row per worker, one bar per evaluation from its start to its end, coloured by status.

    The gaps between bars are the time a worker spent not evaluating: breeding, talking to
    its peers, waiting for a checkpoint, or a pause between a stop and a resume. In a
    synchronous (generational) search the gaps line up across rows; Propulate's workers never
    wait for each other, so they do not.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        Unused; accepted so that every plot function has the same signature.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose ``PolyCollection`` s (one per status present) hold one rectangle per
        evaluation; the title gives the share of the workers' time spent evaluating.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    records, _ = _data(results, search_space)
    workers = sorted({(r["rank"], r["island"]) for r in records})
    figure = _figure(9, min(1.6 + 0.32 * max(len(workers), 1), 12))
    ax = figure.add_subplot()
    if not records:
        ax.set_title("Timeline of the workers (no evaluations yet)")
        return figure
    row = {rank: i for i, (rank, _) in enumerate(workers)}
    t0 = min(r["start"] for r in records)
    starts = np.array([r["start"] - t0 for r in records])
    ends = np.array([r["end"] - t0 for r in records])
    ends, unit = _time_axis(ends)
    starts = starts / _SECONDS_PER[unit]
    handles = []
    for status, color in _STATUS_COLORS.items():
        chosen = [i for i, r in enumerate(records) if r["status"] == status]
        if not chosen:
            continue
        boxes = []
        for i in chosen:
            y = row[records[i]["rank"]] - _BAR_HEIGHT / 2
            # A zero-length evaluation would vanish: give it a hairline width instead.
            left, right = starts[i], max(ends[i], starts[i] + 1e-9)
            boxes.append([(left, y), (right, y), (right, y + _BAR_HEIGHT), (left, y + _BAR_HEIGHT)])
        bars = PolyCollection(
            boxes,
            facecolors=color,
            edgecolors=color,
            linewidths=0.3,  # keeps bars visible when a run is much longer than one evaluation
            rasterized=_rasterize(len(chosen)),
            label=status,
        )
        ax.add_collection(bars)
        handles.append(Patch(color=color, label=f"{status} ({len(chosen)})"))
    ax.set_xlim(0, float(ends.max()) * 1.01 or 1.0)
    ax.set_ylim(len(workers) - 0.5, -0.5)  # rank 0 on top
    several = len({island for _, island in workers}) > 1
    labels = [f"rank {r}" + (f" (island {i})" if several else "") for r, i in workers]
    step = max(1, len(workers) // 30)  # at most ~30 labels
    ax.set_yticks(range(0, len(workers), step), labels[::step])
    ax.set_xlabel(f"time since the first evaluation started ({unit})")
    ax.set_ylabel("worker")
    busy = busy_share(records)
    ax.set_title(
        f"Timeline: {_plural(len(records), 'evaluation')} on {_plural(len(workers), 'worker')}; "
        f"busy {busy:.0%} of the time"
    )
    ax.grid(axis="x", alpha=0.3)
    figure.legend(handles=handles, loc="outside right upper", fontsize="small", title="status")
    return figure


def plot_ecdf(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """The empirical distribution of the losses: the share of evaluations at or below a loss.

    One step line for all evaluations (and one per island when there are several). The share
    is of every evaluation, so the line ends below 1 by the share of failed (and, with a
    pruned loss below the shown range, pruned) evaluations. The loss axis is logarithmic when
    the losses are positive and span more than two decades.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        Unused; accepted so that every plot function has the same signature.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its first line is the distribution of all evaluations, with one vertex per
        successful evaluation.
    """
    records, _ = _data(results, search_space)
    figure = _figure(8, 5)
    ax = figure.add_subplot()
    ok = [r for r in records if r["status"] == Status.OK and np.isfinite(r["loss"])]
    if not ok:
        ax.set_title("Distribution of the losses (no successful evaluation yet)")
        return figure
    groups: list[tuple[str, list[Mapping[str, Any]], int, Any]] = [
        ("all evaluations", ok, len(records), "black")
    ]
    islands = sorted({r["island"] for r in records})
    if len(islands) > 1:
        colors = _island_colors(islands)
        for island in islands:
            on_island = [r for r in ok if r["island"] == island]
            total = sum(r["island"] == island for r in records)
            if on_island:
                groups.append((f"island {island}", on_island, total, colors[island]))
    for label, chosen, total, color in groups:
        losses = np.sort(np.array([r["loss"] for r in chosen], dtype=float))
        shares = np.arange(1, len(losses) + 1) / total
        width = 2.0 if color == "black" else 1.2
        ax.step(losses, shares, where="post", color=color, linewidth=width, label=label)
    all_losses = np.array([r["loss"] for r in ok], dtype=float)
    ax.set_xscale(_loss_scale(all_losses))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("loss")
    ax.set_ylabel("share of evaluations with a loss \u2264 x")
    failed = sum(r["status"] == Status.FAILED for r in records)
    pruned = sum(r["status"] == Status.PRUNED for r in records)
    parts = [f"{n} {word}" for n, word in ((failed, "failed"), (pruned, "pruned")) if n]
    note = f" ({', '.join(parts)}: counted, never \u2264 x)" if parts else ""
    ax.set_title(f"Distribution of the losses: {_plural(len(records), 'evaluation')}{note}")
    ax.grid(alpha=0.3)
    if len(groups) > 1:
        ax.legend(loc="lower right", fontsize="small")
    return figure
