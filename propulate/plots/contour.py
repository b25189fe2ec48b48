"""Contour plots: the loss over pairs of hyperparameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigurationError
from ..results import parameter_importance
from ..search_space import Dimension, SearchSpace
from ._common import (
    _CLIP_QUANTILE,
    _CMAP,
    Results,
    _data,
    _figure,
    _loss_norm,
    _ok,
    _plural,
    _rasterize,
    _unit,
)
from .parameters import _axis_labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

__all__ = ["plot_contour"]

_MAX_PARAMS = 4  # by default: 4 parameters, 6 panels; more become unreadable
_LEVELS = 12
_IMPORTANCE_NEEDS = 10  # evaluations, as parameter_importance
_GRID = 60  # cells per side of the smoothed map
_BANDWIDTH = 0.06  # of the kernel, as a share of each axis
_REACH = 0.15  # cells farther than this from every point stay empty
_MAX_POINTS = 3000


def plot_contour(
    results: Results,
    search_space: SearchSpace | None = None,
    params: Sequence[str] | None = None,
) -> Figure:
    """The loss over each pair of hyperparameters: filled contours and the evaluated points.

    Each panel smooths the losses of the successful evaluations over the pair's plane (a
    Gaussian-kernel weighted mean of the colour-scaled losses, bandwidth 6 % of each axis; the
    other parameters are ignored) and leaves empty what lies far from every evaluated point,
    so the contours show where good losses were found, not a model of the loss. The axes span
    each parameter's bounds (logarithmic for log-scaled ones, categorical choices evenly
    spaced); colours span the best loss to the 90th percentile. The best evaluation is a red
    star.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).
    params : sequence of str, optional
        The hyperparameters to pair (at least 2). By default all when there are at most 4,
        else the 4 that :func:`~propulate.results.parameter_importance` ranks highest (the
        first 4 with fewer than 10 evaluations).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per pair (``k (k - 1) / 2`` for ``k`` parameters, in a lower triangle), each
        with one scatter point per successful evaluation plus the star.

    Raises
    ------
    ConfigurationError
        If the search space has fewer than 2 parameters, or ``params`` names unknown ones.
    """
    from matplotlib.cm import ScalarMappable

    records, space = _data(results, search_space)
    names = _chosen(records, space, params)
    dims = [space[name] for name in names]
    ok = _ok(records)
    losses = np.array([r["loss"] for r in ok], dtype=float)
    norm = _loss_norm(losses, _CLIP_QUANTILE)
    k = len(dims)
    panel = 3.4 if k > 2 else 5.0
    figure = _figure(panel * (k - 1) + 1.2, panel * (k - 1) + 0.5)
    units = {d.name: _unit(d, [r["params"].get(d.name) for r in ok]) for d in dims}
    best = int(np.argmin(losses)) if len(ok) else -1
    for row in range(1, k):
        for column in range(row):
            ax = figure.add_subplot(k - 1, k - 1, (row - 1) * (k - 1) + column + 1)
            x_dim, y_dim = dims[column], dims[row]
            _panel(ax, units[x_dim.name], units[y_dim.name], losses, norm, best)
            _ticks(ax, x_dim, "x", label=row == k - 1 or k == 2)
            _ticks(ax, y_dim, "y", label=column == 0)
    figure.colorbar(
        ScalarMappable(norm=norm, cmap=_CMAP),
        ax=figure.axes,
        label="loss",
        extend="max",
        shrink=0.8 if k > 2 else 1.0,
    )
    figure.suptitle(
        f"Contours: loss over pairs of hyperparameters ({_plural(len(ok), 'successful evaluation')}"
        "; red star: best)"
    )
    return figure


def _chosen(
    records: Sequence[Mapping[str, Any]], space: SearchSpace, params: Sequence[str] | None
) -> list[str]:
    if params is not None:
        names = list(params)
        unknown = [n for n in names if n not in space.names]
        if unknown or len(set(names)) < 2:
            raise ConfigurationError(
                f"plot_contour: params={names!r}; give at least 2 distinct names from "
                f"{list(space.names)}."
            )
        return list(dict.fromkeys(names))
    names = list(space.names)
    if len(names) < 2:
        raise ConfigurationError(
            f"plot_contour needs at least 2 hyperparameters; the search space has {names}."
        )
    if len(names) <= _MAX_PARAMS or len(records) < _IMPORTANCE_NEEDS:
        return names[:_MAX_PARAMS]
    importance = parameter_importance(records, space)
    ranked = sorted(names, key=lambda n: -np.nan_to_num(importance[n], nan=-1.0))
    top = set(ranked[:_MAX_PARAMS])
    return [n for n in names if n in top]  # keep the search space's order


def _panel(
    ax: Axes, x: np.ndarray, y: np.ndarray, losses: np.ndarray, norm: Normalize, best: int
) -> None:
    both = ~(np.isnan(x) | np.isnan(y))  # where both parameters were active
    if both.any():
        z = np.clip(np.asarray(norm(losses[both]), dtype=float), 0, 1)
        grid, values = _smoothed(x[both], y[both], z)
        levels = np.linspace(0.0, 1.0, _LEVELS + 1)
        ax.contourf(grid, grid, values, levels=levels, cmap=_CMAP, alpha=0.85)
    ax.scatter(
        x,
        y,
        s=10,
        facecolors="white",
        edgecolors="black",
        linewidths=0.5,
        alpha=0.8,
        rasterized=_rasterize(len(x)),
        zorder=3,
    )
    if best >= 0:
        ax.scatter(x[best], y[best], marker="*", s=140, color="tab:red", zorder=4,
                   edgecolors="white", linewidths=0.6)  # fmt: skip
    ax.set_xlim(-0.04, 1.04)
    ax.set_ylim(-0.04, 1.04)


def _smoothed(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ma.MaskedArray]:
    """A Gaussian-kernel weighted mean of ``z`` on a grid over the unit square.

    Cells far from every evaluated point are masked (left white): the plot shows what the
    search saw, and makes up nothing where it did not look.
    """
    if len(z) > _MAX_POINTS:  # the cost is grid cells x points: thin out long runs
        keep = np.random.default_rng(0).choice(len(z), _MAX_POINTS, replace=False)
        x, y, z = x[keep], y[keep], z[keep]
    grid = np.linspace(0.0, 1.0, _GRID)
    gx, gy = np.meshgrid(grid, grid)
    d2 = (gx.ravel()[:, None] - x[None, :]) ** 2 + (gy.ravel()[:, None] - y[None, :]) ** 2
    weights = np.exp(-d2 / (2 * _BANDWIDTH**2))
    total = weights.sum(axis=1)
    values = (weights @ z) / np.maximum(total, 1e-300)
    far = d2.min(axis=1) > _REACH**2
    return grid, np.ma.masked_array(values.reshape(_GRID, _GRID), far.reshape(_GRID, _GRID))


def _ticks(ax: Axes, d: Dimension, which: str, label: bool) -> None:
    """Ticks at the dimension's values on the 0..1 scale the panel is drawn in."""
    positions, texts = zip(*_axis_labels(d), strict=True)
    name = d.name + (" (log)" if d.log else "")
    if which == "x":
        ax.set_xticks(positions, texts if label else [], fontsize=7)
        if label:
            ax.set_xlabel(name)
    else:
        ax.set_yticks(positions, texts if label else [], fontsize=7)
        if label:
            ax.set_ylabel(name)
    if d.kind == "categorical" and which == "x" and label:
        for text in ax.get_xticklabels():
            text.set_rotation(30 if max(len(c) for c in d.choices) > 6 else 0)
