"""Feasibility at breeding time: children that break a constraint are bred again.

A *constraint* is a cheap function of the hyperparameters that says whether a combination can
be evaluated at all, e.g. ``lambda p: p["kernel"] <= p["width"]``. :class:`Feasible` wraps a
propagator and breeds again while its child breaks a constraint (the loop of
:class:`~propulate.propagators.Rebreed`, shared with ``AvoidDuplicates``), so the loss function
never sees an infeasible combination. ``Propulator(..., constraints=[...])`` and
``Islands(..., constraints=[...])`` wrap their propagator in it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConfigurationError
from ..population import Individual, Status
from .base import Propagator
from .operators import Rebreed

__all__ = ["Feasible", "Constraint", "check_constraints", "with_constraints"]

log = logging.getLogger(__name__)

Constraint = Callable[[Mapping[str, Any]], Any]

_EXAMPLE = 'constraints=[lambda p: p["kernel"] <= p["width"]]'


def check_constraints(owner: str, constraints: Any) -> tuple[Constraint, ...]:
    """The constraints as a tuple of callables, with a clear error for anything else.

    Raises
    ------
    ConfigurationError
        If ``constraints`` is not a sequence of callables (a single callable is accepted).
    """
    if constraints is None:
        return ()
    if callable(constraints):
        return (constraints,)
    if isinstance(constraints, (str, bytes, Mapping)) or not isinstance(constraints, Sequence):
        raise ConfigurationError(
            f"{owner}: constraints={constraints!r} is not a list of functions of the "
            f"hyperparameters; e.g. {_EXAMPLE}."
        )
    for i, constraint in enumerate(constraints):
        if not callable(constraint):
            raise ConfigurationError(
                f"{owner}: constraints[{i}] = {constraint!r} is not callable; each constraint is "
                f"a function of the hyperparameters returning True when they are feasible, "
                f"e.g. {_EXAMPLE}."
            )
    return tuple(constraints)


def with_constraints(owner: str, propagator: Propagator, constraints: Any) -> Propagator:
    """``propagator`` wrapped in :class:`Feasible` if there are constraints, else unchanged.

    Raises
    ------
    ConfigurationError
        If ``constraints`` is not a list of callables.
    """
    checked = check_constraints(owner, constraints)
    return Feasible(propagator, checked) if checked else propagator


class Feasible(Rebreed):
    """Breed again while the child breaks a constraint; the loss never sees an infeasible one.

    After ``tries`` infeasible children in a row, up to ``10 * tries`` uniformly random individuals
    are drawn (with a warning: the propagator may be stuck in an infeasible region); if none is
    feasible either, a :class:`~propulate.errors.ConfigurationError` says which constraint
    failed and what to do. A propagator that learns (TPE, CMA-ES, ...) is told each infeasible
    proposal as a failed evaluation with ``rank == -1``.

    Parameters
    ----------
    propagator : Propagator
        The propagator to call.
    constraints : sequence of callable
        Functions of the hyperparameters (the mapping a loss function gets; conditional
        parameters may be absent, so read them with ``p.get(...)``), each returning a true
        value when the combination is feasible.
    tries : int
        The most calls of ``propagator`` per child.
    """

    def __init__(
        self, propagator: Propagator, constraints: Sequence[Constraint], tries: int = 100
    ) -> None:
        super().__init__(propagator, tries, "Feasible")
        self.constraints = check_constraints("Feasible", constraints)
        if not self.constraints:
            raise ConfigurationError(f"Feasible: give at least one constraint, e.g. {_EXAMPLE}.")
        self.rejected = 0  # infeasible children bred so far (for reports and tests)

    def violated(self, child: Mapping[str, Any]) -> int | None:
        """The index of the first constraint ``child`` breaks, or ``None`` if it is feasible.

        Raises
        ------
        ConfigurationError
            If a constraint raises; the message names it, the values and the usual fix.
        """
        for i, constraint in enumerate(self.constraints):
            try:
                feasible = constraint(child)
            except Exception as error:  # a user's function: any error is theirs to fix
                raise ConfigurationError(
                    f"constraints[{i}] ({_name(constraint)}) raised {error!r} for {dict(child)}. "
                    f"Fix the function; a conditional parameter may be absent, read it with "
                    f"p.get(name)."
                ) from error
            if not feasible:
                return i
        return None

    def rejecter(self, inds: Sequence[Individual]) -> Callable[[Individual], Any]:
        """A child is rejected by the index of the first constraint it breaks."""
        return self._count

    def _count(self, child: Individual) -> int | None:
        broken = self.violated(child)
        if broken is not None:
            self.rejected += 1
        return broken

    def result_of(self, child: Individual, reason: Any) -> Individual | None:
        """The infeasible proposal as a failed evaluation that no worker made."""
        child.loss = math.inf
        child.status = Status.FAILED
        child.rank = child.generation = -1
        return child

    def exhausted(
        self, offspring: list[Individual] | Individual, first: Individual, reason: Any
    ) -> list[Individual] | Individual:
        """A uniformly random feasible individual, or a clear error if none is found."""
        space = first.search_space
        for _ in range(10 * self.tries):
            ind = Individual._from_trusted(space.sample(self.rng), space)
            if self.violated(ind) is None:
                log.warning(
                    "Feasible: %d children in a row broke constraints[%d] (%s), e.g. %s; a random "
                    "feasible individual is used instead. Raise tries, or check that the "
                    "propagator can reach the feasible region.",
                    self.tries,
                    reason,
                    _name(self.constraints[reason]),
                    dict(first),
                )
                return [ind] if isinstance(offspring, list) else ind
        raise ConfigurationError(
            f"Feasible: {self.tries} bred and {10 * self.tries} random children all broke a "
            f"constraint; the last bred one, {dict(first)}, breaks constraints[{reason}] "
            f"({_name(self.constraints[reason])}). The feasible region may be empty or tiny: "
            f"check the constraints against the limits, or raise tries."
        )


def _name(function: Any) -> str:
    name = getattr(function, "__name__", type(function).__name__)
    return "a lambda" if name == "<lambda>" else name
