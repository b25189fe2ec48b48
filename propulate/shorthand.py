"""The tuple shorthand of Propulate 1.2, and the one entry point for every limits entry.

``(2, 10)`` is an int range, ``(1e-4, 1e-2, "log")`` a log-scaled float range, ``(16, 32, 64)``
a value set, ``("relu", "tanh")`` and ``(True, False)`` categoricals, ``("relu", "relu")`` a
pinned value. :func:`parse_domain` turns a tuple or a :class:`~propulate.parameters.Parameter`
into a :class:`~propulate.dimension.Dimension`; the errors name the entry, the problem and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .conditions import parse_when
from .dimension import Dimension
from .errors import SearchSpaceError
from .parameters import (
    EXAMPLE,
    LOG_MARKER,
    Categorical,
    Float,
    Int,
    Ordinal,
    Parameter,
    _is_int,
    _is_number,
)

__all__ = ["parse_domain"]


def parse_domain(name: Any, domain: Any, offset: int = 0) -> Dimension:
    """The dimension of one limits entry, a tuple shorthand or a :class:`Parameter`.

    Raises
    ------
    SearchSpaceError
        If the name or domain is invalid; the message names the parameter, the problem and the fix.
    """
    if not isinstance(name, str):
        raise SearchSpaceError(f"limits key {name!r} is not a string; name each parameter.")
    if name.startswith("_"):
        raise SearchSpaceError(
            f"limits[{name!r}]: names starting with '_' are reserved for Propulate's metadata; "
            f"rename it (e.g. {name.lstrip('_') or 'x'!r})."
        )
    if isinstance(domain, Parameter):
        dimension = domain.dimension(name, offset)
        if domain.when is None:
            return dimension
        return replace(dimension, condition=parse_when(f"limits[{name!r}]", domain.when))
    where = f"limits[{name!r}] = {domain!r}"
    if not isinstance(domain, (tuple, list)):
        raise SearchSpaceError(
            f"{where}: a domain is a tuple, (low, high), (low, high, 'log'), (v1, v2, v3, ...) "
            f"or ('choice', ...), or a spec such as propulate.Int(0, 10, step=2). {EXAMPLE}"
        )
    if len(domain) == 0:
        raise SearchSpaceError(f"{where}: the domain is empty. {EXAMPLE}")
    return _shorthand(domain, where).dimension(name, offset, where)


def _shorthand(domain: tuple[Any, ...] | list[Any], where: str) -> Parameter:
    """The specification a 1.2-style tuple stands for."""
    strings = [x for x in domain if isinstance(x, str)]
    booleans = [x for x in domain if isinstance(x, (bool, np.bool_))]
    if len(set(map(repr, domain))) == 1 and (strings or booleans or len(domain) > 2):
        # ("relu", "relu") or (3, 3, 3): a pinned value, as Propulate 1.2 accepts it (a pinned
        # range, (2, 2) or (0.5, 0.5), is a range with low == high).
        return Categorical(domain[:1]) if strings or booleans else Ordinal(domain[:1])
    if len(strings) == len(domain) or len(booleans) == len(domain):
        return Categorical(domain)
    if len(domain) == 3 and isinstance(domain[2], str) and all(map(_is_number, domain[:2])):
        marker = domain[2]
        if marker != LOG_MARKER:
            hint = " (in lower case)" if marker.lower() == LOG_MARKER else ""
            raise SearchSpaceError(
                f"{where}: the third entry of a range can only be 'log'{hint}; got {marker!r}. "
                f"Write {(domain[0], domain[1], LOG_MARKER)!r} for a log-scaled range, or only "
                f"strings for a categorical."
            )
        return _range(domain[:2], where, log=True)
    if strings or booleans:
        kinds = sorted({type(x).__name__ for x in domain})
        raise SearchSpaceError(
            f"{where}: mixes {' and '.join(kinds)} values. A categorical holds only "
            f"strings, e.g. ('relu', 'tanh'), or only booleans, (True, False); numbers make a "
            f"range (low, high), (low, high, 'log') or a value set (v1, v2, v3, ...)."
        )
    if len(domain) == 1:
        raise SearchSpaceError(
            f"{where}: one number is not a range; write (low, high), or ({domain[0]!r}, "
            f"{domain[0]!r}) to pin the value."
        )
    if len(domain) == 2:
        return _range(domain, where, log=False)
    odd = [x for x in domain if not _is_number(x)]
    if odd:
        raise SearchSpaceError(f"{where}: {odd[0]!r} is not a number, a string or a boolean.")
    if all(_is_int(x) for x in domain) or all(isinstance(x, (float, np.floating)) for x in domain):
        return Ordinal(domain)
    floats = tuple(float(x) for x in domain)
    raise SearchSpaceError(
        f"{where}: a value set mixes ints and floats; write all as floats, {floats!r}, or all "
        f"as ints for an int value set."
    )


def _range(bounds: Sequence[Any], where: str, log: bool) -> Parameter:
    odd = [x for x in bounds if not _is_number(x)]
    if odd:
        raise SearchSpaceError(
            f"{where}: {odd[0]!r} is not a number; a range is (low, high) or (low, high, 'log'). "
            f"{EXAMPLE}"
        )
    if any(not math.isfinite(x) for x in bounds):
        raise SearchSpaceError(f"{where}: bounds must be finite numbers.")
    low, high = sorted(bounds)  # the shorthand takes its bounds in either order
    if _is_int(bounds[0]) and _is_int(bounds[1]):
        return Int(low, high, log=log)
    if all(isinstance(x, (float, np.floating)) for x in bounds):
        return Float(low, high, log=log)
    marker = ", 'log'" if log else ""
    floats = f"({float(bounds[0])!r}, {float(bounds[1])!r}{marker})"
    fix = f"write both as floats for a float range, {floats}"
    if all(float(x).is_integer() for x in bounds):
        ints = f"({int(bounds[0])}, {int(bounds[1])}{marker})"
        fix += f", or both as ints for an integer range, {ints}"
    raise SearchSpaceError(f"{where}: mixes an int and a float; {fix}.")
