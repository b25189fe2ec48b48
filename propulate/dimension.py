"""One hyperparameter's validated domain: :class:`Dimension`.

A dimension is a numeric range (``kind`` ``"int"`` or ``"float"``, optionally log-scaled), a
numeric *grid* (the same kinds restricted to a set of values: an explicit value set such as
``(16, 32, 64)`` or a range with a ``step``) or a categorical (strings or booleans).

Operators and strategies move numeric values through the *unit coordinate* (0 at the lower,
1 at the upper bound). On a grid the unit coordinate is the value's rank among the legal values,
so a grid behaves as an evenly spaced ordinal whatever its spacing, and every map back to a
value (:meth:`Dimension.from_unit`, :meth:`Dimension.clip`) lands on a legal value.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Dimension", "Value"]

#: A hyperparameter's value, of any kind of dimension.
Value = int | float | str | bool

_TYPES: dict[str, type] = {"int": int, "float": float}


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter's domain.

    Attributes
    ----------
    name : str
        The hyperparameter's name (a key of the limits dictionary).
    kind : str
        ``"int"``, ``"float"`` or ``"categorical"``.
    low, high : float
        The numeric bounds with ``low <= high`` (unused for categoricals); on a grid, its
        smallest and largest legal value.
    log : bool
        Whether the dimension is searched on a logarithmic scale.
    choices : tuple of str or tuple of bool
        The categories (empty for numeric dimensions).
    offset : int
        Index of the dimension's first slot in the encoded position.
    step : float or None
        The spacing of a stepped range (legal values ``low, low + step, ..., high``).
    values : tuple of float
        The legal values of a value set, sorted (empty unless the dimension is one).
    condition : tuple of tuple
        When the dimension is active, as ``(name, values)`` pairs: each named categorical holds
        one of its listed values
        (empty: always active; see :mod:`propulate.conditions`).
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    offset: int = 0
    step: float | None = None
    values: tuple[Any, ...] = ()
    condition: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def width(self) -> int:
        """Number of slots the dimension takes in the encoded position."""
        return len(self.choices) if self.kind == "categorical" else 1

    @property
    def is_numeric(self) -> bool:
        """Whether the dimension is an int or float range or grid."""
        return self.kind != "categorical"

    @property
    def is_grid(self) -> bool:
        """Whether the dimension's legal values are a finite grid (a value set or a step)."""
        return bool(self.values) or self.step is not None

    @property
    def value_type(self) -> type:
        """The Python type of the dimension's values (``int``, ``float``, ``str`` or ``bool``)."""
        if self.kind == "categorical":
            return type(self.choices[0])
        return _TYPES[self.kind]

    @property
    def count(self) -> int:
        """The number of legal values of a grid (0 for ranges and categoricals)."""
        if self.values:
            return len(self.values)
        if self.step is not None:
            return int(round((self.high - self.low) / self.step)) + 1
        return 0

    def grid_value(self, index: int) -> int | float:
        """The legal value with rank ``index`` on the grid (clipped to the grid)."""
        index = min(max(int(index), 0), self.count - 1)
        if self.values:
            return self.values[index]  # type: ignore[no-any-return]  # ints or floats
        value = self.low + index * self.step  # type: ignore[operator]  # a stepped grid
        if self.kind == "int":
            return int(round(value))
        # 12 significant digits: 0.1 * 3 is 0.3, not 0.30000000000000004.
        return float(f"{value:.12g}")

    def grid_index(self, value: float) -> int:
        """The rank of the legal value nearest to ``value`` on the grid."""
        if self.values:
            i = bisect.bisect_left(self.values, value)
            if i == 0:
                return 0
            if i == len(self.values):
                return i - 1
            return i if self.values[i] - value < value - self.values[i - 1] else i - 1
        index = round((value - self.low) / self.step)  # type: ignore[operator]  # a stepped grid
        return min(max(int(index), 0), self.count - 1)

    def to_unit(self, value: float) -> float:
        """Map a numeric value to its unit coordinate (0 at ``low``, 1 at ``high``)."""
        if self.is_grid:
            last = self.count - 1
            return 0.5 if last == 0 else self.grid_index(value) / last
        low, high, value = self._scaled(self.low), self._scaled(self.high), self._scaled(value)
        return 0.5 if high == low else (value - low) / (high - low)

    def from_unit(self, unit: float) -> int | float:
        """Map a unit coordinate back to a legal value of the right type."""
        unit = min(max(unit, 0.0), 1.0)
        if self.is_grid:
            return self.grid_value(round(unit * (self.count - 1)))
        low, high = self._scaled(self.low), self._scaled(self.high)
        scaled = low + unit * (high - low)
        value = math.exp(scaled) if self.log else scaled
        return self.clip(value)

    def clip(self, value: float) -> int | float:
        """Move a numeric value to the nearest legal value, of the dimension's type."""
        if value != value:  # NaN (a diverging optimizer): fall back to the lower bound
            value = self.low
        if self.is_grid:
            return self.grid_value(self.grid_index(value))
        if self.kind == "int":
            return int(min(max(round(value), self.low), self.high))
        return float(min(max(value, self.low), self.high))

    def sample(self, rng: random.Random) -> Value:
        """Draw a value uniformly (log-uniformly where the dimension is log-scaled).

        A grid draws each of its legal values with the same probability.
        """
        if self.kind == "categorical":
            return rng.choice(self.choices)  # type: ignore[no-any-return]  # str or bool
        if self.is_grid:
            return self.grid_value(rng.randrange(self.count))
        if self.kind == "int" and not self.log:
            return rng.randint(int(self.low), int(self.high))
        return self.from_unit(rng.random())

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a legal value of the dimension, of the dimension's type."""
        if self.kind == "categorical":
            kind = bool if self.value_type is bool else str
            return isinstance(value, kind) and value in self.choices
        if self.kind == "int":
            numeric = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        else:
            numeric = isinstance(value, (float, np.floating))
        if not numeric or not self.low <= value <= self.high:
            return False
        return not self.is_grid or value == self.grid_value(self.grid_index(value))

    def describe(self) -> str:
        """A short phrase naming the kind, for error messages (e.g. ``"int value set"``)."""
        if self.kind == "categorical":
            return "boolean" if self.value_type is bool else "categorical"
        if self.values:
            return f"{self.kind} value set"
        if self.step is not None:
            return f"{self.kind} range with a step"
        return f"{'log-scaled ' if self.log else ''}{self.kind} range"

    def _scaled(self, value: float) -> float:
        return math.log(value) if self.log else float(value)
