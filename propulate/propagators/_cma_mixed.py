"""How CMA-ES searches a mixed space: margins for integers, distributions for categoricals.

CMA-ES adapts a Gaussian over continuous coordinates. On a mixed space
(:class:`MixedSpace`):

* floats and integers are the Gaussian's coordinates, in the model coordinates of
  :mod:`._coordinates` (unit coordinates; each integer owns a bin, a sample is rounded into
  the bin it falls in);
* integers get a **margin** (Y. Hamano, S. Saito, M. Nomura and S. Shirakawa, "CMA-ES with
  Margin: Lower-Bounding Marginal Probability for Mixed-Integer Black-Box Optimization",
  GECCO 2022): once the Gaussian has narrowed to less than one integer's bin, it would sample
  that integer forever, so each integer coordinate's spread is stretched (a diagonal factor
  ``A``) until a sample leaves the mean's bin with probability at least ``alpha = 1 / (n
  lambda)``. The update undoes the stretch, so the adaptation itself is CMA-ES's;
* every categorical has its own probability vector, sampled independently of the Gaussian and
  moved at each update towards the choices of the ``mu`` best individuals with their
  recombination weights, never below ``1 / (lambda k)`` for any of its ``k`` choices (the idea
  of CatCMA: Y. Hamano, R. Shirakawa, M. Nomura and S. Shirakawa, "CatCMA: Stochastic
  Optimization for Mixed-Category Problems", GECCO 2024, with a plain weighted-frequency
  update instead of its natural gradient).

On a space of floats only this changes nothing: no margin, no categorical, the same samples.

A conditional parameter (see :mod:`propulate.conditions`) keeps its coordinate of the Gaussian
(or its distribution, if categorical) in every sample; a sample whose choices leave it inactive
simply has no value for it. An individual where it was inactive enters an update at the mean in
that coordinate (:meth:`MixedSpace.impute`), so it does not move the mean there, and does not
count for that categorical's distribution.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..population import Individual
from ..search_space import SearchSpace
from ._coordinates import ModelCoordinates
from ._parzen import normal_cdf

__all__ = ["MixedSpace"]

#: How far a categorical's probabilities move towards the elite's choices per update.
CATEGORICAL_RATE = 0.3
#: The most an integer coordinate's spread is stretched by its margin.
MAX_STRETCH = 1e6


class MixedSpace:
    """The map between individuals and what CMA-ES samples on a mixed space.

    Parameters
    ----------
    space : SearchSpace
        The search space; it must have at least one float or integer parameter.
    owner : str
        The propagator's name, for error messages.

    Attributes
    ----------
    dim : int
        The number of continuous coordinates (floats and integers).
    margin : numpy.ndarray
        The stretch ``A`` of each coordinate (1 for floats, and for integers that need none).
    probabilities : list of numpy.ndarray
        One probability vector per categorical parameter, in the order of the space.
    """

    def __init__(self, space: SearchSpace, owner: str) -> None:
        self.space = space
        self.coordinates = ModelCoordinates(space)
        numeric = self.coordinates.numeric
        self._numeric = np.flatnonzero(numeric)
        self._categorical = np.flatnonzero(~numeric)
        self.dim = len(self._numeric)
        if self.dim == 0:
            raise ConfigurationError(
                f"{owner} needs at least one float or integer parameter; every parameter of "
                f"{dict(space.limits)} is categorical. Use propulate.propagators.TPE or "
                "get_default_propagator for purely categorical spaces."
            )
        self.integer = self.coordinates.integer[self._numeric]
        self.choices = self.coordinates.choices[self._categorical]
        self.margin = np.ones(self.dim)
        self.probabilities = [np.full(int(k), 1.0 / int(k)) for k in self.choices]
        # The kinds never change: computed once (it is asked on the hot path).
        self._mixed = bool(self.integer.any() or len(self._categorical))

    @property
    def mixed(self) -> bool:
        """Whether the space has integers or categoricals (else CMA-ES works as is)."""
        return self._mixed

    # ----- individuals ----------------------------------------------------------------------
    def of(self, ind: Individual) -> np.ndarray:
        """The continuous coordinates of an individual."""
        return self.coordinates.encode(ind)[self._numeric]

    def stack(self, inds: Iterable[Individual]) -> np.ndarray:
        """The continuous coordinates of several individuals, one row each."""
        inds = list(inds)
        return self.coordinates.encode_many(inds)[:, self._numeric].reshape(len(inds), self.dim)

    def categories_of(self, inds: Sequence[Individual]) -> np.ndarray:
        """The choice indices of every categorical of several individuals (-1: inactive)."""
        rows = [
            np.nan_to_num(self.coordinates.encode(ind)[self._categorical], nan=-1.0) for ind in inds
        ]
        return np.array(rows, dtype=int).reshape(len(rows), len(self._categorical))

    @staticmethod
    def impute(rows: np.ndarray, mean: np.ndarray | float) -> np.ndarray:
        """``rows`` with ``mean`` where a conditional parameter was inactive (NaN)."""
        return np.where(np.isnan(rows), mean, rows)

    def individual(self, x: np.ndarray, categories: Sequence[int]) -> Individual:
        """A new individual at continuous coordinates ``x`` (clipped) with these choices."""
        if not len(self._categorical):
            return self.coordinates.individual(x)  # its values are clipped into the limits
        row = np.empty(self.coordinates.dim)
        row[self._numeric] = np.clip(x, 0.0, 1.0)
        row[self._categorical] = categories
        return self.coordinates.individual(row)

    def random_individual(self, rng: random.Random) -> Individual:
        """A uniformly random individual (drawn from ``rng``)."""
        x = np.array([rng.random() for _ in range(self.dim)])
        return self.individual(x, [rng.randrange(int(k)) for k in self.choices])

    # ----- categorical distributions -------------------------------------------------------
    def sample_categories(self, rng: random.Random) -> list[int]:
        """One choice per categorical, drawn from its probability vector."""
        drawn = []
        for probabilities in self.probabilities:
            u, total, choice = rng.random(), 0.0, len(probabilities) - 1
            for i, p in enumerate(probabilities):
                total += p
                if u < total:
                    choice = i
                    break
            drawn.append(choice)
        return drawn

    def update_categories(self, elite: np.ndarray, weights: np.ndarray, lambd: int) -> None:
        """Move each probability vector towards the weighted choices of the ranked elite.

        Parameters
        ----------
        elite : numpy.ndarray
            Choice indices of the best individuals, best first, one row each.
        weights : numpy.ndarray
            Their positive recombination weights (summing to at most one).
        lambd : int
            ``lambda``; the floor of every probability is ``1 / (lambda k)``.
        """
        if not len(self.probabilities) or not len(elite):
            return
        w = weights[: len(elite)] / max(float(weights[: len(elite)].sum()), 1e-300)
        for j, probabilities in enumerate(self.probabilities):
            k = len(probabilities)
            has = elite[:, j] >= 0  # -1: inactive there, no evidence about this choice
            if not has.any():
                continue
            if has.all():
                target = np.bincount(elite[:, j], weights=w, minlength=k)
            else:
                target = np.bincount(elite[has, j], weights=w[has], minlength=k) / w[has].sum()
            updated = (1.0 - CATEGORICAL_RATE) * probabilities + CATEGORICAL_RATE * target
            # Every choice keeps at least the floor; the rest is shared as the update says.
            floor = 1.0 / (lambd * k)
            excess = np.maximum(updated - floor, 0.0)
            share = excess / excess.sum() if excess.sum() > 0 else np.full(k, 1.0 / k)
            self.probabilities[j] = floor + (1.0 - k * floor) * share

    # ----- integer margins ------------------------------------------------------------------
    def update_margin(self, mean: np.ndarray, spread: np.ndarray, lambd: int) -> None:
        """Stretch integer coordinates whose samples would stay in the mean's bin.

        Parameters
        ----------
        mean : numpy.ndarray
            The Gaussian's mean (continuous coordinates).
        spread : numpy.ndarray
            Each coordinate's standard deviation before the stretch, ``sigma sqrt(C_jj)``.
        lambd : int
            ``lambda``; with ``n`` coordinates, ``alpha = 1 / (n lambda)``.
        """
        self.margin = np.ones(self.dim)
        if not self.integer.any():
            return
        alpha = 1.0 / (self.dim * lambd)
        lower, upper = self._bin(mean)
        for j in np.flatnonzero(self.integer):
            s = max(float(spread[j]), 1e-300)
            if _leave(mean[j], lower[j], upper[j], s) >= alpha:
                continue
            low, high = 1.0, MAX_STRETCH
            for _ in range(60):  # bisection on the stretch (leaving is monotone in it)
                middle = math.sqrt(low * high)
                if _leave(mean[j], lower[j], upper[j], middle * s) >= alpha:
                    high = middle
                else:
                    low = middle
            self.margin[j] = high

    def _bin(self, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The continuous edges of the integer bin each coordinate of ``mean`` falls in."""
        row = np.zeros(self.coordinates.dim)
        row[self._numeric] = mean
        centre = self.coordinates.snap(row)[self._numeric]
        width = self.coordinates.bin_width[self._numeric]
        # Linear integer bins are equal; on a log scale the narrowest one bounds the stretch.
        return centre - width / 2.0, centre + width / 2.0

    # ----- state ----------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The margin and the categorical distributions, as plain data."""
        return {
            "margin": self.margin.tolist(),
            "categories": [p.tolist() for p in self.probabilities],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s output (a missing entry keeps the initial value)."""
        margin = np.asarray(state.get("margin", np.ones(self.dim)), dtype=float)
        categories = state.get("categories", [p.tolist() for p in self.probabilities])
        if margin.shape != (self.dim,) or len(categories) != len(self.probabilities):
            raise ConfigurationError(
                "CMAPropagator.set_state: the margin or categorical distributions do not fit "
                "this search space; restore a state saved by the same configuration."
            )
        self.margin = margin
        self.probabilities = [np.asarray(p, dtype=float) for p in categories]


def _leave(mean: float, lower: float, upper: float, spread: float) -> float:
    """The probability that ``N(mean, spread^2)`` falls outside ``[lower, upper]`` in [0, 1]."""
    below = normal_cdf(np.array((lower - mean) / spread)) if lower > 0.0 else 0.0
    above = 1.0 - normal_cdf(np.array((upper - mean) / spread)) if upper < 1.0 else 0.0
    return float(below + above)
