"""Plots of a run's results: history, parameters, importance, learning curves, timeline, ECDF.

With several objectives, also the Pareto front and the hypervolume over time.

Every function takes the results as a checkpoint folder, a
:class:`~propulate.results.CheckpointData` or records from
:func:`~propulate.results.load_results`, and returns a
:class:`matplotlib.figure.Figure`. The figures are built without :mod:`matplotlib.pyplot` and
rendered with the Agg backend, so plotting works on a cluster's login node without a display and
never changes the backend of a notebook that imports Propulate. :func:`plot_all` writes every plot
as PNG and/or SVG.

Needs matplotlib (``pip install 'propulate[plots]'``).
"""

from ._common import Results as Results  # the type of every plot's first argument
from .contour import plot_contour
from .export import FORMATS, MULTIOBJECTIVE_PLOTS, PLOTS, make_figures, plot_all, save_figure
from .front import plot_hypervolume, plot_pareto_front
from .history import plot_history, plot_learning_curves
from .parameters import plot_importance, plot_parallel_coordinates, plot_slices
from .runtime import busy_share, plot_ecdf, plot_timeline

__all__ = [
    "PLOTS",
    "MULTIOBJECTIVE_PLOTS",
    "FORMATS",
    "plot_pareto_front",
    "plot_hypervolume",
    "plot_history",
    "plot_parallel_coordinates",
    "plot_slices",
    "plot_importance",
    "plot_learning_curves",
    "plot_contour",
    "plot_timeline",
    "plot_ecdf",
    "busy_share",
    "make_figures",
    "save_figure",
    "plot_all",
]
