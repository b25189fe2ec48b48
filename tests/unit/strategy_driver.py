"""Drive search strategies through the real Propulator loop, stepped in memory.

Each driver runs one real Propulator per simulated rank over an in-memory network
(:class:`propulate.testing.local.LocalIsland`), with the message delivery the driver is named
for. Every result is told to the propagators as the loop tells it: a rank's own child (the very
object it bred) when it is recorded, the others' results when their messages are absorbed, in
the order they arrive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from propulate.population import Individual, Population
from propulate.propagators.base import Propagator, as_list, listeners
from propulate.testing.local import InBursts, InRounds, LocalIsland

SPHERE_LIMITS = {"x": (-5.12, 5.12), "y": (-5.12, 5.12)}


def take(propagator: Propagator, pop: Population) -> Individual:
    """Breed one child as the loop does: the propagator's new object, or a copy of a parent."""
    template = as_list(propagator(pop.active))[0]
    if template.status == "pending" and template.key not in pop:
        return template
    return template.copy()


def tell(propagator: Propagator, ind: Individual) -> None:
    """Tell a result as the loop does (only the stages that learn)."""
    for listener in listeners(propagator):
        listener.tell(ind)


def sphere(values: Mapping[str, float]) -> float:
    return float(sum(float(v) ** 2 for v in values.values()))


def drive(
    make_propagator: Callable[[int], Propagator] | None = None,
    loss: Callable[[Mapping[str, float]], float] = sphere,
    workers: int = 1,
    evaluations: int = 200,
    population: Population | None = None,
    propagators: list[Propagator] | None = None,
) -> tuple[Population, list[Propagator]]:
    """Run ``evaluations`` evaluations over ``workers`` ranks breeding in synchronous rounds.

    In each round every rank breeds one child from the population as it stood at the start of
    the round (as parallel workers would, not yet knowing each other's results), then all
    results arrive (:class:`~propulate.testing.local.InRounds`). ``make_propagator(rank)``
    builds each rank's propagator unless ``propagators`` are given (to continue a run, with its
    ``population``, which the propagators know already). Returns rank 0's population (every
    rank's is the same after the shutdown) and the propagators.
    """
    if propagators is None:
        if make_propagator is None:
            raise ValueError("give make_propagator or propagators")
        propagators = [make_propagator(r) for r in range(workers)]
    known = population.to_list() if population is not None else []
    rounds = math.ceil(evaluations / len(propagators))
    previous = max((ind.generation + 1 for ind in known if ind.rank >= 0), default=0)
    with LocalIsland(loss, propagators, generations=previous + rounds) as island:
        island.preload(known)
        island.run(InRounds(), evaluations=evaluations)
        return island.propulators[0].known, propagators


def best_loss(pop: Population) -> float:
    return min((ind.loss for ind in pop if ind.loss is not None), default=math.inf)


def drive_in_bursts(
    make_propagator: Callable[[int], Propagator],
    loss: Callable[[Mapping[str, float]], float] = sphere,
    workers: int = 4,
    evaluations: int = 200,
    every: int = 10,
) -> tuple[list[Population], list[Propagator]]:
    """Like :func:`drive`, but results reach the other ranks in bursts.

    Each rank sees its own results at once and the other ranks' only before every ``every``-th
    of its own evaluations, all that arrived since at once (as on a loaded machine, where a
    descheduled rank finds a pile of messages; :class:`~propulate.testing.local.InBursts`).
    Returns the ranks' populations (complete after the shutdown) and propagators.
    """
    propagators = [make_propagator(r) for r in range(workers)]
    with LocalIsland(loss, propagators, generations=math.ceil(evaluations / workers)) as island:
        island.run(InBursts(every), evaluations=evaluations)
        return [p.known for p in island.propulators], propagators


def drive_with_random_delays(
    make_propagator: Callable[[int], Propagator],
    loss: Callable[[Mapping[str, float]], float],
    workers: int,
    evaluations_per_worker: int,
    seed: int,
    mean_delay: float = 1.0,
) -> float:
    """Run asynchronous ranks with random evaluation times and message delays.

    Every evaluation takes an exponentially distributed time (mean 1); each result reaches every
    other rank after its own exponentially distributed delay (mean ``mean_delay``), so ranks
    see results out of order, as on a real machine
    (:meth:`~propulate.testing.local.LocalIsland.simulate`). Deterministic for a given ``seed``.
    Returns the best loss found.
    """
    propagators = [make_propagator(r) for r in range(workers)]
    with LocalIsland(loss, propagators, generations=evaluations_per_worker) as island:
        island.simulate(seed, mean_delay=mean_delay)
        return best_loss(island.propulators[0].known)
