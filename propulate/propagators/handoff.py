"""Handing the search from one strategy to another, and the TPE-then-CMA-ES hybrid.

Global, model-based search (TPE) finds promising regions with few evaluations but converges
slowly inside one; CMA-ES converges fast but only where it starts. :class:`Handoff` runs the
first strategy until the island knows ``after`` results, then the second; both learn from every
result all along, so the second starts from everything the first found (CMA-ES's first update
ranks the best results known, whoever bred them). :func:`get_hybrid_propagator` builds the
combination the search-quality benchmark measured best on mixed HPO spaces (see the docs'
benchmarks page): TPE until ``n_startup + 4 lambda`` results are known, then CMA-ES on mixed
spaces.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..population import Individual, Status
from ..search_space import Limits, SearchSpace
from ..validation import check_int
from .base import Propagator, listeners
from .cmaes import BasicCMA, CMAPropagator
from .tpe import TPE

__all__ = ["Handoff", "get_hybrid_propagator"]


class Handoff(Propagator):
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
        super().__init__(parents=-1, offspring=1, rng=first.rng)
        self.after = check_int(
            "Handoff", "after", after, 0, example=40,
            note="the number of results known before the second strategy takes over",
        )  # fmt: skip
        self.first = first
        self.then = then
        self.known = 0  # results told so far
        self._listeners = listeners(first) + listeners(then)
        self.wants_pending = any(getattr(s, "wants_pending", False) for s in self._listeners)

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
        if ind.status == Status.PENDING:
            for listener in self._listeners:
                if getattr(listener, "wants_pending", False):
                    listener.tell(ind)
            return
        if ind.rank >= 0:  # a repeat that was not evaluated (rank -1) is no new result
            self.known += 1
        for listener in self._listeners:
            listener.tell(ind)

    def stages(self) -> Sequence[Propagator]:
        """``first`` and ``then``."""
        return (self.first, self.then)

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
