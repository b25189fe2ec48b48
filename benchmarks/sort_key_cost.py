"""Cost of the population's feasible-first order: CPU time per add with and without constraints.

    python benchmarks/sort_key_cost.py                 # 10,000 and 100,000 individuals
    python benchmarks/sort_key_cost.py --sizes 1000 10000 --repeats 5

Adds ``N`` evaluated individuals (losses uniform in [0, 1], seed 0) to a
:class:`~propulate.population.Population` and asks for the best 10, three ways, side by side in
one process: with the loss-only key of Propulate 1.2 (``(loss, worker, generation)``, patched in
for the measurement), with today's key on individuals that returned no constraints, and on
individuals that returned two constraint values (a third of them violated). The table gives the
median CPU time (``time.process_time``) per add in microseconds over ``--repeats`` runs, and
each one's ratio to the 1.2 key.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from typing import Any

import propulate.population as population_module
from propulate.population import Individual, Population, Status
from propulate.search_space import SearchSpace

SPACE = SearchSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)})


def loss_only_key(ind: Individual) -> tuple[float, int, int]:
    loss = ind.loss
    return (math.inf if loss is None or loss != loss else loss, ind.worker, ind.generation)


def individuals(n: int, constrained: bool) -> list[Individual]:
    rng = random.Random(0)
    made = []
    for g in range(n):
        ind = Individual._from_trusted({"x": rng.random(), "y": rng.random()}, SPACE)
        ind.worker, ind.generation, ind.current, ind.island = g % 8, g, 0, 0
        ind.loss, ind.status = rng.random(), Status.OK
        if constrained:
            ind.constraints = (rng.random() - 0.8, rng.random() - 0.8)
        made.append(ind)
    return made


def per_add(inds: list[Individual], key: Any, repeats: int) -> float:
    times = []
    saved = population_module._sort_key
    population_module._sort_key = key  # Population looks the key up when it is built
    try:
        for _ in range(repeats):
            start = time.process_time()
            population = Population(owner=0)
            for ind in inds:
                population.add(ind)
            population.active.best(10)
            times.append((time.process_time() - start) / len(inds))
    finally:
        population_module._sort_key = saved
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'N':>8} {'1.2 key':>9} {'no constraints':>16} {'2 constraints':>15}  (us/add)")
    for n in args.sizes:
        plain, constrained = individuals(n, False), individuals(n, True)
        base = per_add(plain, loss_only_key, args.repeats)
        now = per_add(plain, population_module._sort_key, args.repeats)
        with_c = per_add(constrained, population_module._sort_key, args.repeats)
        print(f"{n:>8} {base:>9.2f} {now:>9.2f} ({now / base:.2f}x) {with_c:>8.2f} "
              f"({with_c / base:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
