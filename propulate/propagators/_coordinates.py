"""Model coordinates of a mixed search space: one column per hyperparameter.

Model-based strategies (TPE, CMA-ES on mixed spaces) need every kind of hyperparameter as a
number they can put a density or a Gaussian on. :class:`ModelCoordinates` maps

* a float to its unit coordinate in [0, 1] (logarithmic where the range is log-scaled);
* an integer ``lo..hi`` to [0, 1] such that every integer owns a bin of equal width
  ``1 / (hi - lo + 1)`` (on the log scale for log-scaled ranges, where the bins are the
  logarithms of ``[v - 1/2, v + 1/2]``): rounding a coordinate back gives the integer whose
  bin it falls in, so a continuous model puts as much mass on each integer as its bin holds;
* a grid (a value set or a stepped range) like the integer range ``0..n-1`` of the ranks of
  its ``n`` legal values, so a model sees evenly spaced ordinal values and every decoded
  coordinate is a legal value;
* a categorical to the index of its choice (0, 1, ...);
* an inactive conditional parameter (see :mod:`propulate.conditions`) to NaN: a model learns
  each conditional parameter only from the results where it was active, and :meth:`snap` and
  :meth:`values` drop the coordinates a row's choices leave inactive.

Encoding and decoding are vectorized over many individuals at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..population import Individual
from ..search_space import SearchSpace, Value

__all__ = ["ModelCoordinates"]


class ModelCoordinates:
    """The map between values and model coordinates of one search space.

    Parameters
    ----------
    space : SearchSpace
        The search space.

    Attributes
    ----------
    numeric : numpy.ndarray of bool
        Which columns are numeric (float or int); the others are categorical indices.
    integer : numpy.ndarray of bool
        Which columns are integers.
    bin_width : numpy.ndarray
        The width of an integer's bin in unit coordinates, the narrowest one on a log scale
        (0 for floats and categoricals).
    choices : numpy.ndarray of int
        The number of choices of each categorical column (0 for numeric ones).
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        dims = list(space)
        self.names = tuple(d.name for d in dims)
        self.dim = len(dims)
        grid = [d.is_grid for d in dims]
        self.numeric = np.array([d.kind != "categorical" for d in dims], dtype=bool)
        self.integer = np.array(
            [d.kind == "int" or g for d, g in zip(dims, grid, strict=True)], dtype=bool
        )
        self.log = np.array([d.log for d in dims], dtype=bool)
        self.choices = np.array([len(d.choices) for d in dims], dtype=int)
        # Which transformations a space needs at all: a model's hot path skips the others.
        self._any_log = bool(self.log.any())
        self._any_integer = bool(self.integer.any())
        self._any_categorical = not bool(self.numeric.all())
        # A grid's model value is the rank of its value, 0..count-1 (see the module docstring).
        self._grid = [j for j, g in enumerate(grid) if g]
        low = np.array([0.0 if d.is_grid else d.low for d in dims], dtype=float)
        high = np.array([d.count - 1.0 if d.is_grid else d.high for d in dims], dtype=float)
        # Integers own [v - 1/2, v + 1/2]: the model's range is widened by half a step.
        self._low = np.where(self.integer, low - 0.5, low)
        self._high = np.where(self.integer, high + 0.5, high)
        self._value_low, self._value_high = low, high
        scaled_low = self._scale(self._low)
        scaled_high = self._scale(self._high)
        self._origin = scaled_low
        self._span = np.where(self.numeric, scaled_high - scaled_low, 1.0)
        self._span[self._span == 0.0] = 1.0  # a pinned float (low == high): anything maps to 0
        # The narrowest integer bin: on a log scale the one of the largest integer.
        narrowest = self._scale(np.maximum(high + 0.5, 1e-300)) - self._scale(
            np.maximum(high - 0.5, 1e-300)
        )
        self.bin_width = np.where(self.integer, narrowest / self._span, 0.0)
        self._categorical_index = [
            {choice: i for i, choice in enumerate(d.choices)} if d.kind == "categorical" else {}
            for d in dims
        ]
        self._dims = dims
        self._kinds = ["grid" if g else d.kind for d, g in zip(dims, grid, strict=True)]
        # Conditions as columns: (column, [(parent column, allowed choice indices)]), parents
        # first, so one pass over the columns finds every row's active ones.
        column = {name: j for j, name in enumerate(self.names)}
        self._activity = [
            (
                column[d.name],
                [
                    (column[p], np.array([self._categorical_index[column[p]][v] for v in allowed]))
                    for p, allowed in d.condition
                ],
            )
            for d in space.conditions.order
            if d.condition
        ]

    def _scale(self, values: np.ndarray) -> np.ndarray:
        if not self._any_log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.log, np.log(np.where(self.log, values, 1.0)), values)

    # ----- encoding -------------------------------------------------------------------------
    def encode_values(self, values: Mapping[str, Value]) -> np.ndarray:
        """The model coordinates of one set of values."""
        if self._any_categorical:
            row = np.empty(self.dim)
            for j, (d, kind) in enumerate(zip(self._dims, self._kinds, strict=True)):
                value = values.get(d.name)
                if value is None:  # an inactive conditional parameter
                    row[j] = np.nan
                    continue
                row[j] = self._categorical_index[j][value] if kind == "categorical" else value
        else:
            row = np.array([values[name] for name in self.names], dtype=float)
        return self._unit(self._ranks(row))

    def encode(self, ind: Individual) -> np.ndarray:
        """The model coordinates of an individual."""
        if self._any_categorical:
            return self.encode_values(ind)
        return self._unit(self._ranks(np.array(ind.values_key(), dtype=float)))

    def encode_many(self, inds: Sequence[Individual]) -> np.ndarray:
        """The model coordinates of several individuals, one row each.

        One pass of array operations for all of them (a model ranks several individuals at a
        time; one encoding each costs the same few array calls per individual).
        """
        if self._any_categorical:
            rows = [self.encode_values(ind) for ind in inds]
            return np.array(rows, dtype=float).reshape(len(rows), self.dim)
        raw = np.array([ind.values_key() for ind in inds], dtype=float).reshape(-1, self.dim)
        if self._grid:
            for row in raw:
                self._ranks(row)
        return self._unit(raw)

    def _ranks(self, row: np.ndarray) -> np.ndarray:
        for j in self._grid:
            if row[j] == row[j]:  # NaN: inactive
                row[j] = self._dims[j].grid_index(row[j])
        return row

    def active(self, coordinates: np.ndarray) -> np.ndarray:
        """Which coordinates are active, by the choices of each row (one row or a stack)."""
        coordinates = np.asarray(coordinates, dtype=float)
        active = np.ones(coordinates.shape, dtype=bool)
        for j, condition in self._activity:
            for p, allowed in condition:
                parent = np.round(coordinates[..., p])
                active[..., j] &= active[..., p] & np.isin(parent, allowed)
        return active

    def mask(self, coordinates: np.ndarray) -> np.ndarray:
        """The coordinates with NaN where a row's choices leave a parameter inactive."""
        if not self._activity:
            return coordinates
        return np.where(self.active(coordinates), coordinates, np.nan)

    def _unit(self, raw: np.ndarray) -> np.ndarray:
        unit = (self._scale(raw) - self._origin) / self._span
        return np.where(self.numeric, unit, raw) if self._any_categorical else unit

    # ----- decoding -------------------------------------------------------------------------
    def snap(self, coordinates: np.ndarray) -> np.ndarray:
        """Coordinates moved to what their decoded values encode to (integers to bin centres).

        Floats are clipped into [0, 1], integers moved to the centre of their bin, categorical
        indices rounded and clipped; works on one row or a stack of rows.
        """
        coordinates = np.asarray(coordinates, dtype=float)
        values = self._raw_values(coordinates)
        return self.mask(self._unit(values))

    def _raw_values(self, coordinates: np.ndarray) -> np.ndarray:
        # np.minimum(np.maximum(...)) rather than np.clip: the same values, a fraction of the
        # call overhead on the one-row hot path of a proposal.
        unit = np.minimum(np.maximum(coordinates, 0.0), 1.0)
        numeric = self._origin + unit * self._span
        if self._any_log:
            numeric = np.where(self.log, np.exp(numeric), numeric)
        if self._any_integer:
            numeric = np.where(self.integer, np.round(numeric), numeric)
        numeric = np.minimum(np.maximum(numeric, self._value_low), self._value_high)
        if not self._any_categorical:
            return numeric
        index = np.clip(np.round(coordinates), 0, np.maximum(self.choices - 1, 0))
        return np.where(self.numeric, numeric, index)

    def values(self, coordinates: np.ndarray) -> dict[str, Value]:
        """The values of one row of coordinates, of the right types and inside the limits."""
        raw_row = self._raw_values(np.asarray(coordinates, dtype=float))
        raw = raw_row.tolist()
        if not (self._any_integer or self._any_categorical):
            return dict(zip(self.names, raw, strict=True))
        active = self.active(raw_row).tolist() if self._activity else None
        values: dict[str, Value] = {}
        for j, (kind, name) in enumerate(zip(self._kinds, self.names, strict=True)):
            if active is not None and not active[j]:
                continue  # an inactive conditional parameter has no value
            if kind == "categorical":
                values[name] = self._dims[j].choices[int(raw[j])]
            elif kind == "grid":
                values[name] = self._dims[j].grid_value(int(raw[j]))
            elif kind == "int":
                values[name] = int(raw[j])
            else:
                values[name] = raw[j]
        return values

    def individual(self, coordinates: np.ndarray) -> Individual:
        """A new, unevaluated individual at ``coordinates``."""
        return Individual._from_trusted(self.values(coordinates), self.space)
