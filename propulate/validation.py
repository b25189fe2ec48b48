"""One sentence template for every bad argument (scikit-learn's idea).

Every check raises :class:`~propulate.errors.ConfigurationError` (also a ``ValueError``) with
the same shape: who complains, the parameter and the value given, what it must be, and an
example of a good value::

    Migrator: migration_prob=1.5 must be a probability in [0, 1]; e.g. migration_prob=0.1.

Numbers are accepted as Python or numpy scalars (``np.int64(3)`` is an int, ``np.float32(0.5)``
a number); ``True`` and ``False`` are never numbers here, since a bool where a count is expected
is a mistake. Each check returns the value as a plain ``int`` or ``float``.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Collection
from typing import Any, NoReturn

from .errors import ConfigurationError

__all__ = [
    "fail",
    "check_int",
    "check_number",
    "check_probability",
    "check_choice",
    "check_callable",
    "check_matrix",
    "check_rng",
]


def fail(owner: str, name: str, value: Any, requirement: str, example: Any = None) -> NoReturn:
    """Raise the one sentence: ``owner: name=value must be requirement; e.g. name=example.``.

    Parameters
    ----------
    owner : str
        The class or function whose argument it is (empty: none named).
    name : str
        The parameter.
    value : Any
        The value given.
    requirement : str
        What the value must be, e.g. ``"an int >= 1"``.
    example : Any, optional
        A good value (inserted as written, so pass a string for an expression).

    Raises
    ------
    ConfigurationError
        Always.
    """
    where = f"{owner}: " if owner else ""
    fix = "" if example is None else f"; e.g. {name}={example}"
    raise ConfigurationError(f"{where}{name}={value!r} must be {requirement}{fix}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(
    owner: str,
    name: str,
    value: Any,
    low: int | None = None,
    high: int | None = None,
    *,
    also: Collection[int] = (),
    example: Any = None,
    note: str = "",
) -> int:
    """``value`` as an ``int`` if it is a whole number in ``[low, high]`` (or one of ``also``).

    Parameters
    ----------
    owner, name, value, example
        As for :func:`fail`.
    low, high : int, optional
        Inclusive bounds.
    also : collection of int
        Special values allowed outside the bounds (e.g. ``-1`` for "unlimited").
    note : str
        Why the bounds are what they are, added in parentheses.

    Returns
    -------
    int
        The value.
    """
    if _is_int(value):
        number = int(value)
        if number in also or ((low is None or number >= low) and (high is None or number <= high)):
            return number
    requirement = "an int" + _bounds(low, high)
    if also:
        requirement += " or " + " or ".join(str(special) for special in sorted(also))
    fail(owner, name, value, requirement + (f" ({note})" if note else ""), example)


def check_number(
    owner: str,
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    example: Any = None,
    what: str = "a number",
    note: str = "",
) -> float:
    """``value`` as a finite ``float`` in the interval from ``low`` to ``high``.

    Parameters
    ----------
    owner, name, value, example
        As for :func:`fail`.
    low, high : float, optional
        The bounds; inclusive unless ``low_open`` or ``high_open``.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    what : str
        What the value is, for the message (e.g. ``"a probability"``).
    note : str
        Why the bounds are what they are, added in parentheses.

    Returns
    -------
    float
        The value.
    """
    if _is_real(value):
        number = float(value)
        if (
            math.isfinite(number)
            and (low is None or (number > low if low_open else number >= low))
            and (high is None or (number < high if high_open else number <= high))
        ):
            return number
    requirement = "a finite number" if what == "a number" else what
    requirement += _bounds(low, high, low_open, high_open)
    fail(owner, name, value, requirement + (f" ({note})" if note else ""), example)


def check_probability(owner: str, name: str, value: Any, example: Any = 0.1) -> float:
    """``value`` as a ``float`` if it is a probability, in ``[0, 1]``.

    Parameters
    ----------
    owner, name, value, example
        As for :func:`fail`.

    Returns
    -------
    float
        The probability.
    """
    return check_number(owner, name, value, 0.0, 1.0, example=example, what="a probability")


def check_choice(owner: str, name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``.

    Parameters
    ----------
    owner, name, value
        As for :func:`fail`.
    choices : collection
        The allowed values.

    Returns
    -------
    Any
        The value.
    """
    if value in choices:
        return value
    listed = ", ".join(repr(choice) for choice in choices)
    fail(owner, name, value, f"one of {listed}", repr(next(iter(choices))))


def check_callable(owner: str, name: str, value: Any, example: str) -> Callable[..., Any]:
    """``value`` if it is callable.

    Parameters
    ----------
    owner, name, value, example
        As for :func:`fail`.

    Returns
    -------
    callable
        The value.
    """
    if not callable(value):
        fail(owner, name, value, "callable", example)
    return value  # type: ignore[no-any-return]  # narrowed by callable()


def check_rng(owner: str, name: str, value: Any) -> random.Random | None:
    """``value`` if it is ``None`` or a :class:`random.Random` (the generator Propulate draws from).

    A numpy ``Generator`` or a seed would only fail at the first draw, deep inside breeding, so
    it is refused here with the fix.

    Parameters
    ----------
    owner, name, value
        As for :func:`fail`.

    Returns
    -------
    random.Random or None
        The value.
    """
    if value is None or isinstance(value, random.Random):
        return value
    if _is_int(value):
        example = f"random.Random({int(value)})"
    else:
        example = "random.Random(42 + rank)"
    fail(owner, name, value, "a random.Random (or None for a fresh one)", example)


def check_matrix(
    owner: str, name: str, value: Any, size: int | None = None, *, zero_diagonal: bool = True
) -> tuple[tuple[int, ...], ...]:
    """``value`` as a square matrix of non-negative ints (an island topology).

    Parameters
    ----------
    owner, name, value
        As for :func:`fail`.
    size : int, optional
        The number of rows and columns (islands); by default, however many rows it has.
    zero_diagonal : bool
        Whether the diagonal must be 0 (an island does not send to itself).

    Returns
    -------
    tuple of tuple of int
        The matrix.
    """
    try:
        rows = [list(row) for row in value]
    except TypeError:
        rows = []
    shape = f"a {size} x {size} matrix" if size is not None else "a square matrix"
    size = len(rows) if size is None else size
    if not rows or len(rows) != size or any(len(row) != size for row in rows):
        example = [[0 if i == j else 1 for j in range(max(size, 2))] for i in range(max(size, 2))]
        fail(owner, name, value, f"{shape} (one row and column per island)", example)
    checked = []
    for i, row in enumerate(rows):
        for j, entry in enumerate(row):
            whole = _is_int(entry) or (_is_real(entry) and float(entry).is_integer())
            if not whole or entry < 0:
                fail(
                    owner,
                    f"{name}[{i}][{j}]",
                    entry,
                    "a whole number >= 0 (how many individuals island i sends to island j)",
                    1 if i != j else 0,
                )
            if zero_diagonal and i == j and entry:
                fail(
                    owner,
                    f"{name}[{i}][{i}]",
                    entry,
                    "0: an island cannot migrate to itself, so the diagonal is 0",
                    0,
                )
        checked.append(tuple(int(entry) for entry in row))
    return tuple(checked)


def _bounds(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    """`` in [low, high]``, `` >= low`` and the like (empty without bounds)."""
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f" in {left}{_short(low)}, {_short(high)}{right}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_short(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {_short(high)}"
    return ""


def _short(number: float) -> str:
    """``1`` rather than ``1.0`` in messages."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))
