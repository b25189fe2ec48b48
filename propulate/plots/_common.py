"""What every plot shares: the results in any accepted form, figures, scales and colours.

Figures are built without :mod:`matplotlib.pyplot` and rendered with the Agg backend, so plotting
works on a cluster's login node without a display and never changes the backend of a notebook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..population import Status
from ..results import CheckpointData, read_checkpoint
from ..search_space import Dimension, SearchSpace

if TYPE_CHECKING:
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

Results = str | Path | CheckpointData | Sequence[Mapping[str, Any]]
_CMAP = "viridis"  # low losses dark: the good lines, drawn last, stand out on white
# Above this many points collections are rasterized inside SVGs, which would otherwise grow huge.
_RASTERIZE_ABOVE = 5000
_LOG_RATIO = 100.0  # positive losses spanning more than this ratio are shown on a log scale
_CLIP_QUANTILE = 0.9
# Colours by status, in the order legends list them.
_STATUS_COLORS = {Status.OK: "tab:blue", Status.PRUNED: "tab:gray", Status.FAILED: "tab:red"}


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
        if all(isinstance(v, (bool, np.bool_)) for v in values):
            limits[name] = (False, True)
        elif any(isinstance(v, str) for v in values):
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
    """Values on a 0..1 scale: by the dimension's bounds (log where log), categories spread.

    ``None`` (an inactive conditional parameter) is NaN.
    """
    if dimension.kind == "categorical":
        count = len(dimension.choices)
        index = np.array(
            [np.nan if v is None else dimension.choices.index(v) for v in values], dtype=float
        )
        return index / (count - 1) if count > 1 else np.where(np.isnan(index), np.nan, 0.5)
    return np.array([np.nan if v is None else dimension.to_unit(float(v)) for v in values])


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


def _ok(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r["status"] == Status.OK and math.isfinite(r["loss"])]
