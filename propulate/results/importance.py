"""How much of the loss's variation each hyperparameter explains on its own."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..search_space import SearchSpace
from .loading import _param_names

__all__ = ["parameter_importance"]


def parameter_importance(
    records: Sequence[Mapping[str, Any]],
    search_space: SearchSpace | None = None,
    bins: int = 10,
    normalize: bool = False,
) -> dict[str, float]:
    r"""Estimate how much of the variation of the loss each hyperparameter explains on its own.

    Method: a first-order, variance-based estimate (the correlation ratio :math:`\eta^2`, a
    binned estimate of the first-order Sobol index). The losses are replaced by their ranks
    (failed evaluations, with loss ``inf``, rank last) so that outliers and the loss's scale do
    not matter. For each hyperparameter the evaluations are grouped, by value for categorical
    and few-valued integer parameters and into ``bins`` equally filled bins of the value
    otherwise, and the share of the rank variance explained by the group means is computed:
    :math:`\eta^2 = \sum_g n_g (\bar y_g - \bar y)^2 / \sum_i (y_i - \bar y)^2`. It is
    corrected for the number of groups like an adjusted :math:`R^2`,
    :math:`1 - (1 - \eta^2)(n - 1)/(n - G)`, so a parameter without effect scores about 0,
    and clipped at 0.

    Limits: it sees main effects only (a parameter that matters only together with another,
    e.g. in a product or through a constraint, can score near 0); correlated parameters share
    the credit; the samples of an evolutionary search are neither independent nor uniform (late
    in a run they crowd around the best region, which hides the effect of a parameter that has
    already converged, so compare importances over the same stretch of a run); and with few
    evaluations (tens) the estimate is noisy. Use it to rank parameters, not as an exact
    decomposition; the values need not sum to 1 (ask for ``normalize=True`` to get shares that
    do).

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`load_results` (every status is used; failed ones rank last).
    search_space : SearchSpace, optional
        The run's search space, for the names and their order; taken from the records if
        omitted. (Bins are quantiles, so a log scale makes no difference.)
    bins : int
        The number of bins for continuous parameters (at least 2).
    normalize : bool
        Divide the estimates by their sum, so that they are shares adding up to 1 (all 0 when
        no parameter explains anything), as :func:`~propulate.plots.plot_importance` shows them.

    Returns
    -------
    dict of str to float
        The estimate per hyperparameter, in the search space's order; ``nan`` for all of them
        with fewer than 10 evaluations or when every loss is equal.
    """
    if bins < 2:
        raise ValueError(f"bins={bins}; use at least 2.")
    names = list(search_space.names) if search_space is not None else _param_names(records)
    n = len(records)
    losses = np.array([r["loss"] for r in records], dtype=float)
    if n < 10 or np.all(losses == losses[0]):
        return dict.fromkeys(names, math.nan)
    y = _ranks(np.where(np.isnan(losses), np.inf, losses))
    total = float(np.sum((y - y.mean()) ** 2))
    result = {}
    for name in names:
        values = [r["params"].get(name) for r in records]
        groups = _groups(values, bins)
        n_groups = int(groups.max()) + 1
        if n_groups < 2 or n_groups >= n:
            result[name] = 0.0
            continue
        counts = np.bincount(groups, minlength=n_groups)
        means = np.bincount(groups, weights=y, minlength=n_groups) / np.maximum(counts, 1)
        eta2 = float(np.sum(counts * (means - y.mean()) ** 2)) / total
        adjusted = 1.0 - (1.0 - eta2) * (n - 1) / (n - n_groups)
        result[name] = max(adjusted, 0.0)
    if normalize:
        total_share = sum(result.values())
        result = {k: v / total_share if total_share > 0 else 0.0 for k, v in result.items()}
    return result


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 with ties sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return np.asarray(sums[inverse] / counts[inverse])


def _groups(values: Sequence[Any], bins: int) -> np.ndarray:
    """Group index per value: by value if there are few distinct ones, else by quantile bin."""
    if any(isinstance(v, str) or v is None for v in values):
        labels = {v: i for i, v in enumerate(dict.fromkeys(str(v) for v in values))}
        return np.array([labels[str(v)] for v in values])
    x = np.asarray(values, dtype=float)
    distinct = np.unique(x)
    if len(distinct) <= bins:
        return np.searchsorted(distinct, x)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right")
