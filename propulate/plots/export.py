"""Every plot at once, and writing figures as PNG or SVG files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..search_space import SearchSpace
from ..validation import check_choice
from ._common import Results, _data, _matplotlib, _ok
from .contour import plot_contour
from .front import plot_hypervolume, plot_pareto_front, several_objectives
from .history import X_AXES, plot_history, plot_learning_curves
from .parameters import plot_importance, plot_parallel_coordinates, plot_slices
from .runtime import plot_ecdf, plot_timeline

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOTS", "MULTIOBJECTIVE_PLOTS", "FORMATS", "make_figures", "save_figure", "plot_all"]

FORMATS = ("png", "svg")
"""The file formats :func:`~propulate.plots.plot_all` writes."""

_DPI = 120  # of PNG files

PLOTS = {
    "history": plot_history,
    "parallel_coordinates": plot_parallel_coordinates,
    "slices": plot_slices,
    "importance": plot_importance,
    "learning_curves": plot_learning_curves,
    "contour": plot_contour,
    "timeline": plot_timeline,
    "ecdf": plot_ecdf,
}
"""The plots by name, in the order :func:`~propulate.plots.plot_all` makes them."""

MULTIOBJECTIVE_PLOTS = {"pareto_front": plot_pareto_front, "hypervolume": plot_hypervolume}
"""The plots of a run with several objectives, added to :data:`PLOTS` for such a run."""


def make_figures(
    results: Results,
    kinds: Sequence[str] | None = None,
    search_space: SearchSpace | None = None,
    x: str = "time",
) -> tuple[dict[str, Figure], dict[str, str]]:
    """Make several plots, skipping those the results cannot support.

    Parameters
    ----------
    results : str, Path, CheckpointData or sequence of dict
        A checkpoint folder or its records.
    kinds : sequence of str, optional
        Names from :data:`~propulate.plots.export.PLOTS` or
        :data:`~propulate.plots.export.MULTIOBJECTIVE_PLOTS`; by default all of the first and,
        for a run with several objectives, the second.
    search_space : SearchSpace, optional
        The run's search space; by default the checkpoint's (or inferred from the values).
    x : str
        The x axis of the history (see :func:`~propulate.plots.plot_history`).

    Returns
    -------
    figures : dict of str to Figure
        The figures made, by name.
    skipped : dict of str to str
        Why each other requested plot was not made.
    """
    _matplotlib()
    check_choice("make_figures", "x", x, X_AXES)
    records, space = _data(results, search_space)
    several = several_objectives(records)
    if kinds is None:
        kinds = list(PLOTS) + (list(MULTIOBJECTIVE_PLOTS) if several else [])
    kinds = list(kinds)
    known = {**PLOTS, **MULTIOBJECTIVE_PLOTS}
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise ValueError(f"unknown plot(s) {unknown}; choose from {list(known)}.")
    figures: dict[str, Figure] = {}
    skipped: dict[str, str] = {}
    ok = len(_ok(records))
    for kind in kinds:
        if kind == "learning_curves" and not any(r.get("curve") for r in records):
            skipped[kind] = (
                "no learning curves (the loss function did not yield intermediate losses)"
            )
        elif kind in ("parallel_coordinates", "slices", "contour", "ecdf") and ok == 0:
            skipped[kind] = "no successful evaluation yet"
        elif kind == "contour" and len(space) < 2:
            skipped[kind] = "one hyperparameter: there is no pair to show"
        elif kind == "importance" and len(records) < 10:
            skipped[kind] = f"{len(records)} evaluations; the estimate needs at least 10"
        elif kind in MULTIOBJECTIVE_PLOTS and not several:
            skipped[kind] = "one objective: the loss function returned one value"
        elif kind == "history":
            figures[kind] = plot_history(records, space, x=x)
        else:
            figures[kind] = known[kind](records, space)
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
    x: str = "time",
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
        Names from :data:`~propulate.plots.export.PLOTS` or
        :data:`~propulate.plots.export.MULTIOBJECTIVE_PLOTS`; all that apply by default.
    x : str
        The x axis of the history (see :func:`~propulate.plots.plot_history`).

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
    figures, skipped = make_figures(results, kinds, x=x)
    out_dir = Path(out_dir)
    written: dict[str, list[Path]] = {}
    for name, figure in figures.items():
        written[name] = [save_figure(figure, out_dir / f"{name}.{fmt}", fmt) for fmt in formats]
    return written, skipped
