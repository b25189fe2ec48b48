"""Cost of a model-based proposal: time per ask (and per tell) against the history's size.

    python benchmarks/ask_cost.py                        # TPE, CMA-ES, hybrid at 1,000 / 10,000
    python benchmarks/ask_cost.py --sizes 100 1000 10000 100000 --asks 50

A propagator is told ``N`` results of a 10-parameter mixed space (3 ints, 4 floats of which 2
log-scaled, 3 categoricals; losses uniform in [0, 1]), one by one as the loop tells them, then
asked ``--asks`` times (each ask followed by the tell of its result, as in the loop). The table
gives the median time per ask and per tell in milliseconds, in one process: CPU time of the
process (what the ask costs; unaffected by other work sharing the cores) and wall time (equal
to it on an otherwise idle core). The target for TPE is at most 5 ms per ask with 1,000 results
known and 50 ms with 10,000 (its bad group is a random subset of ``max_history = 2,000`` beyond
that, so the cost stops growing).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

LIMITS: dict[str, tuple[Any, ...]] = {
    "layers": (1, 8),
    "width": (16, 1024, "log"),
    "batch": (8, 256),
    "lr": (1e-5, 1e-1, "log"),
    "decay": (1e-6, 1e-2, "log"),
    "dropout": (0.0, 0.6),
    "momentum": (0.5, 0.99),
    "act": ("relu", "tanh", "gelu", "silu"),
    "opt": ("sgd", "adam", "adamw"),
    "norm": ("batch", "layer", "none"),
}


def makers() -> dict[str, Callable[[random.Random], Any]]:
    from propulate.propagators import TPE, BasicCMA, CMAPropagator, get_hybrid_propagator

    return {
        "TPE": lambda rng: TPE(LIMITS, rng=rng),
        "CMA-ES": lambda rng: CMAPropagator(BasicCMA(), LIMITS, rng=rng),
        "TPE+CMA-ES": lambda rng: get_hybrid_propagator(LIMITS, rng=rng),
    }


def measure(
    make: Callable[[random.Random], Any], known: int, asks: int
) -> tuple[float, float, float]:
    """Median milliseconds per ask (CPU, wall) and per tell with ``known`` results told first."""
    from propulate import Individual, SearchSpace
    from propulate.population import Population, Status

    space = SearchSpace.of(LIMITS)
    rng = random.Random(0)
    propagator = make(random.Random(1))
    population = Population()
    tells = []
    for generation in range(known):
        ind = Individual(space.sample(rng), space, generation=generation, rank=1)
        ind.loss, ind.status = rng.random(), Status.OK
        population.add(ind)
        started = time.perf_counter()
        propagator.tell(ind)
        tells.append(time.perf_counter() - started)
    cpu, wall = [], []
    for generation in range(asks):
        started, started_cpu = time.perf_counter(), time.process_time()
        child = propagator(population.active)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        child.rank, child.generation = 0, generation
        child.loss, child.status = rng.random(), Status.OK
        population.add(child)
        propagator.tell(child)
    return (
        1000 * statistics.median(cpu),
        1000 * statistics.median(wall),
        1000 * statistics.median(tells),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--asks", type=int, default=100, help="asks measured per size")
    parser.add_argument("--methods", nargs="+", default=None, help="default: all")
    args = parser.parse_args(argv)
    available = makers()
    methods = args.methods or list(available)
    print("| method | results known | ms CPU per ask | ms wall per ask | ms per tell |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in methods:
        for size in args.sizes:
            cpu, wall, tell = measure(available[name], size, args.asks)
            print(f"| {name} | {size:,} | {cpu:.2f} | {wall:.2f} | {tell:.3f} |", flush=True)


if __name__ == "__main__":
    main()
