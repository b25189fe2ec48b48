"""The best individuals of a population, and of every island of a run (a collective)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .comm import Collectives
from .population import Individual, Status
from .propagators.pareto import objective_count, objective_matrix, pareto_order
from .reporting import format_individuals

__all__ = ["best_distinct", "summarize_islands"]

log = logging.getLogger("propulate.propulator")  # where the summary has always been logged


def _rank_key(ind: Individual) -> tuple[Any, int, int]:
    return (ind.loss, ind.worker, ind.generation)


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
        (the extremes) first.
    """
    evaluated = [ind for ind in active if ind.status == Status.OK]
    count = max((len(ind.losses or ()) for ind in evaluated[:1]), default=1)
    if count > 1:
        return _pareto_distinct(evaluated, count, top_n)
    return _distinct(sorted(evaluated, key=_rank_key), top_n)


def _pareto_distinct(evaluated: list[Individual], count: int, top_n: int) -> list[Individual]:
    """The ``top_n`` best distinct by Pareto front, then crowding distance (spread first)."""
    points = objective_matrix(evaluated, count)
    wanted = top_n
    while True:
        order = pareto_order(points, min(wanted, len(evaluated)))
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
