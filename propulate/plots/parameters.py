"""Plots of the hyperparameters: parallel coordinates, slices and importance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..population import Status
from ..results import parameter_importance
from ..search_space import Dimension, SearchSpace
from ._common import (
    _CLIP_QUANTILE,
    _CMAP,
    Results,
    _data,
    _figure,
    _loss_norm,
    _loss_scale,
    _ok,
    _plural,
    _rasterize,
    _unit,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_parallel_coordinates", "plot_slices", "plot_importance"]

_GUTTER = 0.3  # of the distance between two axes: the band left of an axis for its labels


def plot_parallel_coordinates(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """One line per successful evaluation across an axis per hyperparameter, coloured by loss.

    Each axis spans its hyperparameter's bounds (logarithmic for log-scaled ones; categorical
    choices evenly spaced), the last axis the loss. The best lines are drawn on top. The loss
    axis and the colours span the best loss to the 90th percentile (a few very bad losses would
    otherwise squeeze all others together); worse losses sit at the top, marked ``≥``. Each
    axis's tick labels sit in a gutter left of it that the lines skip, so no line crosses them.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).

    Returns
    -------
    matplotlib.figure.Figure
        Its first axes' first collection is a ``LineCollection`` with one line per successful
        evaluation (its vertices: the value on each axis, and ``nan`` breaks at the gutters).
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection

    records, space = _data(results, search_space)
    ok = sorted(_ok(records), key=lambda r: -r["loss"])  # worst first, best drawn last
    dims = list(space)
    figure = _figure(max(6.0, 1.6 * (len(dims) + 1) + 2), 5)
    ax = figure.add_subplot()
    losses = np.array([r["loss"] for r in ok], dtype=float)
    norm = _loss_norm(losses, _CLIP_QUANTILE)
    columns = [_unit(d, [r["params"].get(d.name) for r in ok]) for d in dims]
    loss_unit = np.asarray(norm(losses), dtype=float) if len(ok) else np.zeros(0)
    columns.append(np.clip(loss_unit, 0, 1))
    xs = np.arange(len(columns), dtype=float)
    segments = [_polyline(xs, [c[i] for c in columns]) for i in range(len(ok))]
    lines = LineCollection(
        segments,
        cmap=_CMAP,
        norm=norm,
        linewidths=1.0,
        alpha=0.7 if len(ok) < 200 else 0.35,
        rasterized=_rasterize(len(ok)),
    )
    lines.set_array(losses)
    ax.add_collection(lines)
    for x, d in zip(xs, dims, strict=False):
        ax.axvline(x, color="black", linewidth=0.8, zorder=3)
        for unit, text in _axis_labels(d):
            ax.text(x - 0.03, unit, text, ha="right", va="center", fontsize=7, zorder=4)
    ax.axvline(xs[-1], color="black", linewidth=0.8, zorder=3)
    if len(ok):
        clipped = bool(losses.max() > norm.vmax)
        for unit in (0.0, 0.25, 0.5, 0.75, 1.0):
            text = f"{float(norm.inverse(unit)):.4g}"
            ax.text(
                xs[-1] + 0.03,
                unit,
                "\u2265 " + text if clipped and unit == 1.0 else text,
                ha="left",
                va="center",
                fontsize=7,
                zorder=4,
            )
    ax.set_xlim(-0.5, xs[-1] + 0.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(xs, [*(d.name for d in dims), "loss"])
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    left_out = {
        status: sum(r["status"] == status for r in records)
        for status in (Status.FAILED, Status.PRUNED)
    }
    parts = [f"{n} {status}" for status, n in left_out.items() if n]
    note = f" ({', '.join(parts)} not shown)" if parts else ""
    ax.set_title(f"Parallel coordinates: {_plural(len(ok), 'successful evaluation')}{note}")
    figure.colorbar(
        ScalarMappable(norm=norm, cmap=_CMAP), ax=ax, label="loss", pad=0.02, extend="max"
    )
    return figure


def _polyline(xs: np.ndarray, ys: Sequence[float]) -> np.ndarray:
    """One line across the axes that stops short of each axis after the first, then resumes.

    The line reaches the gutter left of an axis at its value's height and continues from the
    axis: the gutters, where the axis's tick labels are, stay free of lines.
    """
    points = [(xs[0], ys[0])]
    for x, y in zip(xs[1:], ys[1:], strict=True):
        points += [(x - _GUTTER, y), (np.nan, np.nan), (x, y)]
    return np.array(points)


def _axis_labels(d: Dimension) -> list[tuple[float, str]]:
    """Tick positions (0..1) and texts for one parallel-coordinates axis."""
    if d.kind == "categorical":
        count = len(d.choices)
        return [(i / (count - 1) if count > 1 else 0.5, str(c)) for i, c in enumerate(d.choices)]
    values: list[float]
    if d.is_grid and d.count <= 11:
        values = [d.grid_value(i) for i in range(d.count)]
    elif d.kind == "int" and not d.log and d.high - d.low <= 10:
        values = list(range(int(d.low), int(d.high) + 1))
    else:
        values = list(dict.fromkeys(d.from_unit(u) for u in (0.0, 0.25, 0.5, 0.75, 1.0)))
    return [(d.to_unit(v), f"{v:.3g}" if isinstance(v, float) else str(v)) for v in values]


def plot_slices(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """The loss against each hyperparameter alone, one panel per hyperparameter.

    Points are coloured by the order of evaluation (light early, dark late) to show where the
    search moved; the best individual is a red star. Categorical values are jittered
    sideways so overlapping points stay visible.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per hyperparameter, whose first collection holds one point per successful
        evaluation.
    """
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import MaxNLocator

    records, space = _data(results, search_space)
    ok = _ok(records)  # already in the order evaluations ended
    dims = list(space)
    columns = min(3, len(dims))
    rows = math.ceil(len(dims) / columns)
    figure = _figure(4.2 * columns, 3.4 * rows)
    losses = np.array([r["loss"] for r in ok], dtype=float)
    scale = _loss_scale(losses)
    order = np.arange(len(ok))
    best = int(np.argmin(losses)) if len(ok) else -1
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(ok))
    # The light end of "Blues" is invisible on white: start a quarter of the way in.
    cmap = ListedColormap(colormaps["Blues"](np.linspace(0.25, 1.0, 256)))
    scatter = None
    for index, d in enumerate(dims):
        ax = figure.add_subplot(rows, columns, index + 1)
        values = [r["params"].get(d.name) for r in ok]  # None: inactive, not drawn
        if d.kind == "categorical":
            x = _unit(d, values) * max(len(d.choices) - 1, 0) + jitter
            ax.set_xticks(range(len(d.choices)), [str(c) for c in d.choices])
            ax.set_xlim(-0.5, len(d.choices) - 0.5)
        else:
            x = np.array([np.nan if v is None else v for v in values], dtype=float)
            if d.log:
                ax.set_xscale("log")
            elif d.kind == "int":
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlim(*_padded(d))
        scatter = ax.scatter(
            x,
            losses,
            c=order,
            cmap=cmap,
            vmin=0,
            vmax=max(len(ok) - 1, 1),
            s=12,
            linewidths=0,
            rasterized=_rasterize(len(ok)),
        )
        if best >= 0:
            ax.scatter(x[best], losses[best], marker="*", s=120, color="tab:red", zorder=3)
        ax.set_yscale(scale)
        ax.set_xlabel(d.name + (" (log)" if d.log else ""))
        if index % columns == 0:
            ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    if scatter is not None and len(ok):
        figure.colorbar(scatter, ax=figure.axes, label="evaluation order", shrink=0.8)
    figure.suptitle(
        f"Slices: loss against each hyperparameter ({_plural(len(ok), 'successful evaluation')}"
        f"; red star: best)"
    )
    return figure


def _padded(d: Dimension) -> tuple[float, float]:
    if d.log:
        return d.low / 1.1, d.high * 1.1
    pad = 0.03 * (d.high - d.low) or 0.5
    return d.low - pad, d.high + pad


def plot_importance(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """A bar per hyperparameter: the estimate of :func:`~propulate.results.parameter_importance`.

    That is a first-order, variance-based estimate (rank-transformed losses, adjusted
    correlation ratio); see its documentation for the method and its limits (main effects only,
    biased by the search's non-uniform sampling, noisy with few evaluations). The bars are the
    estimates divided by their sum (shares adding up to 1); each label also gives the estimate
    itself.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar per hyperparameter, most important on top; the bars' widths sum
        to 1 (or are all 0).
    """
    records, space = _data(results, search_space)
    raw = parameter_importance(records, space)
    # Shares of the summed estimate: the raw estimates are each "the share explained alone"
    # and overlap, so their sum (3.2 in one run) read like a bug.
    importance = parameter_importance(records, space, normalize=True)
    ranked = sorted(importance.items(), key=lambda item: np.nan_to_num(item[1], nan=-1.0))
    figure = _figure(7, 1.5 + 0.45 * len(ranked))
    from matplotlib.ticker import PercentFormatter

    ax = figure.add_subplot()
    names = [name for name, _ in ranked]
    values = [0.0 if math.isnan(v) else v for _, v in ranked]
    bars = ax.barh(names, values, color="tab:blue")
    for bar, (name, value) in zip(bars, ranked, strict=True):
        text = "n/a" if math.isnan(value) else f"{value:.0%} (alone: {raw[name]:.2f})"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}", va="center",
                fontsize="small")  # fmt: skip
    top = max([v for v in values if v > 0], default=1.0)
    ax.set_xlim(0, min(top * 1.45, 1.0) if top < 0.7 else 1.2)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of the importance (shares sum to 100 %)")
    # Two lines: on one, the title was wider than the figure and clipped.
    ax.set_title(
        f"Hyperparameter importance ({_plural(len(records), 'evaluation')})\n"
        "first-order, main effects only; alone: the rank-variance share explained alone",
        fontsize="medium",
    )
    ax.grid(axis="x", alpha=0.3)
    return figure
