"""Memory and time of a worker's population: bytes per known individual, µs per operation.

    python benchmarks/population_memory.py                       # 1k, 10k, 100k (+ 1M timing)
    python benchmarks/population_memory.py --sizes 1000 100000 --timing-sizes 1000 1000000

Each size builds one :class:`~propulate.population.Population` in a fresh subprocess (so the
resident set size of one size does not carry over to the next) from evaluated individuals as the
loop makes them: 10 float hyperparameters, a loss, realistic metadata (4 breeding ranks, their
generations, island 0, status OK, evaluation time and duration), added one by one with nothing
else keeping them. It reports

* **bytes per known individual**, traced by :mod:`tracemalloc` (what Python and NumPy allocate
  and keep, the individuals made to be added included) and as the growth of the resident set
  size (``/proc/self/statm``) over the same build without tracing;
* **CPU µs per operation** at that size, averaged over 2,000 repetitions each: ``add`` of a new
  individual, ``best(k)`` and ``worst(k)`` selection of ``k = 8`` on the active view, a values
  lookup (``find_values``: the duplicate check a propagator does per child), ``get`` by key and
  ``move`` (a migration notice: deactivate and reactivate).

The individuals are made from a fixed seed (0): the numbers do not depend on the run.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

DIMENSIONS = 10
LIMITS = {f"x{i}": (-5.12, 5.12) for i in range(DIMENSIONS)}
RANKS = 4
REPEATS = 2_000
K = 8


def rss_bytes() -> int:
    """The process's resident set size now (Linux: from /proc), in bytes."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize()


def make(space: Any, rng: Any, i: int) -> Any:
    """The ``i``-th evaluated individual, as a peer's result arrives (values, then metadata)."""
    from propulate.population import Individual, Status

    values = {name: rng.uniform(-5.12, 5.12) for name in space.names}
    ind = Individual._from_trusted(values, space)
    ind.worker = ind.current = i % RANKS
    ind.generation = i // RANKS
    ind.island = 0
    ind.loss = sum(v * v for v in values.values())
    ind.status = Status.OK
    ind.evaltime = 1_700_000_000.0 + i
    ind.evalperiod = 0.25 + rng.random()
    return ind


def build(size: int, trace: bool) -> tuple[Any, int, int]:
    """A population of ``size``; its bytes as (traced, RSS growth), one of them 0."""
    import random

    from propulate.population import Population
    from propulate.search_space import SearchSpace

    space = SearchSpace.of(LIMITS)
    rng = random.Random(0)
    gc.collect()
    if trace:
        tracemalloc.start()
    before_rss = rss_bytes()
    traced_before = tracemalloc.get_traced_memory()[0] if trace else 0
    population = Population(owner=0)
    for i in range(size):
        population.add(make(space, rng, i))
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - traced_before if trace else 0
    if trace:
        tracemalloc.stop()
    return population, traced, rss_bytes() - before_rss


def per_call(function: Any, repeats: int = REPEATS) -> float:
    """Mean CPU µs per call of ``function(i)`` for ``i`` in ``range(repeats)``.

    CPU time, not wall time: on a shared machine the wall time counts the other processes too.
    """
    start = time.process_time()
    for i in range(repeats):
        function(i)
    return 1e6 * (time.process_time() - start) / repeats


def timings(population: Any, size: int) -> dict[str, float]:
    """µs per add, best(k), worst(k), find_values, get and move at ``size`` individuals."""
    import random

    from propulate.search_space import SearchSpace

    space = SearchSpace.of(LIMITS)
    rng = random.Random(1)
    fresh = [make(space, rng, size + i) for i in range(REPEATS)]
    probes = [make(space, rng, 0) for _ in range(REPEATS)]  # unknown values: a full probe
    active = population.active
    keys = [(i % RANKS, (i * 7919 % size) // RANKS) for i in range(REPEATS)]
    out = {
        "add_us": per_call(lambda i: population.add(fresh[i])),
        "best_us": per_call(lambda i: active.best(K)),
        "worst_us": per_call(lambda i: active.worst(K)),
        "find_values_us": per_call(lambda i: active.find_values(probes[i])),
        "get_us": per_call(lambda i: population.get(keys[i])),
    }

    def move(i: int) -> None:
        population.set_active(keys[i], False)
        population.set_active(keys[i], True)

    out["move_us"] = per_call(move) / 2
    return out


def measure(size: int, timing_only: bool) -> dict[str, Any]:
    """Run in a subprocess: one size's memory (unless ``timing_only``) and timings."""
    row: dict[str, Any] = {"size": size}
    # RSS first: memory freed by an earlier build would be reused and hide the growth.
    population, _, rss = build(size, trace=False)
    row["rss_bytes_per_ind"] = rss / size
    if len(population) != size:
        raise RuntimeError(f"built {len(population)} individuals, expected {size}")
    row.update(timings(population, size))
    if not timing_only:
        del population
        gc.collect()
        row["traced_bytes_per_ind"] = build(size, trace=True)[1] / size
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--timing-sizes", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--timing-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(measure(args.worker, args.timing_only)))
        return
    print(
        f"{'individuals':>12}{'traced B/ind':>14}{'RSS B/ind':>11}{'add µs':>9}{'best µs':>9}"
        f"{'worst µs':>10}{'values µs':>11}{'get µs':>8}{'move µs':>9}"
    )
    runs = [(size, False) for size in args.sizes] + [(s, True) for s in args.timing_sizes]
    for size, timing_only in runs:
        command = [sys.executable, __file__, "--worker", str(size)]
        if timing_only:
            command.append("--timing-only")
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        row = json.loads(output.strip().splitlines()[-1])
        traced = row.get("traced_bytes_per_ind")
        print(
            f"{size:>12,}{'-' if traced is None else f'{traced:,.0f}':>14}"
            f"{row['rss_bytes_per_ind']:>11,.0f}{row['add_us']:>9.2f}{row['best_us']:>9.2f}"
            f"{row['worst_us']:>10.2f}{row['find_values_us']:>11.2f}{row['get_us']:>8.2f}"
            f"{row['move_us']:>9.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
