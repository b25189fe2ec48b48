"""The loop's own CPU time per evaluation, without MPI: a steady gauge for work on its data path.

::

    python benchmarks/loop_cpu.py                  # 4 ranks x 1,500 generations, 3 repeats
    python benchmarks/loop_cpu.py --ranks 4 --generations 1500 --repeats 3 --seed 0

Runs the real loop of :class:`~propulate.testing.LocalIsland` in one process: each rank a
:class:`~propulate.Propulator` with the default propagator on a 10-d sphere, the ranks taking
turns one generation each, every rank's results reaching the others after each round. Prints the
process CPU time per evaluation (the least of the repeats, so a descheduled repeat does not
count) and a digest of the island's results (keys and losses). The digest depends only on the
seed: a change to the data path meant to leave the results alone must leave it alone, and its
time is then comparable run against run, where ``overhead.py``'s rates move with the machine's
load. The in-memory network costs less than MPI, so the time is the loop's own: absorbing,
breeding, evaluating, recording.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import time
from typing import Any

from _launch import result_line
from overhead import BOUNDS, DIMENSIONS  # the same problem as the overhead benchmark


def measure(ranks: int, generations: int, seed: int) -> tuple[float, str]:
    """One run: the CPU seconds per evaluation and the digest of the island's results."""
    from propulate.testing import InRounds, LocalIsland
    from propulate.utils import get_default_propagator

    limits = {f"x{i}": BOUNDS for i in range(DIMENSIONS)}
    names = list(limits)

    def sphere(params: Any) -> float:
        return sum(params[name] ** 2 for name in names)

    propagators = [
        get_default_propagator(2 * ranks, limits, rng=random.Random(seed * 1000 + rank))
        for rank in range(ranks)
    ]
    with LocalIsland(sphere, propagators, generations=generations) as island:
        start = time.process_time()
        evaluations = island.run(InRounds())
        seconds = time.process_time() - start
        results = sorted((ind.key, ind.loss) for ind in island.propulators[0].population)
    if evaluations != ranks * generations or len(results) != evaluations:
        raise RuntimeError(f"{evaluations} evaluations, {len(results)} known")
    return seconds / evaluations, hashlib.sha256(repr(results).encode()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--generations", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("propulate").setLevel(logging.WARNING)
    runs = [measure(args.ranks, args.generations, args.seed) for _ in range(args.repeats)]
    digest = runs[0][1]
    if any(other != digest for _, other in runs):  # the same seed must give the same results
        raise RuntimeError(f"the repeats gave different results: {[d for _, d in runs]}")
    times = [1e6 * seconds for seconds, _ in runs]
    print(
        f"{args.ranks} ranks x {args.generations} generations: {min(times):.1f} us CPU per "
        f"evaluation (repeats {', '.join(f'{t:.1f}' for t in times)}), digest {digest}"
    )
    result_line({"ranks": args.ranks, "generations": args.generations,
                 "cpu_us_per_eval": min(times), "digest": digest})  # fmt: skip


if __name__ == "__main__":
    main()
