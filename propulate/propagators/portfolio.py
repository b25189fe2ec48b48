"""Strategies combined: a mixture of strategies, a hand-off from one to another, a hybrid.

Every strategy of a combination learns from every result (whichever strategy bred it), so each
profits from what the others find: CMA-ES ranks the best results known, whoever bred them, and
TPE's model covers them all. :class:`Mixture` lets a strategy drawn at random breed each child;

:class:`Handoff` runs the first strategy until the island knows ``after`` results, then the
second. :func:`get_hybrid_propagator` hands TPE's global search over to CMA-ES.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..errors import ConfigurationError
from ..population import Individual, Status
from ..search_space import Limits, SearchSpace
from ..validation import check_int, check_number
from .base import Propagator, listeners
from .cmaes import BasicCMA, CMAPropagator
from .tpe import TPE

__all__ = ["Mixture", "Handoff", "get_hybrid_propagator"]


class _Combination(Propagator):
    """What combinations share: every stage that learns is told every result."""

    def __init__(self, stages: Sequence[Propagator], rng: random.Random | None) -> None:
        super().__init__(parents=-1, offspring=-1, rng=rng)
        self._stages = tuple(stages)
        self._listeners = [listener for stage in stages for listener in listeners(stage)]
        self.wants_pending = any(getattr(s, "wants_pending", False) for s in self._listeners)

    def tell(self, ind: Individual) -> None:
        """Hand a result (or an evaluation started elsewhere) to every stage that learns it.

        Parameters
        ----------
        ind : Individual
            A result of the island (or an evaluation started elsewhere, for the stages that
            want those).
        """
        pending = ind.status == Status.PENDING
        for listener in self._listeners:
            if not pending or getattr(listener, "wants_pending", False):
                listener.tell(ind)

    def stages(self) -> Sequence[Propagator]:
        """The combined strategies."""
        return self._stages


class Mixture(_Combination):
    """Each child is bred by one of ``propagators``, drawn with ``weights``.

    Parameters
    ----------
    propagators : sequence of Propagator
        The strategies (all are told every result).
    weights : sequence of float, optional
        Their relative weights (non-negative, not all zero); equal by default.
    rng : random.Random, optional
        Draws the strategy of each child; by default the first propagator's.
    """

    def __init__(
        self,
        propagators: Sequence[Propagator],
        weights: Sequence[float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not propagators:
            raise ConfigurationError("Mixture needs at least one propagator.")
        weights = [1.0] * len(propagators) if weights is None else list(weights)
        if len(weights) != len(propagators):
            raise ConfigurationError(
                f"Mixture: {len(weights)} weight(s) for {len(propagators)} propagators; give "
                "one weight per propagator, e.g. weights=[0.5, 0.5]."
            )
        for i, weight in enumerate(weights):
            check_number("Mixture", f"weights[{i}]", weight, 0.0, example=0.5)
        if sum(weights) <= 0:
            raise ConfigurationError(
                f"Mixture: weights={weights} add up to 0; give at least one positive weight."
            )
        super().__init__(propagators, rng if rng is not None else propagators[0].rng)
        total = float(sum(weights))
        self.weights = [float(w) / total for w in weights]

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Breed with a strategy drawn at random."""
        u, total = self.rng.random(), 0.0
        for stage, weight in zip(self._stages, self.weights, strict=True):
            total += weight
            if u < total:
                return stage(inds)
        return self._stages[-1](inds)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{w:.2g}: {s!r}" for s, w in zip(self._stages, self.weights, strict=True)
        )
        return f"Mixture({parts})"


class Handoff(_Combination):
    """Breed with ``first`` until ``after`` results are known, then with ``then``.

    Parameters
    ----------
    first, then : Propagator
        The strategies; both are told every result (and evaluations started elsewhere, if they
        want them), whichever is breeding.
    after : int
        The number of results (evaluated individuals of the island, failed and pruned ones
        included) from which on ``then`` breeds. At least 0.

    Notes
    -----
    The count is rebuilt by the loop's replay of the checkpoint on a resume, so it needs no
    state of its own; the stages' states are saved as usual.
    """

    def __init__(self, first: Propagator, then: Propagator, after: int) -> None:
        super().__init__((first, then), first.rng)
        self.after = check_int(
            "Handoff", "after", after, 0, example=40,
            note="the number of results known before the second strategy takes over",
        )  # fmt: skip
        self.first = first
        self.then = then
        self.known = 0  # results told so far

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Breed with the strategy whose turn it is."""
        return (self.first if self.known < self.after else self.then)(inds)

    def tell(self, ind: Individual) -> None:
        """Count a result and hand it to every stage that learns.

        Parameters
        ----------
        ind : Individual
            A result of the island (or an evaluation started elsewhere, for the stages that
            want those).
        """
        if ind.status != Status.PENDING and ind.worker >= 0:  # a repeat (rank -1) is not new
            self.known += 1
        super().tell(ind)

    def __repr__(self) -> str:
        return f"Handoff({self.first!r} -> {self.then!r} after {self.after} results)"


def get_hybrid_propagator(
    limits: Limits | SearchSpace,
    rng: random.Random | None = None,
    after: int | None = None,
) -> Handoff:
    """TPE until the island knows ``after`` results, then CMA-ES, both on any mixed space.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space (at least one float or integer parameter, for CMA-ES).
    rng : random.Random, optional
        The random number generator of both strategies.
    after : int, optional
        When CMA-ES takes over; by default TPE's 10 start-up results plus four CMA-ES
        generations, ``10 + 4 lambda`` with ``lambda = 4 + floor(3 ln n)`` for ``n`` float and
        integer parameters (46 for 6, 54 for 12).

    Returns
    -------
    Handoff
        The propagator.
    """
    rng = rng if rng is not None else random.Random()
    space = SearchSpace.of(limits)
    tpe = TPE(space, rng=rng)
    cma = CMAPropagator(BasicCMA(), space, rng=rng)
    if after is None:
        after = tpe.n_startup + 4 * cma.lambd
    return Handoff(tpe, cma, after)
