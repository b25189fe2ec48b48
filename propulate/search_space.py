"""Search spaces built from a plain limits dictionary.

The limits dictionary maps each hyperparameter name to its domain, a tuple (Propulate 1.2's
shorthand) or an explicit specification from :mod:`propulate.parameters`:

* ``(2, 10)``: two ints, an ordinal integer range, both ends included;
* ``(0.01, 0.0001)``: two floats, a continuous range (the order of the bounds does not matter);
* ``(1e-4, 1e-2, "log")``: a float range sampled and mutated on a logarithmic scale
  (both bounds must be positive); ``(1, 1024, "log")`` is the integer counterpart;
* ``(16, 32, 64)``: more than two numbers, a value set (all ints or all floats);
* ``("relu", "sigmoid", "tanh")``: strings, a categorical choice; ``(True, False)`` a boolean;
* ``("relu", "relu")``, ``(0.5, 0.5)``, ``(2, 2)``: a pinned value;
* ``propulate.Int(0, 100, step=10)``, ``propulate.Float(0.0, 1.0, step=0.1)``,
  ``propulate.Ordinal([...])``, ``propulate.Categorical([...])``, ``propulate.Bool()``;
  each takes ``when={"optimizer": "sgd"}``, a *conditional* parameter (see
  :mod:`propulate.conditions`): inactive parameters have no value in a dictionary of values,
  their slots in a position hold a placeholder and their entry in a record is NaN.

:class:`SearchSpace` validates the dictionary, samples values, and converts between a dictionary
of values and the encoded position vector (ints and floats one slot each, a categorical one-hot
over its choices, in the order of the limits). Operators work on the *unit coordinate* of a
numeric dimension (see :mod:`propulate.dimension`), so they never special-case a scale or a grid.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .conditions import Conditions
from .dimension import Dimension, Value
from .errors import SearchSpaceError
from .parameters import EXAMPLE, Parameter
from .parameters import LOG_MARKER as LOG_MARKER  # importable from here, as it always was
from .shorthand import parse_domain

__all__ = ["Dimension", "SearchSpace", "Limits", "Value"]

Limits = Mapping[str, Any]


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
                f"limits must be a dict of name -> domain; got {type(limits).__name__}. {EXAMPLE}"
            )
        if not limits:
            raise SearchSpaceError(f"limits is empty: give at least one hyperparameter. {EXAMPLE}")
        dimensions = []
        offset = 0
        for name, domain in limits.items():
            dimension = parse_domain(name, domain, offset)
            dimensions.append(dimension)
            offset += dimension.width
        self.limits: dict[str, Any] = {
            k: v if isinstance(v, Parameter) else tuple(v) for k, v in limits.items()
        }
        self.dimensions: tuple[Dimension, ...] = tuple(dimensions)
        self.by_name: dict[str, Dimension] = {d.name: d for d in dimensions}
        self.names: tuple[str, ...] = tuple(self.by_name)
        self.encoded_size: int = offset
        self.numeric_names: tuple[str, ...] = tuple(d.name for d in dimensions if d.is_numeric)
        self._all_float = all(d.kind == "float" for d in dimensions)
        self.conditions = Conditions(dimensions)
        #: Whether some parameter is conditional (active only for some values of others).
        self.conditional: bool = bool(self.conditions)

    @classmethod
    def of(cls, limits: Limits | SearchSpace) -> SearchSpace:
        """Return ``limits`` if it already is a search space, else parse it (cached)."""
        if isinstance(limits, SearchSpace):
            return limits
        if not isinstance(limits, Mapping):
            return cls(limits)  # which raises the error that says what limits must be
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
        """Draw one value per active dimension."""
        values = {d.name: d.sample(rng) for d in self.dimensions}
        return self.conditions.prune(values) if self.conditional else values

    def active(self, values: Mapping[str, Any]) -> set[str]:
        """The names of the parameters active for ``values`` (all of them without conditions)."""
        return self.conditions.active(values) if self.conditional else set(self.names)

    def complete(
        self,
        values: Mapping[str, Value],
        rng: random.Random,
        donors: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Value]:
        """The values of the active parameters: see :meth:`Conditions.complete`."""
        if not self.conditional:
            return dict(values)
        return self.conditions.complete(values, rng, donors)

    def encode(self, values: Mapping[str, Value]) -> np.ndarray:
        """Encode a dictionary of values into a position vector (categoricals one-hot).

        An inactive parameter's slots hold a placeholder: its middle value, its first choice.
        """
        position = np.zeros(self.encoded_size)
        for d in self.dimensions:
            value = values.get(d.name)
            if value is None:
                value = d.choices[0] if d.kind == "categorical" else d.from_unit(0.5)
            self.write_slot(position, d, value)
        return position

    def decode(self, position: np.ndarray) -> dict[str, Value]:
        """Decode a position vector into a dictionary of values of the right types."""
        position = np.asarray(position, dtype=float)
        if position.shape != (self.encoded_size,):
            raise SearchSpaceError(
                f"position has shape {position.shape}; this search space encodes into "
                f"({self.encoded_size},) (ints and floats one slot, categoricals one-hot)."
            )
        values = {d.name: self.read_slot(position, d) for d in self.dimensions}
        return self.conditions.prune(values) if self.conditional else values

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
            if dimension.value_type is bool:
                if not isinstance(value, (bool, np.bool_)):
                    raise SearchSpaceError(
                        f"{name!r} is a boolean; got {value!r}. Set it to True or False."
                    )
                return bool(value)
            self.category_index(dimension, value)
            return str(value)
        if isinstance(value, (str, bytes, bool)) or not isinstance(value, (int, float, np.number)):
            raise SearchSpaceError(f"{name!r} is numeric; got {value!r}.")
        number = float(value)
        if dimension.is_grid:
            return _on_grid(dimension, number)
        return int(round(number)) if dimension.kind == "int" else number

    def to_record(self, values: Mapping[str, Value]) -> list[float]:
        """Compact numeric form of the values: one float per dimension (category index).

        An inactive parameter is NaN.
        """
        if self._all_float and not self.conditional:  # the common case: no per-dimension branch
            return list(map(float, map(values.__getitem__, self.names)))
        if self.conditional:
            return [
                math.nan
                if d.name not in values
                else float(self.category_index(d, values[d.name]))
                if d.kind == "categorical"
                else float(values[d.name])
                for d in self.dimensions
            ]
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
            if x == x  # NaN: an inactive conditional parameter (never NaN otherwise)
        }

    def fingerprint(self) -> str:
        """A canonical JSON text of the limits, stored in checkpoints to detect a changed space."""
        # numpy scalars (np.int64 bounds from np.arange, ...) are valid bounds but not JSON.
        return json.dumps([[d.name, _stored(self.limits[d.name])] for d in self.dimensions])


_CACHE: dict[Any, SearchSpace] = {}


def _freeze(limits: Limits) -> tuple[Any, ...]:
    # Types matter: (2, 10) is an int range, (2.0, 10.0) a float one, though 2 == 2.0; the repr
    # of a specification keeps them apart too.
    return tuple((k, type(k), _frozen_domain(v)) for k, v in limits.items())


def _frozen_domain(domain: Any) -> Any:
    if isinstance(domain, Parameter):
        return (type(domain), repr(domain))
    return tuple((type(x), x) for x in domain)


def _on_grid(dimension: Dimension, number: float) -> int | float:
    """The legal value ``number`` stands for, allowing for float rounding; else an error."""
    legal = dimension.clip(number)
    index = dimension.grid_index(legal)
    neighbour = dimension.grid_value(index + 1 if index + 1 < dimension.count else index - 1)
    spacing = abs(neighbour - legal) or 1.0
    if abs(number - legal) > 1e-9 * spacing:
        below, above = (
            (legal, dimension.grid_value(index + 1))
            if legal < number
            else (dimension.grid_value(index - 1), legal)
        )
        raise SearchSpaceError(
            f"{number!r} is not a legal value of {dimension.name!r} ({dimension.describe()}, "
            f"{dimension.low!r} to {dimension.high!r}); use a value on its grid, e.g. {below!r} "
            f"or {above!r}."
        )
    return legal


def _stored(domain: Any) -> Any:
    """A limits entry as plain JSON: a tuple as the list of its entries, a spec its own form."""
    if isinstance(domain, Parameter):
        return domain.to_json()
    return [_plain(x) for x in domain]


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python number it holds; anything else unchanged."""
    return x.item() if isinstance(x, np.generic) else x
