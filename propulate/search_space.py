"""Search spaces built from a plain limits dictionary.

The limits dictionary maps each hyperparameter name to its domain:

* ``(2, 10)``: two ints, an ordinal integer range, both ends included;
* ``(0.01, 0.0001)``: two floats, a continuous range (the order of the bounds does not matter);
* ``(1e-4, 1e-2, "log")``: a float range sampled and mutated on a logarithmic scale
  (both bounds must be positive); ``(1, 1024, "log")`` is the integer counterpart;
* ``("relu", "sigmoid", "tanh")``: strings, a categorical choice.

:class:`SearchSpace` is the one place that knows these rules: it validates the dictionary, samples
values, and converts between a dictionary of values and the encoded position vector (ints and
floats one slot each, a categorical one-hot over its choices, in the order of the limits).
Operators work on the *unit coordinate* of a numeric dimension (0 at its lower, 1 at its upper
bound; logarithmic where the dimension is log-scaled), so they never special-case a scale.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SearchSpaceError

__all__ = ["Dimension", "SearchSpace", "Limits", "Value"]

Value = int | float | str
Limits = Mapping[str, tuple[Any, ...]]

LOG_MARKER = "log"
_EXAMPLE = "Example: {'layers': (2, 10), 'lr': (1e-4, 1e-2, 'log'), 'act': ('relu', 'tanh')}"


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
        The numeric bounds with ``low <= high`` (unused for categoricals).
    log : bool
        Whether the dimension is searched on a logarithmic scale.
    choices : tuple of str
        The categories (empty for numeric dimensions).
    offset : int
        Index of the dimension's first slot in the encoded position.
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[str, ...] = ()
    offset: int = 0

    @property
    def width(self) -> int:
        """Number of slots the dimension takes in the encoded position."""
        return len(self.choices) if self.kind == "categorical" else 1

    @property
    def is_numeric(self) -> bool:
        """Whether the dimension is an int or float range."""
        return self.kind != "categorical"

    def to_unit(self, value: float) -> float:
        """Map a numeric value to its unit coordinate (0 at ``low``, 1 at ``high``)."""
        low, high, value = self._scaled(self.low), self._scaled(self.high), self._scaled(value)
        return 0.5 if high == low else (value - low) / (high - low)

    def from_unit(self, unit: float) -> int | float:
        """Map a unit coordinate back to a value of the right type, clipped into the bounds."""
        unit = min(max(unit, 0.0), 1.0)
        low, high = self._scaled(self.low), self._scaled(self.high)
        scaled = low + unit * (high - low)
        value = math.exp(scaled) if self.log else scaled
        return self.clip(value)

    def clip(self, value: float) -> int | float:
        """Clip a numeric value into the bounds and convert it to the dimension's type."""
        if value != value:  # NaN (a diverging optimizer): fall back to the lower bound
            value = self.low
        if self.kind == "int":
            return int(min(max(round(value), self.low), self.high))
        return float(min(max(value, self.low), self.high))

    def sample(self, rng: random.Random) -> Value:
        """Draw a value uniformly (log-uniformly where the dimension is log-scaled)."""
        if self.kind == "categorical":
            return rng.choice(self.choices)
        if self.kind == "int" and not self.log:
            return rng.randint(int(self.low), int(self.high))
        return self.from_unit(rng.random())

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in the domain and has the dimension's type."""
        if self.kind == "categorical":
            return isinstance(value, str) and value in self.choices
        if self.kind == "int":
            return isinstance(value, (int, np.integer)) and bool(self.low <= value <= self.high)
        return isinstance(value, (float, np.floating)) and bool(self.low <= value <= self.high)

    def _scaled(self, value: float) -> float:
        return math.log(value) if self.log else float(value)


