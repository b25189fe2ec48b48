"""The best individuals of a population, and of every island of a run (a collective)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .comm import Collectives
from .feasibility import order_key
from .population import Individual, Status
from .propagators.pareto import objective_count, objective_matrix, pareto_order, violations
from .reporting import format_individuals
from .validation import check_int

if TYPE_CHECKING:
    from .backends import Backends
    from .knowledge import Knowledge

__all__ = ["best_distinct", "summarize_islands", "Summaries"]

log = logging.getLogger("propulate.propulator")  # where the summary has always been logged


def _rank_key(ind: Individual) -> tuple[Any, ...]:
    # Feasible first, the infeasible by violation (see propulate.feasibility).
    return (*order_key(ind.loss, ind.constraints), ind.worker, ind.generation)


def best_distinct(active: Iterable[Individual], top_n: int) -> list[Individual]:
    """The ``top_n`` best successfully evaluated individuals with distinct hyperparameters.

    Parameters
    ----------
    active : iterable of Individual
        The candidates (an island's active individuals).
    top_n : int
        How many to return at most.

    Returns
    -------
    list of Individual
        Best first; ties broken by rank and generation. With several objectives (see
        :mod:`propulate.objectives`), members of the Pareto front first, the least crowded
        (the extremes) first. Individuals that violate constraints they returned (see
        :mod:`propulate.feasibility`) come after every feasible one, by violation.
    """
    evaluated = [ind for ind in active if ind.status == Status.OK]
    count = max((len(ind.losses or ()) for ind in evaluated[:1]), default=1)
    if count > 1:
        return _pareto_distinct(evaluated, count, top_n)
    return _distinct(sorted(evaluated, key=_rank_key), top_n)


def _pareto_distinct(evaluated: list[Individual], count: int, top_n: int) -> list[Individual]:
    """The ``top_n`` best distinct by Pareto front, then crowding distance (spread first)."""
    points, violated = objective_matrix(evaluated, count), violations(evaluated)
    wanted = top_n
    while True:
        order = pareto_order(points, min(wanted, len(evaluated)), violated)
        chosen = _distinct([evaluated[i] for i in order], top_n)
        if len(chosen) == top_n or len(order) == len(evaluated):
            return chosen
        wanted *= 2  # repeated hyperparameters took places: rank more


def _distinct(ranked: list[Individual], top_n: int) -> list[Individual]:
    chosen: list[Individual] = []
    seen: set[tuple[Any, ...]] = set()
    for ind in ranked:
        values = tuple(ind.values_dict().items())
        if values not in seen:
            seen.add(values)
            chosen.append(ind)
        if len(chosen) == top_n:
            break
    return chosen


def summarize_islands(
    collectives: Collectives,
    island: int,
    best: list[Individual],
    known: int,
    top_n: int,
    debug: int,
) -> tuple[list[list[Individual]], list[int]]:
    """Gather every worker's best on every rank; rank 0 logs them (unless ``debug <= 0``).

    Parameters
    ----------
    collectives : Collectives
        Every worker of the run (a collective call: all of them call it).
    island : int
        This worker's island.
    best : list of Individual
        This worker's ``top_n`` best (see :func:`best_distinct`).
    known : int
        How many individuals this worker knows (the most-informed worker speaks for its island).
    top_n, debug : int
        As for :meth:`propulate.Propulator.summarize`.

    Returns
    -------
    tuple of (list of list of Individual) and (list of int)
        One list per island, best first; and the island of every worker, in rank order.
    """
    islands: dict[int, tuple[list[Individual], int]] = {}
    gathered = collectives.allgather((island, best, known))
    for index, their_best, their_known in gathered:
        if index not in islands or their_known > islands[index][1]:
            islands[index] = (their_best, their_known)
    if debug > 0 and collectives.rank == 0:
        for index in sorted(islands):
            chosen, count = islands[index]
            title = f"Top {top_n} of island {index} ({count} individuals known):"
            log.info(format_individuals(title, chosen))
        if len(islands) > 1:
            everybody = [ind for chosen, _ in islands.values() for ind in chosen]
            if objective_count(everybody) > 1:
                overall = best_distinct(everybody, top_n)
            else:
                overall = sorted(everybody, key=_rank_key)[:top_n]
            log.info(format_individuals(f"Top {top_n} overall:", overall))
    order = sorted(islands)
    return [islands[index][0] for index in order], [order.index(i) for i, _, _ in gathered]


class Summaries:
    """The best individuals of this rank's island, and of every island.

    The results part of :class:`~propulate.Propulator`, which provides the parts declared below;
    not used alone.
    """

    _backends: Backends
    island_idx: int

    if TYPE_CHECKING:  # provided by Propulator

        @property
        def _knowledge(self) -> Knowledge: ...

    def best(self, top_n: int = 1) -> list[Individual]:
        """The ``top_n`` best distinct individuals of this rank's island population.

        Only successfully evaluated individuals that are active here count (an emigrant counts
        on the island it moved to).
        """
        return best_distinct(self._knowledge.population.active, top_n)

    def summarize(self, top_n: int = 1, debug: int = 1) -> list[Any]:
        """Log and return the best individuals, one entry per rank, as Propulate 1.2 did.

        A collective over all ranks of the optimization: call it on every rank. Entry ``r`` is
        the best of rank ``r``'s island, so ``summarize()[comm.rank]`` is this rank's island's.
        :meth:`summarize_islands` gives one entry per island instead.

        Parameters
        ----------
        top_n : int
            How many individuals per island (fewer when fewer exist).
        debug : int
            0 or less: return without logging; 0 also makes each entry the single best
            individual (or ``None``), as in 1.2.

        Returns
        -------
        list
            One entry per rank of the optimization (per worker with multi-rank workers): a list
            of the ``top_n`` best distinct individuals of its island, best first; with
            ``debug=0`` that list's first individual, or ``None`` if the island has none.
        """
        islands, of_rank = self._gather_summary(top_n, debug)
        if debug == 0:
            return [islands[i][0] if islands[i] else None for i in of_rank]
        return [islands[i] for i in of_rank]

    def summarize_islands(self, top_n: int = 1, debug: int = 1) -> list[list[Individual]]:
        """Log and return the best ``top_n`` distinct individuals of every island.

        A collective over all ranks of the optimization: call it on every rank.

        Parameters
        ----------
        top_n : int
            How many individuals per island (fewer when fewer exist).
        debug : int
            0 or less: return without logging.

        Returns
        -------
        list of list of Individual
            One list per island, best first.
        """
        return self._gather_summary(top_n, debug)[0]

    def _gather_summary(self, top_n: int, debug: int) -> tuple[list[list[Individual]], list[int]]:
        top_n = check_int("summarize", "top_n", top_n, 1, example=3)
        self._backends.connect(messaging=False)
        group, collectives = self._backends.worker_group, self._backends.collectives
        if collectives is None:  # another rank of a multi-rank worker: its first rank tells
            return group.share(None) if group is not None else ([], [])  # type: ignore[no-any-return]
        known = len(self._knowledge.population)
        result = summarize_islands(collectives, self.island_idx, self.best(top_n), known, top_n,
                                   debug)  # fmt: skip
        if group is not None and group.size > 1:
            group.share(result)
        return result
