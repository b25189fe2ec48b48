"""Plots of a run's results: history, parallel coordinates, slices, importance, learning curves.

Every function takes the results as a checkpoint folder, a
:class:`~propulate.results.CheckpointData` or records from
:func:`~propulate.results.load_results`, and returns a
:class:`matplotlib.figure.Figure`. The figures are built without :mod:`matplotlib.pyplot` and
rendered with the Agg backend, so plotting works on a cluster's login node without a display and
never changes the backend of a notebook that imports Propulate. :func:`plot_all` writes every plot
as PNG and/or SVG.

Needs matplotlib (``pip install 'propulate[plots]'``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .population import Status
from .results import CheckpointData, parameter_importance, read_checkpoint
from .search_space import Dimension, SearchSpace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

__all__ = [
    "PLOTS",
    "FORMATS",
    "plot_history",
    "plot_parallel_coordinates",
    "plot_slices",
    "plot_importance",
    "plot_learning_curves",
    "make_figures",
    "save_figure",
    "plot_all",
]

log = logging.getLogger(__name__)

FORMATS = ("png", "svg")
"""The file formats :func:`plot_all` writes."""

Results = str | Path | CheckpointData | Sequence[Mapping[str, Any]]
_CMAP = "viridis"  # low losses dark: the good lines, drawn last, stand out on white
# Above this many points collections are rasterized inside SVGs, which would otherwise grow huge.
_RASTERIZE_ABOVE = 5000
_DPI = 120
_LOG_RATIO = 100.0  # positive losses spanning more than this ratio are shown on a log scale
_CLIP_QUANTILE = 0.9
_LABEL_BOX = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.6}


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(
            "Propulate's plots need matplotlib: pip install 'propulate[plots]' "
            "(or pip install matplotlib)."
        ) from error
    return matplotlib


def _figure(width: float, height: float) -> Figure:
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # render with Agg whatever pyplot's backend is
    return figure


def _data(
    results: Results, search_space: SearchSpace | None
) -> tuple[list[Mapping[str, Any]], SearchSpace]:
    """The records and search space of any accepted form of results."""
    if isinstance(results, (str, Path)):
        results = read_checkpoint(results)
    if isinstance(results, CheckpointData):
        records: list[Mapping[str, Any]] = list(results.records)
        search_space = search_space or results.search_space
    else:
        records = list(results)
    if search_space is None:
        search_space = _infer_space(records)
    return records, search_space


def _infer_space(records: Sequence[Mapping[str, Any]]) -> SearchSpace:
    """A search space spanning the values in ``records`` (when the run's is not at hand).

    Positive floats spanning more than two decades are assumed to be log-scaled.
    """
    columns: dict[str, list[Any]] = {}
    for r in records:
        for name, value in r["params"].items():
            columns.setdefault(name, []).append(value)
    if not columns:
        raise ValueError("no records to plot: the run has not evaluated anything yet.")
    limits: dict[str, tuple[Any, ...]] = {}
    for name, values in columns.items():
        if any(isinstance(v, str) for v in values):
            limits[name] = tuple(dict.fromkeys(str(v) for v in values))
        elif all(isinstance(v, (int, np.integer)) for v in values):
            limits[name] = (int(min(values)), int(max(values)))
        else:
            low, high = float(min(values)), float(max(values))
            if low > 0 and high / low > _LOG_RATIO:  # e.g. learning rates: guess a log scale
                limits[name] = (low, high, "log")
            else:
                limits[name] = (low, high if high > low else low + 1.0)
    return SearchSpace(limits)


def _unit(dimension: Dimension, values: Sequence[Any]) -> np.ndarray:
    """Values on a 0..1 scale: by the dimension's bounds (log where log), categories spread."""
    if dimension.kind == "categorical":
        count = len(dimension.choices)
        index = np.array([dimension.choices.index(v) for v in values], dtype=float)
        return index / (count - 1) if count > 1 else np.full(len(values), 0.5)
    return np.array([dimension.to_unit(float(v)) for v in values])


def _loss_scale(losses: np.ndarray) -> str:
    """``"log"`` when the finite losses are positive and span more than two decades."""
    finite = losses[np.isfinite(losses)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > _LOG_RATIO:
        return "log"
    return "linear"


def _loss_norm(losses: np.ndarray, clip_quantile: float | None = None) -> Normalize:
    """A colour scale for losses; with ``clip_quantile``, losses above that quantile saturate."""
    from matplotlib.colors import LogNorm, Normalize

    finite = losses[np.isfinite(losses)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    if clip_quantile is not None and len(finite):
        # A few very bad losses would squeeze every good one into one colour.
        high = float(np.quantile(finite, clip_quantile))
    if high <= low:
        high = low + 1.0
    if low > 0 and high / low > _LOG_RATIO:
        return LogNorm(low, high, clip=True)
    return Normalize(low, high, clip=True)


def _time_axis(seconds: np.ndarray) -> tuple[np.ndarray, str]:
    span = float(seconds.max()) if len(seconds) else 0.0
    if span > 2 * 3600:
        return seconds / 3600, "hours"
    if span > 120:
        return seconds / 60, "minutes"
    return seconds, "seconds"


def _island_colors(islands: Sequence[int]) -> dict[int, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return {island: palette(i % 10) for i, island in enumerate(sorted(set(islands)))}


def _rasterize(n: int) -> bool:
    return n > _RASTERIZE_ABOVE


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ----- the plots --------------------------------------------------------------------------------
def plot_history(results: Results, search_space: SearchSpace | None = None) -> Figure:
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

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its scatter collections hold one point per evaluation.
    """
    records, _ = _data(results, search_space)
    figure = _figure(9, 5)
    ax = figure.add_subplot()
    if not records:
        ax.set_title("Optimization history (no evaluations yet)")
        return figure
    t0 = min(r["start"] for r in records)
    times, unit = _time_axis(np.array([r["end"] - t0 for r in records]))
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
    ax.set_xlabel(f"time since the first evaluation started ({unit})")
    ax.set_ylabel("loss")
    ax.set_title(
        f"Optimization history: {_plural(len(records), 'evaluation')}, "
        f"{_plural(len({r['rank'] for r in records}), 'worker')}, "
        f"{_plural(len(colors), 'island')}"
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return figure


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


def _ok(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r["status"] == Status.OK and math.isfinite(r["loss"])]


def plot_parallel_coordinates(results: Results, search_space: SearchSpace | None = None) -> Figure:
    """One line per successful evaluation across an axis per hyperparameter, coloured by loss.

    Each axis spans its hyperparameter's bounds (logarithmic for log-scaled ones; categorical
    choices evenly spaced), the last axis the loss. The best lines are drawn on top. The loss
    axis and the colours span the best loss to the 90th percentile (a few very bad losses would
    otherwise squeeze all others together); worse losses sit at the top, marked ``≥``.

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
        evaluation.
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
    columns = [_unit(d, [r["params"][d.name] for r in ok]) for d in dims]
    loss_unit = np.asarray(norm(losses), dtype=float) if len(ok) else np.zeros(0)
    columns.append(np.clip(loss_unit, 0, 1))
    xs = np.arange(len(columns), dtype=float)
    segments = [np.column_stack([xs, [c[i] for c in columns]]) for i in range(len(ok))]
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
            ax.text(
                x - 0.03, unit, text, ha="right", va="center", fontsize=7, bbox=_LABEL_BOX, zorder=4
            )
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
                bbox=_LABEL_BOX,
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


def _axis_labels(d: Dimension) -> list[tuple[float, str]]:
    """Tick positions (0..1) and texts for one parallel-coordinates axis."""
    if d.kind == "categorical":
        count = len(d.choices)
        return [(i / (count - 1) if count > 1 else 0.5, c) for i, c in enumerate(d.choices)]
    if d.kind == "int" and not d.log and d.high - d.low <= 10:
        values: list[float] = list(range(int(d.low), int(d.high) + 1))
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
        values = [r["params"][d.name] for r in ok]
        if d.kind == "categorical":
            x = np.array([d.choices.index(v) for v in values], dtype=float) + jitter
            ax.set_xticks(range(len(d.choices)), d.choices)
            ax.set_xlim(-0.5, len(d.choices) - 0.5)
        else:
            x = np.array(values, dtype=float)
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
    biased by the search's non-uniform sampling, noisy with few evaluations).

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one bar per hyperparameter, most important on top.
    """
    records, space = _data(results, search_space)
    importance = parameter_importance(records, space)
    ranked = sorted(importance.items(), key=lambda item: np.nan_to_num(item[1], nan=-1.0))
    figure = _figure(7, 1.2 + 0.45 * len(ranked))
    ax = figure.add_subplot()
    names = [name for name, _ in ranked]
    values = [0.0 if math.isnan(v) else v for _, v in ranked]
    bars = ax.barh(names, values, color="tab:blue")
    for bar, (_, value) in zip(bars, ranked, strict=True):
        text = "n/a" if math.isnan(value) else f"{value:.2f}"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {text}", va="center")
    top = max([v for v in values if v > 0], default=1.0)
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel("share of the loss-rank variance explained alone (adjusted, first-order)")
    ax.set_title(
        f"Hyperparameter importance ({_plural(len(records), 'evaluation')}; "
        "main effects only, see docs)"
    )
    ax.grid(axis="x", alpha=0.3)
    return figure


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
    longest = max(len(r["curve"]) for r in curved)
    ax.set_xlim(0.8, longest + 0.2)
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


# ----- all at once -------------------------------------------------------------------------------
PLOTS = {
    "history": plot_history,
    "parallel_coordinates": plot_parallel_coordinates,
    "slices": plot_slices,
    "importance": plot_importance,
    "learning_curves": plot_learning_curves,
}
"""The plots by name, in the order :func:`plot_all` makes them."""


def make_figures(
    results: Results,
    kinds: Sequence[str] | None = None,
    search_space: SearchSpace | None = None,
) -> tuple[dict[str, Figure], dict[str, str]]:
    """Make several plots, skipping those the results cannot support.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    kinds : sequence of str, optional
        Names from :data:`PLOTS`; all by default.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).

    Returns
    -------
    figures : dict of str to Figure
        The figures made, by name.
    skipped : dict of str to str
        Why each other requested plot was not made.
    """
    _matplotlib()
    kinds = list(PLOTS) if kinds is None else list(kinds)
    unknown = [k for k in kinds if k not in PLOTS]
    if unknown:
        raise ValueError(f"unknown plot(s) {unknown}; choose from {list(PLOTS)}.")
    records, space = _data(results, search_space)
    figures: dict[str, Figure] = {}
    skipped: dict[str, str] = {}
    ok = len(_ok(records))
    for kind in kinds:
        if kind == "learning_curves" and not any(r.get("curve") for r in records):
            skipped[kind] = (
                "no learning curves (the loss function did not yield intermediate losses)"
            )
        elif kind in ("parallel_coordinates", "slices") and ok == 0:
            skipped[kind] = "no successful evaluation yet"
        elif kind == "importance" and len(records) < 10:
            skipped[kind] = f"{len(records)} evaluations; the estimate needs at least 10"
        else:
            figures[kind] = PLOTS[kind](records, space)
    return figures, skipped


def save_figure(figure: Figure, path: str | Path, fmt: str | None = None) -> Path:
    """Save ``figure`` as PNG or SVG (by ``fmt`` or the path's suffix) and return the path."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not supported; choose from {FORMATS}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    from matplotlib import rc_context

    # SVG text as <text>, not glyph outlines: smaller, searchable and editable files.
    with rc_context({"svg.fonttype": "none"}):
        figure.savefig(path, format=fmt, dpi=_DPI)
    return path


def plot_all(
    results: Results,
    out_dir: str | Path,
    formats: Sequence[str] = ("png",),
    kinds: Sequence[str] | None = None,
) -> tuple[dict[str, list[Path]], dict[str, str]]:
    """Write every plot the results support into ``out_dir`` as ``<name>.<format>``.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    out_dir : str or Path
        The folder to write into (created if needed).
    formats : sequence of str
        Any of ``"png"`` and ``"svg"``.
    kinds : sequence of str, optional
        Names from :data:`PLOTS`; all by default.

    Returns
    -------
    written : dict of str to list of Path
        The files written per plot.
    skipped : dict of str to str
        Why each other plot was not made.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"formats {list(formats)}: choose one or more of {FORMATS}.")
    figures, skipped = make_figures(results, kinds)
    out_dir = Path(out_dir)
    written: dict[str, list[Path]] = {}
    for name, figure in figures.items():
        written[name] = [save_figure(figure, out_dir / f"{name}.{fmt}", fmt) for fmt in formats]
    return written, skipped