class SearchSpace:
    """A validated search space.

    Parameters
    ----------
    limits : Mapping[str, tuple]
        The limits dictionary (see the module documentation).

    Raises
    ------
    SearchSpaceError
        If the dictionary is not a mapping, is empty, has a key that is not a string or starts
        with ``_``, or has a domain that is not one of the accepted forms.
    """

    def __init__(self, limits: Limits) -> None:
        if isinstance(limits, SearchSpace):
            limits = limits.limits
        if not isinstance(limits, Mapping):
            raise SearchSpaceError(
                f"limits must be a dict of name -> domain; got {type(limits).__name__}. {_EXAMPLE}"
            )
        if not limits:
            raise SearchSpaceError(f"limits is empty: give at least one hyperparameter. {_EXAMPLE}")
        dimensions = []
        offset = 0
        for name, domain in limits.items():
            dimension = _parse_dimension(name, domain, offset)
            dimensions.append(dimension)
            offset += dimension.width
        self.limits: dict[str, tuple[Any, ...]] = {k: tuple(v) for k, v in limits.items()}
        self.dimensions: tuple[Dimension, ...] = tuple(dimensions)
        self.by_name: dict[str, Dimension] = {d.name: d for d in dimensions}
        self.names: tuple[str, ...] = tuple(self.by_name)
        self.encoded_size: int = offset
        self.numeric_names: tuple[str, ...] = tuple(d.name for d in dimensions if d.is_numeric)
        self._all_float = all(d.kind == "float" for d in dimensions)

    @classmethod
    def of(cls, limits: Limits | SearchSpace) -> SearchSpace:
        """Return ``limits`` if it already is a search space, else parse it (cached)."""
        if isinstance(limits, SearchSpace):
            return limits
        try:
            key = _freeze(limits)
        except TypeError:
            return cls(limits)
        space = _CACHE.get(key)
        if space is None:
            space = _CACHE[key] = cls(limits)
        return space

    def __len__(self) -> int:
        return len(self.dimensions)

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self.dimensions)

    def __getitem__(self, name: str) -> Dimension:
        return self.by_name[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.dimensions == other.dimensions

    def __hash__(self) -> int:
        return hash(self.dimensions)

    def __repr__(self) -> str:
        return f"SearchSpace({self.limits!r})"

    def sample(self, rng: random.Random) -> dict[str, Value]:
        """Draw one value per dimension."""
        return {d.name: d.sample(rng) for d in self.dimensions}

    def encode(self, values: Mapping[str, Value]) -> np.ndarray:
        """Encode a dictionary of values into a position vector (categoricals one-hot)."""
        position = np.zeros(self.encoded_size)
        for d in self.dimensions:
            self.write_slot(position, d, values[d.name])
        return position

    def decode(self, position: np.ndarray) -> dict[str, Value]:
        """Decode a position vector into a dictionary of values of the right types."""
        position = np.asarray(position, dtype=float)
        if position.shape != (self.encoded_size,):
            raise SearchSpaceError(
                f"position has shape {position.shape}; this search space encodes into "
                f"({self.encoded_size},) (ints and floats one slot, categoricals one-hot)."
            )
        return {d.name: self.read_slot(position, d) for d in self.dimensions}

    def write_slot(self, position: np.ndarray, dimension: Dimension, value: Value) -> None:
        """Write one value into its slot(s) of an encoded position."""
        if dimension.kind == "categorical":
            position[dimension.offset : dimension.offset + dimension.width] = 0.0
            position[dimension.offset + self.category_index(dimension, value)] = 1.0
        else:
            position[dimension.offset] = value

    @staticmethod
    def read_slot(position: np.ndarray, dimension: Dimension) -> Value:
        """Read one value from its slot(s) of an encoded position."""
        if dimension.kind == "categorical":
            block = position[dimension.offset : dimension.offset + dimension.width]
            return dimension.choices[int(np.argmax(block))]
        return dimension.clip(float(position[dimension.offset]))

    @staticmethod
    def category_index(dimension: Dimension, value: Value) -> int:
        """Index of a category among its dimension's choices, with a clear error if unknown."""
        try:
            return dimension.choices.index(value)  # type: ignore[arg-type]  # str checked by index
        except ValueError:
            raise SearchSpaceError(
                f"{value!r} is not a choice of {dimension.name!r}; choices: {dimension.choices}."
            ) from None

    def coerce(self, name: str, value: Any) -> Value:
        """Convert ``value`` to the type of dimension ``name``, with a clear error if impossible."""
        if name not in self.by_name:
            raise KeyError(f"{name!r} is not a hyperparameter of this search space {self.names}")
        dimension = self.by_name[name]
        if dimension.kind == "categorical":
            self.category_index(dimension, value)
            return str(value)
        if isinstance(value, (str, bytes, bool)) or not isinstance(value, (int, float, np.number)):
            raise SearchSpaceError(f"{name!r} is numeric; got {value!r}.")
        number = float(value)
        return int(round(number)) if dimension.kind == "int" else number

    def to_record(self, values: Mapping[str, Value]) -> list[float]:
        """Compact numeric form of the values: one float per dimension (category index)."""
        return [
            float(self.category_index(d, values[d.name]))
            if d.kind == "categorical"
            else float(values[d.name])
            for d in self.dimensions
        ]

    def from_record(self, record: list[float] | np.ndarray) -> dict[str, Value]:
        """Inverse of :meth:`to_record` (for records this search space wrote: no clipping)."""
        numbers = record.tolist() if isinstance(record, np.ndarray) else list(record)
        if self._all_float:
            return dict(zip(self.names, numbers, strict=True))
        return {
            d.name: d.choices[int(x)]
            if d.kind == "categorical"
            else int(x)
            if d.kind == "int"
            else x
            for d, x in zip(self.dimensions, numbers, strict=True)
        }

    def fingerprint(self) -> str:
        """A canonical JSON text of the limits, stored in checkpoints to detect a changed space."""
        # numpy scalars (np.int64 bounds from np.arange, ...) are valid bounds but not JSON.
        return json.dumps(
            [[d.name, [_plain(x) for x in self.limits[d.name]]] for d in self.dimensions]
        )


_CACHE: dict[Any, SearchSpace] = {}


def _freeze(limits: Limits) -> tuple[Any, ...]:
    return tuple((k, type(k), tuple((type(x), x) for x in v)) for k, v in limits.items())


def _parse_dimension(name: Any, domain: Any, offset: int) -> Dimension:
    if not isinstance(name, str):
        raise SearchSpaceError(f"limits key {name!r} is not a string; name each parameter.")
    if name.startswith("_"):
        raise SearchSpaceError(
            f"limits[{name!r}]: names starting with '_' are reserved for Propulate's metadata; "
            f"rename it (e.g. {name.lstrip('_') or 'x'!r})."
        )
    where = f"limits[{name!r}] = {domain!r}"
    if not isinstance(domain, (tuple, list)):
        raise SearchSpaceError(
            f"{where}: a domain must be a tuple: (low, high), (low, high, 'log') or "
            f"('choice', ...). {_EXAMPLE}"
        )
    if len(domain) == 0:
        raise SearchSpaceError(f"{where}: the domain is empty. {_EXAMPLE}")
    if all(isinstance(x, str) for x in domain):
        if len(set(domain)) != len(domain):
            raise SearchSpaceError(f"{where}: categorical choices must be unique.")
        return Dimension(name, "categorical", choices=tuple(domain), offset=offset)
    log = len(domain) == 3 and domain[2] == LOG_MARKER
    bounds = domain[:2] if log else domain
    numbers = [x for x in bounds if _is_number(x)]
    if len(numbers) != len(bounds) or any(isinstance(x, str) for x in bounds):
        raise SearchSpaceError(
            f"{where}: mixes types; use two numbers (low, high), (low, high, 'log') or only "
            f"strings for a categorical. {_EXAMPLE}"
        )
    if len(bounds) != 2:
        raise SearchSpaceError(
            f"{where}: a numeric range needs exactly (low, high) or (low, high, 'log'); got "
            f"{len(domain)} value(s). Example: {{{name!r}: (1e-4, 1e-2)}}"
        )
    if any(isinstance(x, float) and not math.isfinite(x) for x in bounds):
        raise SearchSpaceError(f"{where}: bounds must be finite numbers.")
    if all(isinstance(x, (int, np.integer)) for x in bounds):
        kind = "int"
    elif all(isinstance(x, (float, np.floating)) for x in bounds):
        kind = "float"
    else:
        raise SearchSpaceError(
            f"{where}: mixes an int and a float; write both as ints for an integer range "
            f"({int(bounds[0])}, {int(bounds[1])}) or both as floats ({float(bounds[0])}, "
            f"{float(bounds[1])})."
        )
    low, high = sorted(bounds)
    if kind == "float" and low == high:
        raise SearchSpaceError(
            f"{where}: low == high leaves nothing to search; widen the range or drop the parameter."
        )
    if log and low <= 0:
        raise SearchSpaceError(f"{where}: a log-scaled range needs positive bounds.")
    return Dimension(name, kind, low=low, high=high, log=log, offset=offset)


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python number it holds; anything else unchanged."""
    return x.item() if isinstance(x, np.generic) else x


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
