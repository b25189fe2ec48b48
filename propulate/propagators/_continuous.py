"""Shared helpers of the continuous strategies (PSO, CMA-ES, Nelder-Mead).

These strategies move points through a real vector space. They work in *unit coordinates*: every
float dimension is mapped affinely (logarithmically where the dimension is log-scaled) onto
[0, 1], so ranges of very different widths, reversed bounds and log scales need no special case
and step sizes mean "a fraction of the range".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import ConfigurationError
from ..population import Individual
from ..search_space import Limits, SearchSpace

__all__ = ["UnitBox", "loss_of", "as_items"]


def loss_of(ind: Individual) -> float:
    """The loss for comparisons: ``inf`` for missing, NaN or failed evaluations."""
    loss = ind.loss
    if loss is None or loss != loss:
        return math.inf
    return float(loss)


def as_items(inds: Sequence[Individual]) -> Sequence[Individual]:
    """A sequence that iterates fast (an :class:`ActiveView` iterates fastest through a slice)."""
    if isinstance(inds, (list, tuple)):
        return inds
    try:
        return inds[:]  # type: ignore[return-value]  # ActiveView and most sequences slice to a list
    except TypeError:
        return list(inds)


class UnitBox:
    """Vectorized map between float positions and unit coordinates.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space; every dimension must be a float range.
    owner : str
        The name of the propagator, for error messages.

    Raises
    ------
    ConfigurationError
        If a dimension is an int or categorical.
    """

    def __init__(self, limits: Limits | SearchSpace, owner: str) -> None:
        self.space = SearchSpace.of(limits)
        bad = [d for d in self.space if d.kind != "float" or d.is_grid]
        if bad:
            described = ", ".join(
                f"limits[{d.name!r}] = {self.space.limits[d.name]!r} ({d.describe()})" for d in bad
            )
            raise ConfigurationError(
                f"{owner} searches continuous spaces only (every parameter a float range); got "
                f"{described}. Write numeric bounds as float ranges, e.g. (2.0, 10.0), and round "
                "inside the loss function, or use get_default_propagator, CMAPropagator or TPE "
                "for integer, value-set, stepped and categorical parameters."
            )
        self.names = self.space.names
        self.dim = len(self.names)
        self._log = np.array([d.log for d in self.space], dtype=bool)
        self._low = np.array([d.low for d in self.space], dtype=float)
        self._high = np.array([d.high for d in self.space], dtype=float)
        scaled_low = np.where(self._log, np.log(np.where(self._log, self._low, 1.0)), self._low)
        scaled_high = np.where(self._log, np.log(np.where(self._log, self._high, 1.0)), self._high)
        self._origin = scaled_low
        # A pinned float (low == high): every unit coordinate maps to it; no division by 0.
        self._span = np.where(scaled_high > scaled_low, scaled_high - scaled_low, 1.0)

    def to_unit(self, positions: np.ndarray) -> np.ndarray:
        """Unit coordinates of float positions (one position or a stack of them)."""
        positions = np.asarray(positions, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(self._log, np.log(np.abs(positions)), positions)
        return (scaled - self._origin) / self._span

    def of(self, ind: Individual) -> np.ndarray:
        """Unit coordinates of an individual's position."""
        return self.to_unit(ind.position)

    def stack(self, inds: Iterable[Individual]) -> np.ndarray:
        """Unit coordinates of several individuals, one row each."""
        rows = [ind.position for ind in inds]
        if not rows:
            return np.zeros((0, self.dim))
        return self.to_unit(np.vstack(rows))

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        """Float positions of unit coordinates, clipped into the bounds."""
        scaled = self._origin + np.clip(unit, 0.0, 1.0) * self._span
        values = np.where(self._log, np.exp(scaled), scaled)
        return np.clip(values, self._low, self._high)

    def individual(self, unit: np.ndarray, velocity: np.ndarray | None = None) -> Individual:
        """A new, unevaluated individual at unit coordinates ``unit`` (clipped into [0, 1])."""
        values = self.from_unit(unit)
        ind = Individual._from_trusted(
            {name: float(x) for name, x in zip(self.names, values, strict=True)}, self.space
        )
        if velocity is not None:
            ind.velocity = np.array(velocity, dtype=float)
        return ind

    def key(self, unit: np.ndarray) -> tuple[float, ...]:
        """The exact float values an individual bred at ``unit`` will carry (to find it later)."""
        return tuple(float(x) for x in self.from_unit(unit))

    @staticmethod
    def key_of(ind: Individual) -> tuple[float, ...]:
        """The float values of an evaluated individual, comparable with :meth:`key`."""
        return tuple(float(x) for x in ind.position)
