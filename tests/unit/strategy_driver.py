"""An in-process stand-in for the Propulator loop, to test search strategies without MPI.

``drive`` simulates ``workers`` ranks that breed in rounds: in each round every worker breeds one
child from the population as it stood at the start of the round (as parallel workers would, not
yet knowing each other's results), then all children are evaluated and added. Children are copied,
given rank/generation/loss/status like the real loop does, and every result is told to every
propagator that knows of it (the loop's ``tell``), the own child as the very object bred.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Mapping

from propulate.population import Individual, Population, Status
from propulate.propagators.base import Propagator, as_list, listeners

SPHERE_LIMITS = {"x": (-5.12, 5.12), "y": (-5.12, 5.12)}


def take(propagator: Propagator, pop: Population) -> Individual:
    """Breed one child as the loop does: the propagator's new object, or a copy of a parent."""
    template = as_list(propagator(pop.active))[0]
    if template.status == Status.PENDING and template.key not in pop:
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
    """Run ``evaluations`` evaluations over ``workers`` simulated ranks.

    ``make_propagator(rank)`` builds each worker's propagator unless ``propagators`` are given
    (to continue a run, with its ``population``). Returns the population and the propagators.
    """
    pop = population if population is not None else Population()
    if propagators is None:
        if make_propagator is None:
            raise ValueError("give make_propagator or propagators")
        propagators = [make_propagator(r) for r in range(workers)]
    props = propagators
    generation = [0] * len(props)
    for ind in pop:
        if 0 <= ind.rank < len(props):
            generation[ind.rank] = max(generation[ind.rank], ind.generation + 1)
    done = 0
    while done < evaluations:
        batch: list[Individual] = []
        for rank, propagator in enumerate(props):
            if done + len(batch) >= evaluations:
                break
            child = take(propagator, pop)
            child.rank = rank
            child.generation = generation[rank]
            child.island = 0
            generation[rank] += 1
            batch.append(child)
        for child in batch:
            value = loss(child)
            child.loss = value if math.isfinite(value) else math.inf
            child.status = Status.OK
            child.evaltime = float(done)
            pop.add(child)
            for propagator in props:
                tell(propagator, child)
            done += 1
    return pop, props


def best_loss(pop: Population) -> float:
    return min((ind.loss for ind in pop if ind.loss is not None), default=math.inf)


def drive_in_bursts(
    make_propagator: Callable[[int], Propagator],
    loss: Callable[[Mapping[str, float]], float] = sphere,
    workers: int = 4,
    evaluations: int = 200,
    every: int = 10,
) -> tuple[list[Population], list[Propagator]]:
    """Like :func:`drive`, but results reach the other workers in bursts.

    Each worker has its own population: it sees its own results at once and the other workers'
    only before every ``every``-th of its own evaluations, all that arrived since at once (as on
    a loaded machine, where a descheduled rank finds a pile of messages). Returns the workers'
    populations and propagators.
    """
    views = [Population() for _ in range(workers)]
    inboxes: list[list[Individual]] = [[] for _ in range(workers)]
    propagators = [make_propagator(r) for r in range(workers)]
    generation = [0] * workers
    done = 0
    while done < evaluations:
        for rank, propagator in enumerate(propagators):
            if done >= evaluations:
                break
            if generation[rank] % every == 0:
                for ind in inboxes[rank]:
                    views[rank].add(ind)
                    tell(propagator, ind)
                inboxes[rank].clear()
            child = take(propagator, views[rank])
            child.rank, child.generation, child.island = rank, generation[rank], 0
            generation[rank] += 1
            value = loss(child)
            child.loss = value if math.isfinite(value) else math.inf
            child.status = Status.OK
            child.evaltime = float(done)
            views[rank].add(child)
            tell(propagator, child)
            for other in range(workers):
                if other != rank:
                    inboxes[other].append(child)
            done += 1
    return views, propagators


EVALUATED, ARRIVED = 0, 1  # event kinds of drive_with_random_delays, in order of precedence


def drive_with_random_delays(
    make_propagator: Callable[[int], Propagator],
    loss: Callable[[Mapping[str, float]], float],
    workers: int,
    evaluations_per_worker: int,
    seed: int,
    mean_delay: float = 1.0,
) -> float:
    """Simulate asynchronous workers with random evaluation times and message delays.

    Every evaluation takes an exponentially distributed time (mean 1); each result reaches every
    other worker after its own exponentially distributed delay (mean ``mean_delay``), so workers
    see results out of order, as on a real machine. Deterministic for a given ``seed``. Returns
    the best loss found.
    """
    clock = random.Random(seed)
    views = [Population() for _ in range(workers)]
    propagators = [make_propagator(r) for r in range(workers)]
    generation = [0] * workers
    events: list[tuple[float, int, int, int, Individual]] = []  # time, kind, worker, order
    order = 0

    def breed(rank: int, now: float) -> None:
        nonlocal order
        child = take(propagators[rank], views[rank])
        child.rank, child.generation, child.island = rank, generation[rank], 0
        generation[rank] += 1
        order += 1
        heapq.heappush(events, (now + clock.expovariate(1.0), EVALUATED, rank, order, child))

    for rank in range(workers):
        breed(rank, 0.0)
    best = math.inf
    while events:
        now, kind, rank, _, child = heapq.heappop(events)
        if kind == ARRIVED:
            views[rank].add(child)
            tell(propagators[rank], child)
            continue
        value = loss(child)
        child.loss = value if math.isfinite(value) else math.inf
        child.status = Status.OK
        child.evaltime = now
        best = min(best, child.loss)
        views[rank].add(child)
        tell(propagators[rank], child)
        for other in range(workers):
            if other != rank:
                order += 1
                delay = clock.expovariate(1.0 / mean_delay)
                heapq.heappush(events, (now + delay, ARRIVED, other, order, child))
        if generation[rank] < evaluations_per_worker:
            breed(rank, now)
    return best
