"""Explicit hyperparameter specifications, and the tuple shorthand of Propulate 1.2.

A limits dictionary maps each name to a domain, written either as a tuple (the shorthand) or as
one of the specifications below::

    limits = {
        "layers": (2, 10),                          # ints: a range, both ends included
        "lr": propulate.Float(1e-4, 1e-2, log=True),
        "dropout": propulate.Float(0.0, 0.5, step=0.1),
        "batch": (16, 32, 64),                      # more than two numbers: a value set
        "width": propulate.Int(32, 512, step=32),
        "act": propulate.Categorical(["relu", "tanh"]),
        "bias": propulate.Bool(),                   # or (True, False)
        "optimizer": ("sgd", "adam"),
        "momentum": propulate.Float(0.0, 0.99, when={"optimizer": "sgd"}),  # conditional
    }

Every domain, tuple or specification, becomes a :class:`~propulate.dimension.Dimension` through
:func:`propulate.shorthand.parse_domain`; this module and that one hold every rule and every
error message about domains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .conditions import when_json
from .dimension import Dimension
from .errors import SearchSpaceError

__all__ = ["Parameter", "Int", "Float", "Ordinal", "Categorical", "Bool"]

LOG_MARKER = "log"
_EXACT = 2**53  # the largest int up to which every int is a 64-bit float
EXAMPLE = "Example: {'layers': (2, 10), 'lr': (1e-4, 1e-2, 'log'), 'act': ('relu', 'tanh')}"


class Parameter:
    """Base of the explicit specifications (:class:`Int`, :class:`Float`, ...).

    Every specification takes ``when``: a dictionary that makes the parameter *conditional*,
    active only while each named categorical parameter holds one of the given values, e.g.
    ``when={"optimizer": "sgd"}`` or ``when={"optimizer": ("sgd", "rmsprop")}`` (see
    :mod:`propulate.conditions`).
    """

    when: Mapping[str, Any] | None = None

    def dimension(self, name: str, offset: int = 0, where: str | None = None) -> Dimension:
        """Validate the specification and return the dimension it describes.

        Parameters
        ----------
        name : str
            The hyperparameter's name.
        offset : int
            Index of the dimension's first slot in the encoded position.
        where : str, optional
            How error messages name the domain (default: ``limits['name'] = <spec>``).

        Raises
        ------
        SearchSpaceError
            If the specification is invalid; the message names the parameter and the fix.
        """
        raise NotImplementedError

    def to_json(self) -> list[Any] | dict[str, Any]:
        """The plain-JSON form stored in checkpoints: the tuple shorthand where one exists."""
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Parameter):
    """Integers from ``low`` to ``high``, both included.

    Parameters
    ----------
    low, high : int
        The bounds, ``low <= high``.
    step : int, optional
        Only ``low, low + step, ..., high`` are legal; ``high - low`` must be a multiple.
    log : bool
        Sample and mutate on a logarithmic scale (``low >= 1``; not with a step).
    when : dict, optional
        Active only when these categoricals hold these values (see :class:`Parameter`).
    """

    low: int
    high: int
    step: int | None = None
    log: bool = False
    when: Mapping[str, Any] | None = field(default=None, hash=False)

    def dimension(self, name: str, offset: int = 0, where: str | None = None) -> Dimension:  # noqa: D102
        where = where or f"limits[{name!r}] = {self!r}"
        for label, x in (("low", self.low), ("high", self.high)):
            if not _is_int(x):
                raise SearchSpaceError(
                    f"{where}: {label} must be an int; got {x!r}. Use Float({self.low!r}, "
                    f"{self.high!r}) for a float range."
                )
        low, high = int(self.low), int(self.high)
        _check_exact(where, (low, high))
        _check_order(where, low, high, self.log)
        step = None
        if self.step is not None:
            if not _is_int(self.step) or self.step <= 0:
                raise SearchSpaceError(
                    f"{where}: step must be a positive int; got {self.step!r}. Example: "
                    f"Int(0, 100, step=10)."
                )
            step = int(self.step)
            _check_step(where, low, high, step, self.log)
        return Dimension(name, "int", low=low, high=high, log=self.log, offset=offset, step=step)

    def to_json(self) -> list[Any] | dict[str, Any]:  # noqa: D102
        if self.step is None and not self.when:
            return [_plain(self.low), _plain(self.high)] + ([LOG_MARKER] if self.log else [])
        low, high, step = _plain(self.low), _plain(self.high), _plain(self.step)
        data = {"kind": "int", "low": low, "high": high, "step": step, "log": self.log}
        return when_json(self.when, data)


@dataclass(frozen=True)
class Float(Parameter):
    """Floats from ``low`` to ``high``, both included.

    Parameters
    ----------
    low, high : float
        The bounds, ``low <= high`` (ints are converted to floats; ``low == high`` pins the value).
    step : float, optional
        Only ``low, low + step, ..., high`` are legal; ``high - low`` must be a multiple.
    log : bool
        Sample and mutate on a logarithmic scale (``low > 0``; not with a step).
    when : dict, optional
        Active only when these categoricals hold these values (see :class:`Parameter`).
    """

    low: float
    high: float
    step: float | None = None
    log: bool = False
    when: Mapping[str, Any] | None = field(default=None, hash=False)

    def dimension(self, name: str, offset: int = 0, where: str | None = None) -> Dimension:  # noqa: D102
        where = where or f"limits[{name!r}] = {self!r}"
        for label, x in (("low", self.low), ("high", self.high), ("step", self.step)):
            if x is not None and not (_is_number(x) and math.isfinite(x)):
                raise SearchSpaceError(f"{where}: {label} must be a finite number; got {x!r}.")
        low, high = float(self.low), float(self.high)
        _check_order(where, low, high, self.log)
        if not math.isfinite(high - low):
            half = f"{high / 2:.3g}" if abs(high) >= abs(low) else f"{-low / 2:.3g}"
            raise SearchSpaceError(
                f"{where}: the range is too wide: high - low = {high!r} - {low!r} overflows a "
                f"64-bit float, so every value sampled would be a bound. Narrow it, e.g. "
                f"(-{half}, {half}), or search the exponent instead (a log range)."
            )
        step = None
        if self.step is not None:
            if self.step <= 0:
                raise SearchSpaceError(
                    f"{where}: step must be positive; got {self.step!r}. Example: "
                    f"Float(0.0, 1.0, step=0.1)."
                )
            step = float(self.step)
            _check_step(where, low, high, step, self.log)
        return Dimension(name, "float", low=low, high=high, log=self.log, offset=offset, step=step)

    def to_json(self) -> list[Any] | dict[str, Any]:  # noqa: D102
        if self.step is None and not self.when:
            low, high = float(self.low), float(self.high)
            return [low, high] + ([LOG_MARKER] if self.log else [])
        low, high = float(self.low), float(self.high)
        step = None if self.step is None else float(self.step)
        return when_json(self.when, {"kind": "float", "low": low, "high": high, "step": step,
                                     "log": self.log})  # fmt: skip


@dataclass(frozen=True, init=False)
class Ordinal(Parameter):
    """A set of numbers, searched in their order (e.g. batch sizes ``Ordinal([16, 32, 64])``).

    Mutations move to nearby values and model-based strategies treat the values as evenly
    spaced ranks. The tuple shorthand ``(16, 32, 64)`` (more than two numbers) means the same.

    Parameters
    ----------
    values : sequence of int or sequence of float
        The legal values, each once; all ints gives int values, any float makes them floats.
    when : dict, optional
        Active only when these categoricals hold these values (see :class:`Parameter`).
    """

    values: tuple[Any, ...]
    when: Mapping[str, Any] | None = field(default=None, hash=False)

    def __init__(self, values: Sequence[Any], when: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "values", tuple(values) if _is_sequence(values) else values)
        object.__setattr__(self, "when", when)

    def dimension(self, name: str, offset: int = 0, where: str | None = None) -> Dimension:  # noqa: D102
        where = where or f"limits[{name!r}] = {self!r}"
        values = self.values
        if not isinstance(values, tuple) or not values:
            raise SearchSpaceError(
                f"{where}: give a non-empty list of numbers, e.g. Ordinal([16, 32, 64])."
            )
        bad = [x for x in values if not (_is_number(x) and math.isfinite(x))]
        if bad:
            raise SearchSpaceError(
                f"{where}: {bad[0]!r} is not a finite number; an ordinal set holds numbers only "
                f"(use Categorical([...]) for strings)."
            )
        if all(_is_int(x) for x in values):
            _check_exact(where, [int(x) for x in values])
            return _value_set(name, "int", [int(x) for x in values], offset, where)
        return _value_set(name, "float", [float(x) for x in values], offset, where)

    def to_json(self) -> list[Any] | dict[str, Any]:  # noqa: D102
        values = [_plain(x) for x in self.values]
        if not all(_is_int(x) for x in values):
            values = [float(x) for x in values]
        # The shorthand of a set needs more than two numbers; fewer would read as a range.
        if len(values) > 2 and not self.when:
            return values
        return when_json(self.when, {"kind": "ordinal", "values": values})


@dataclass(frozen=True, init=False)
class Categorical(Parameter):
    """An unordered choice among strings, or among booleans.

    Parameters
    ----------
    choices : sequence of str or sequence of bool
        The choices, each once (one choice pins the value).
    when : dict, optional
        Active only when these categoricals hold these values (see :class:`Parameter`).
    """

    choices: tuple[Any, ...]
    when: Mapping[str, Any] | None = field(default=None, hash=False)

    def __init__(self, choices: Sequence[Any], when: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "choices", tuple(choices) if _is_sequence(choices) else choices)
        object.__setattr__(self, "when", when)

    def dimension(self, name: str, offset: int = 0, where: str | None = None) -> Dimension:  # noqa: D102
        where = where or f"limits[{name!r}] = {self!r}"
        choices = self.choices
        if not isinstance(choices, tuple) or not choices:
            raise SearchSpaceError(
                f"{where}: give a non-empty list of choices, e.g. Categorical(['relu', 'tanh'])."
            )
        if all(isinstance(x, (bool, np.bool_)) for x in choices):
            choices = tuple(bool(x) for x in choices)
        elif not all(isinstance(x, str) for x in choices):
            odd = next(x for x in choices if not isinstance(x, str))
            raise SearchSpaceError(
                f"{where}: {odd!r} ({type(odd).__name__}) is not a valid choice; they are all "
                f"strings, e.g. ('relu', 'tanh'), or all booleans, (True, False). For numbers "
                f"use a value set, e.g. Ordinal([16, 32, 64]), or write them as strings."
            )
        repeated = _repeated(choices)
        if repeated is not None:
            raise SearchSpaceError(
                f"{where}: the choice {repeated!r} appears more than once; list each choice once."
            )
        return Dimension(name, "categorical", choices=choices, offset=offset)

    def to_json(self) -> list[Any] | dict[str, Any]:  # noqa: D102
        choices = [bool(x) if isinstance(x, np.bool_) else x for x in self.choices]
        return (
            when_json(self.when, {"kind": "categorical", "choices": choices})
            if self.when
            else choices
        )


class Bool(Categorical):
    """A boolean hyperparameter: ``False`` or ``True`` (the shorthand is ``(True, False)``).

    Parameters
    ----------
    when : dict, optional
        Active only when these categoricals hold these values (see :class:`Parameter`).
    """

    def __init__(self, when: Mapping[str, Any] | None = None) -> None:
        super().__init__((False, True), when=when)

    def __repr__(self) -> str:
        return f"Bool(when={self.when!r})" if self.when else "Bool()"


def _value_set(name: str, kind: str, values: list[Any], offset: int, where: str) -> Dimension:
    repeated = _repeated(values)
    if repeated is not None:
        raise SearchSpaceError(
            f"{where}: the value {repeated!r} appears more than once; list each value once."
        )
    ordered = tuple(sorted(values))
    return Dimension(name, kind, low=ordered[0], high=ordered[-1], offset=offset, values=ordered)


def _check_order(where: str, low: float, high: float, log: bool) -> None:
    if low > high:
        raise SearchSpaceError(f"{where}: low > high; swap them ({high!r}, {low!r}).")
    if log and low <= 0:
        raise SearchSpaceError(
            f"{where}: a log-scaled range needs positive bounds; raise low above 0 or drop log."
        )


def _check_exact(where: str, values: Sequence[int]) -> None:
    """Refuse ints a 64-bit float cannot hold exactly (positions and records are floats)."""
    big = [x for x in values if abs(x) > _EXACT]
    if big:
        raise SearchSpaceError(
            f"{where}: {big[0]!r} is beyond 2**53 = {_EXACT}; Propulate stores values as 64-bit "
            f"floats, which round such ints. Keep int bounds within +-2**53, or use a float "
            f"range (e.g. (1.0, 1e18, 'log'))."
        )


def _check_step(where: str, low: float, high: float, step: float, log: bool) -> None:
    if log:
        raise SearchSpaceError(
            f"{where}: a step and log=True do not combine; drop one, or list the values as a "
            f"value set, e.g. Ordinal([16, 32, 64])."
        )
    count = (high - low) / step
    if abs(count - round(count)) > 1e-9 * max(1.0, count):
        top = low + math.floor(count + 1e-9) * step
        raise SearchSpaceError(
            f"{where}: high - low = {high - low:.12g} is not a multiple of step {step!r}; set "
            f"high to {top:.12g} or {top + step:.12g}, or change the step."
        )


def _repeated(values: Sequence[Any]) -> Any:
    seen: list[Any] = []
    for x in values:
        if any(x == y and type(x) is type(y) for y in seen):
            return x
        seen.append(x)
    return None


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (list, tuple, range, np.ndarray))


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python number it holds; anything else unchanged."""
    return x.item() if isinstance(x, np.generic) else x


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_)
    )


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def parameter_from_json(data: list[Any] | dict[str, Any]) -> tuple[Any, ...] | Parameter:
    """The limits entry a checkpoint stored (see :meth:`Parameter.to_json`)."""
    if isinstance(data, list):
        return tuple(data)
    kind, when = data.get("kind"), data.get("when")
    if kind == "int":
        return Int(data["low"], data["high"], data.get("step"), data.get("log", False), when)
    if kind == "float":
        return Float(data["low"], data["high"], data.get("step"), data.get("log", False), when)
    if kind == "ordinal":
        return Ordinal(data["values"], when=when)
    if kind == "categorical":
        return Categorical(data["choices"], when=when)
    raise SearchSpaceError(f"unknown stored search-space entry {data!r}.")
