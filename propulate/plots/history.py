"""Plots over the course of a run: every loss over time, and the learning curves."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..population import Status
from ..search_space import SearchSpace
from ..validation import check_choice
from ._common import (
    _CLIP_QUANTILE,
    _CMAP,
    Results,
    _data,
    _figure,
    _island_colors,
    _loss_norm,
    _loss_scale,
    _plural,
    _rasterize,
    _time_axis,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_learning_curves", "X_AXES"]

X_AXES = ("time", "evaluations")
"""The x axes :func:`plot_history` offers."""


def plot_history(
    results: Results, search_space: SearchSpace | None = None, x: str = "time"
) -> Figure:
    """Every loss over the time its evaluation ended, with the running best, per island.

    Failed evaluations (loss ``inf``) are marked by crosses along the top edge, pruned ones by
    hollow grey circles (at their last intermediate loss). The loss axis is logarithmic when the
    losses are positive and span more than two decades.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        Unused; accepted so that every plot function has the same signature.
    x : str
        The x axis, ``"time"`` or ``"evaluations"``: the time since the first evaluation
        started, or the evaluation's number in the order the evaluations ended (1, 2, ...),
        which spreads out the points of a run with a pause or a slow start.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its scatter collections hold one point per evaluation. The legend sits
        outside the axes, right of them, so it hides no data.
    """
    check_choice("plot_history", "x", x, X_AXES)
    records, _ = _data(results, search_space)
    figure = _figure(9, 5)
    ax = figure.add_subplot()
    if not records:
        ax.set_title("Optimization history (no evaluations yet)")
        return figure
    times, x_label = _x_values(records, x)
    losses = np.array([r["loss"] for r in records], dtype=float)
    statuses = np.array([r["status"] for r in records])
    islands = np.array([r["island"] for r in records])
    colors = _island_colors(islands.tolist())
    several = len(colors) > 1
    finite = np.isfinite(losses)
    raster = _rasterize(len(records))
    for island, color in colors.items():
        on_island = islands == island
        ok = on_island & finite & (statuses != Status.PRUNED)
        ax.scatter(
            times[ok],
            losses[ok],
            s=12,
            color=color,
            alpha=0.6,
            linewidths=0,
            label=f"island {island}" if several else "evaluation",
            rasterized=raster,
            zorder=2,
        )
        pruned = on_island & finite & (statuses == Status.PRUNED)
        if pruned.any():
            ax.scatter(
                times[pruned],
                losses[pruned],
                s=14,
                facecolors="none",
                edgecolors="grey",
                linewidths=0.8,
                label=f"pruned (island {island})" if several else "pruned",
                rasterized=raster,
                zorder=2,
            )
        if several:
            label = f"best on island {island}" if len(colors) <= 4 else None
            if island == min(colors) and label is None:
                label = "best per island (dashed)"
            _running_best(ax, times, losses, statuses, on_island, color, "--", label)
    _running_best(
        ax,
        times,
        losses,
        statuses,
        np.ones(len(records), bool),
        "black",
        "-",
        "best so far (all islands)" if several else "best so far",
    )
    ax.set_yscale(_loss_scale(losses))
    if (~finite).any():
        failed = ~finite
        # Make room above the data for a strip of failures, whatever the loss scale.
        bottom, top = ax.get_ylim()
        if ax.get_yscale() == "log":
            ax.set_ylim(bottom, top * (top / bottom) ** 0.12)
        else:
            ax.set_ylim(bottom, top + 0.12 * (top - bottom))
        ax.plot([0, 1], [0.93, 0.93], transform=ax.transAxes, color="tab:red", lw=0.6, ls=":")
        # x in data units, y in axes units: the strip stays at the top.
        ax.scatter(
            times[failed],
            np.full(int(failed.sum()), 0.965),
            transform=ax.get_xaxis_transform(),
            marker="x",
            s=18,
            color="tab:red",
            label=f"failed ({int(failed.sum())}, loss inf)",
            rasterized=raster,
            zorder=3,
        )
    ax.set_xlabel(x_label)
    if x == "evaluations":
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss")
    ax.set_title(
        f"Optimization history: {_plural(len(records), 'evaluation')}, "
        f"{_plural(len({r['rank'] for r in records}), 'worker')}, "
        f"{_plural(len(colors), 'island')}"
    )
    ax.grid(alpha=0.3)
    # Outside the axes: inside, the legend hid points wherever it was put (the MNIST history).
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", fontsize="small")
    return figure


def _x_values(records: Sequence[Mapping[str, Any]], x: str) -> tuple[np.ndarray, str]:
    """The x value of each record, and the axis label."""
    ends = np.array([r["end"] for r in records], dtype=float)
    if x == "evaluations":
        numbers = np.empty(len(records))
        numbers[np.argsort(ends, kind="stable")] = np.arange(1, len(records) + 1)
        return numbers, "evaluation (numbered in the order they ended)"
    t0 = min(r["start"] for r in records)
    times, unit = _time_axis(ends - t0)
    return times, f"time since the first evaluation started ({unit})"


def _running_best(
    ax: Axes,
    times: np.ndarray,
    losses: np.ndarray,
    statuses: np.ndarray,
    mask: np.ndarray,
    color: Any,
    style: str,
    label: str | None,
) -> None:
    chosen = mask & np.isfinite(losses) & (statuses == Status.OK)
    if not chosen.any():
        return
    order = np.argsort(times[chosen], kind="stable")
    x = times[chosen][order]
    best = np.minimum.accumulate(losses[chosen][order])
    x = np.append(x, times.max())
    best = np.append(best, best[-1])
    ax.step(x, best, where="post", color=color, linestyle=style, linewidth=1.6, label=label)


def plot_learning_curves(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """The intermediate losses of each evaluation whose loss function yielded them.

    Each line is one evaluation, coloured by its final loss (pruned ones dashed); the colours
    span the best final loss to the 90th percentile.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        Unused; accepted so that every plot function has the same signature.

    Returns
    -------
    matplotlib.figure.Figure
        One axes whose ``LineCollection`` s hold one line per learning curve.

    Raises
    ------
    ValueError
        If no record has a learning curve (the loss function was not a generator).
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import MaxNLocator

    records, _ = _data(results, search_space)
    curved = [r for r in records if r.get("curve")]
    if not curved:
        raise ValueError(
            "no learning curves in these results: they are recorded when the loss function is "
            "a generator that yields intermediate losses (e.g. one per epoch)."
        )
    curved.sort(key=lambda r: -_final(r))  # best drawn last
    finals = np.array([_final(r) for r in curved])
    norm = _loss_norm(finals, _CLIP_QUANTILE)
    figure = _figure(8, 5)
    ax = figure.add_subplot()
    all_values = np.concatenate([np.asarray(r["curve"], dtype=float) for r in curved])
    raster = _rasterize(len(curved))
    alpha = 0.8 if len(curved) < 100 else 0.4
    for pruned in (False, True):
        chosen = [i for i, r in enumerate(curved) if (r["status"] == Status.PRUNED) == pruned]
        if not chosen:
            continue
        segments = [
            np.column_stack([np.arange(1, len(curved[i]["curve"]) + 1), curved[i]["curve"]])
            for i in chosen
        ]
        lines = LineCollection(
            segments,
            cmap=_CMAP,
            norm=norm,
            linewidths=1.0,
            alpha=alpha,
            linestyles="--" if pruned else "-",
            rasterized=raster,
        )
        lines.set_array(finals[chosen])
        ax.add_collection(lines)
    # A curve of one value is a line of no length, which draws nothing: mark it with a dot.
    single = [i for i, r in enumerate(curved) if len(r["curve"]) == 1]
    if single:
        ax.scatter(
            np.ones(len(single)),
            [curved[i]["curve"][0] for i in single],
            c=finals[single],
            cmap=_CMAP,
            norm=norm,
            s=16,
            zorder=3,
            label="curves of one value",
            rasterized=_rasterize(len(single)),
        )
    longest = max(len(r["curve"]) for r in curved)
    ax.set_xlim(0.8, longest + 0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole epochs
    finite = all_values[np.isfinite(all_values)]
    if len(finite):
        low, high = float(finite.min()), float(finite.max())
        pad = 0.05 * (high - low) or 0.5
        scale = _loss_scale(finite)
        ax.set_yscale(scale)
        ax.set_ylim(*((low / 1.3, high * 1.3) if scale == "log" else (low - pad, high + pad)))
    ax.set_xlabel("step (value yielded by the loss function)")
    ax.set_ylabel("intermediate loss")
    pruned_count = sum(r["status"] == Status.PRUNED for r in curved)
    note = f", {pruned_count} pruned (dashed)" if pruned_count else ""
    ax.set_title(f"Learning curves: {_plural(len(curved), 'evaluation')}{note}")
    ax.grid(alpha=0.3)
    figure.colorbar(ScalarMappable(norm=norm, cmap=_CMAP), ax=ax, label="final loss", extend="max")
    return figure


def _final(record: Mapping[str, Any]) -> float:
    loss = float(record["loss"])
    if math.isfinite(loss):
        return loss
    curve = [v for v in record["curve"] if math.isfinite(v)]
    return curve[-1] if curve else math.inf
