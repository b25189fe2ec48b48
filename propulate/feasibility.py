"""Constraints returned with the result: their values, the violation, and feasible-first order.

A loss function may return constraint values beside its loss, under the reserved key
``"constraints"`` of a dict result (see :mod:`propulate.objectives`)::

    return {"loss": error, "constraints": [memory_gb - 8.0]}              # one objective
    return {"accuracy": acc, "latency": ms, "constraints": [params - 1e6]}  # declared objectives

As in Optuna, a value ``<= 0`` is satisfied; a positive value is by how much the constraint is
violated. An individual is *feasible* when every value is ``<= 0`` (or it returned none); its
*violation* is the sum of the positive values. Every ranking puts every feasible individual
before every infeasible one, and the infeasible ones by violation (Deb, "An efficient
constraint handling method for genetic algorithms", CMAME 186, 2000): the population's order and
so :func:`~propulate.population.select_best` and the selections built on it, the Pareto fronts
(:func:`~propulate.pareto.constrained_fronts`), TPE's good group and the summaries.

These constraints cost an evaluation; constraints that are cheap functions of the parameters
belong at breeding instead (the ``constraints`` keyword, see
:ref:`search-space-constraints`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["CONSTRAINTS_KEY", "violation", "is_feasible", "constraint_values", "order_key"]

#: The key of a dict result that holds the constraint values (never an objective's name).
CONSTRAINTS_KEY = "constraints"


def violation(constraints: Sequence[float] | None) -> float:
    """The total violation: the sum of the positive constraint values (0.0 when feasible).

    Parameters
    ----------
    constraints : sequence of float or None
        The constraint values (``None``: the loss function returned none).

    Returns
    -------
    float
        The violation, ``>= 0``.
    """
    if constraints is None:
        return 0.0
    return float(sum(c for c in constraints if c > 0.0))


def is_feasible(ind: Any) -> bool:
    """Whether the individual (or record) satisfies every constraint it returned."""
    constraints = (
        ind.get(CONSTRAINTS_KEY) if isinstance(ind, Mapping) else getattr(ind, "constraints", None)
    )
    return violation(constraints) == 0.0


def constraint_values(value: Any, real: Any) -> tuple[float, ...]:
    """The constraint values a loss function returned, as a tuple of floats.

    Parameters
    ----------
    value : float or sequence of float
        What the loss function returned under ``"constraints"``.
    real : callable
        Turns one value into a float, or ``None`` when it is not a real number.

    Returns
    -------
    tuple of float
        The values (``+inf`` is allowed: infinitely violated).

    Raises
    ------
    ValueError
        If a value is not a number, is NaN, or there is none.
    """
    if getattr(value, "ndim", 0) == 1 and callable(getattr(value, "tolist", None)):
        value = value.tolist()  # a numpy array (or tensor)
    items = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    numbers = [real(v) for v in items]
    # NaN (number != number) says nothing about feasibility: refused like a non-number.
    if not items or any(number is None or number != number for number in numbers):
        raise ValueError(
            f"loss_fn returned constraints={value!r}: give a number or a list of numbers (a value "
            "<= 0 is satisfied, a positive one the amount of violation), not NaN or non-numbers; "
            'e.g. {"loss": error, "constraints": [memory_gb - 8.0]}.'
        )
    return tuple(float(n) for n in numbers)


def order_key(loss: float | None, constraints: Sequence[float] | None) -> tuple[float, float]:
    """The feasible-first key of a result: ``(violation, loss)``, a failed one ``(inf, inf)``."""
    if loss is None or loss != loss or loss == math.inf:
        return (math.inf, math.inf)
    return (violation(constraints), loss)
