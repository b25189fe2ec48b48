"""Conditional hyperparameters: which parameters are active for a given set of values.

A parameter written with ``when={"optimizer": "sgd"}`` (see :mod:`propulate.parameters`) is
*active* only while the categorical ``optimizer`` is active and holds one of the listed values;
several entries in ``when`` must all hold, and a condition may name a parameter that is itself
conditional (nested conditions). An inactive parameter has no value: it is absent from the
dictionary a loss function receives, from results and from exports.

:class:`Conditions` validates the conditions of a search space (the named parameter exists, is
categorical, the values are among its choices, no cycles) and answers, for a dictionary of
values, which parameters are active; :meth:`Conditions.complete` is the one repair every
breeding operator uses: it drops the values of inactive parameters and gives every active
parameter without a value one (from a donor, else a fresh random draw).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .dimension import Dimension, Value
from .errors import SearchSpaceError

__all__ = ["Conditions", "parse_when", "when_json"]

Condition = tuple[tuple[str, tuple[Any, ...]], ...]


class Conditions:
    """The conditions of a search space's dimensions, validated and ordered.

    Parameters
    ----------
    dimensions : sequence of Dimension
        The dimensions, in the order of the limits dictionary.

    Raises
    ------
    SearchSpaceError
        If a condition names a missing or non-categorical parameter, a value that is not among
        that parameter's choices, the parameter itself, or the conditions form a cycle.
    """

    def __init__(self, dimensions: Sequence[Dimension]) -> None:
        by_name = {d.name: d for d in dimensions}
        for d in dimensions:
            for parent, allowed in d.condition:
                _check_parent(d, parent, allowed, by_name)
        self.order: tuple[Dimension, ...] = _topological(dimensions, by_name)
        self.names: tuple[str, ...] = tuple(d.name for d in dimensions)
        self.conditional: frozenset[str] = frozenset(d.name for d in dimensions if d.condition)
        self._dimensions = by_name

    def __bool__(self) -> bool:
        return bool(self.conditional)

    def active(self, values: Mapping[str, Any]) -> set[str]:
        """The names of the parameters that are active for ``values``."""
        active: set[str] = set()
        for d in self.order:
            if all(p in active and values.get(p) in allowed for p, allowed in d.condition):
                active.add(d.name)
        return active

    def prune(self, values: Mapping[str, Value]) -> dict[str, Value]:
        """``values`` without the inactive parameters, in the order of the limits."""
        active = self.active(values)
        return {name: values[name] for name in self.names if name in active}

    def complete(
        self,
        values: Mapping[str, Value],
        rng: random.Random,
        donors: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Value]:
        """The active parameters' values: inactive ones dropped, missing active ones filled.

        Parameters
        ----------
        values : Mapping[str, Value]
            The values a breeding operator produced (possibly missing active parameters and
            holding inactive ones).
        rng : random.Random
            Draws a value for an active parameter no donor has.
        donors : sequence of Mapping
            Where a missing active parameter takes its value first (e.g. the other parents).

        Returns
        -------
        dict
            Exactly the active parameters, each with a value, in the order of the limits.
        """
        filled: dict[str, Value] = {}
        for d in self.order:
            if not all(filled.get(p, _MISSING) in allowed for p, allowed in d.condition):
                continue
            value = values.get(d.name, _MISSING)
            if value is _MISSING:
                value = next((x[d.name] for x in donors if d.name in x), _MISSING)
            filled[d.name] = d.sample(rng) if value is _MISSING else value
        return {name: filled[name] for name in self.names if name in filled}

    def explain(self, name: str, values: Mapping[str, Any]) -> str:
        """Why ``name`` is inactive for ``values``, and what makes it active (for messages)."""
        wanted = " and ".join(
            f"{p} in {list(allowed)!r}" for p, allowed in self._dimensions[name].condition
        )
        current = ", ".join(
            f"{p}={values.get(p, '<inactive>')!r}" for p, _ in self._dimensions[name].condition
        )
        return f"{name!r} is active only when {wanted}; here {current}"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _check_parent(
    d: Dimension, parent: str, allowed: tuple[Any, ...], by_name: Mapping[str, Dimension]
) -> None:
    where = f"limits[{d.name!r}]: when={{{parent!r}: {list(allowed)!r}}}"
    if parent == d.name:
        raise SearchSpaceError(
            f"{where} makes the parameter depend on itself; name another, categorical parameter."
        )
    if parent not in by_name:
        raise SearchSpaceError(
            f"{where} names {parent!r}, which is not a parameter of this search space "
            f"({sorted(by_name)}); add it, e.g. {parent!r}: ('sgd', 'adam'), or fix the name."
        )
    owner = by_name[parent]
    if owner.kind != "categorical":
        raise SearchSpaceError(
            f"{where}: {parent!r} is a {owner.describe()}; a condition needs a categorical or "
            f"boolean parameter. Make it one, e.g. propulate.Categorical([...]), or drop when."
        )
    for value in allowed:
        if not any(value == c and type(value) is type(c) for c in owner.choices):
            raise SearchSpaceError(
                f"{where}: {value!r} is not a choice of {parent!r}; its choices are "
                f"{list(owner.choices)!r}."
            )


def _topological(
    dimensions: Sequence[Dimension], by_name: Mapping[str, Dimension]
) -> tuple[Dimension, ...]:
    """The dimensions with every condition's parameter before the ones it conditions."""
    done: dict[str, Dimension] = {}
    visiting: list[str] = []

    def visit(d: Dimension) -> None:
        if d.name in done:
            return
        if d.name in visiting:
            cycle = visiting[visiting.index(d.name) :] + [d.name]
            raise SearchSpaceError(
                f"limits: the conditions form a cycle {' -> '.join(map(repr, cycle))}; a "
                f"parameter cannot depend on itself through others. Remove one of these when=."
            )
        visiting.append(d.name)
        for parent, _ in d.condition:
            visit(by_name[parent])
        visiting.pop()
        done[d.name] = d

    for d in dimensions:
        visit(d)
    return tuple(done.values())


def parse_when(where: str, when: Any) -> Condition:
    """``when`` as ``((name, (value, ...)), ...)``; names and values are checked by Conditions.

    Raises
    ------
    SearchSpaceError
        If ``when`` is not a non-empty dict of names to a value or a non-empty list of values.
    """
    example = "Example: when={'optimizer': 'sgd'} or when={'optimizer': ('sgd', 'rmsprop')}."
    if not isinstance(when, Mapping) or not when:
        raise SearchSpaceError(
            f"{where}: when={when!r} is not a non-empty dict of categorical name -> value(s). "
            f"{example}"
        )
    condition = []
    for parent, wanted in when.items():
        if not isinstance(parent, str):
            raise SearchSpaceError(
                f"{where}: when key {parent!r} is not a parameter name. {example}"
            )
        values = tuple(wanted) if isinstance(wanted, (list, tuple, set, frozenset)) else (wanted,)
        if not values:
            raise SearchSpaceError(
                f"{where}: when={{{parent!r}: {wanted!r}}} lists no value, so the parameter "
                f"would never be active; give at least one. {example}"
            )
        condition.append((parent, tuple(bool(v) if isinstance(v, np.bool_) else v for v in values)))
    return tuple(condition)


def when_json(when: Mapping[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a specification's stored form) with its condition ``when``, if any, added."""
    if when:
        data["when"] = {p: list(values) for p, values in parse_when("when", when)}
    return data
