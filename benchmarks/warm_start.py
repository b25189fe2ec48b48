"""Seeding and warm start, measured: evaluations to reach an earlier run's best, warm vs cold.

    python benchmarks/warm_start.py                      # 4 problems x 5 seeds, 4 ranks
    python benchmarks/warm_start.py --problems mixed_sphere --seeds 3 --old 100

For every problem of ``hpo_problems.py`` given and every seed:

1. an *earlier run*: ``--old`` evaluations of the default propagator on ``--ranks`` in-memory
   ranks (the real loop, stepped deterministically by :class:`propulate.testing.LocalIsland`);
   its best loss is the *old best*;
2. a *cold start*: a new run, on a fresh checkpoint, counting its evaluations until one of them
   reaches the old best (loss <= old best), at most ``--cap``;
3. a *warm start*: the same new run (same random generators) with
   ``warm_start=<the earlier run's checkpoint>``, counted the same way. The imported results are
   not evaluated again, so every counted evaluation is a new one.

Then the seeding check: on 1, 2 and 4 ranks, a run given the problem's documented optimum as
its first seed; the table gives the evaluation (counted over all ranks, in the order they ran)
at which the optimum's loss was first reached. It must be 1.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

DEFAULT_PROBLEMS = ["mixed_sphere", "mixed_rosenbrock", "synth_mlp_training", "synth_gbdt"]


def new_run(
    loss: Callable[[Any], float], limits: dict[str, Any], ranks: int, seed: int, path: Path,
    **kwargs: Any,
) -> Any:  # fmt: skip
    """A stepped in-memory run of the default propagator (one generator per rank)."""
    from propulate.testing import LocalIsland
    from propulate.utils import get_default_propagator

    rngs = [random.Random(10_000 * seed + rank) for rank in range(ranks)]
    propagators = [get_default_propagator(2 * ranks, limits, rng=rng) for rng in rngs]
    return LocalIsland(loss, propagators, path, seed=seed, rngs=rngs, **kwargs)


def evaluations_to_reach(run: Any, losses: list[float], target: float, cap: int) -> int | None:
    """Step ``run`` rank after rank until a new evaluation reaches ``target``; how many it took."""
    try:
        while len(losses) < cap:
            for rank in range(run.size):
                run.step(rank)
                hit = next((i for i, value in enumerate(losses) if value <= target), None)
                if hit is not None:
                    return hit + 1
        return None
    finally:
        run.finish()


def counted(loss: Callable[[Any], float], losses: list[float]) -> Callable[[Any], float]:
    def wrapped(params: Any) -> float:
        value = float(loss(params))
        losses.append(value)
        return value

    return wrapped


def measure(problem: Any, seed: int, ranks: int, old: int, cap: int) -> dict[str, Any]:
    """Old best, and the evaluations a cold and a warm start need to reach it."""
    with tempfile.TemporaryDirectory() as folder:
        earlier = Path(folder) / "earlier"
        losses: list[float] = []
        with new_run(counted(problem.loss, losses), problem.limits, ranks, seed, earlier) as run:
            run.run(evaluations=old)
        target = min(losses)
        result: dict[str, Any] = {"old_best": target}
        for kind, extra in (("cold", {}), ("warm", {"warm_start": earlier})):
            losses = []
            path = Path(folder) / kind
            loss = counted(problem.loss, losses)
            with new_run(loss, problem.limits, ranks, seed + 1000, path, **extra) as run:
                result[kind] = evaluations_to_reach(run, losses, target, cap)
        return result


def first_hit_with_seed(problem: Any, ranks: int) -> int | None:
    """The evaluation at which a run seeded with the optimum first reaches its loss."""
    losses: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        loss = counted(problem.loss, losses)
        seeds = [dict(problem.optimum)]
        with new_run(loss, problem.limits, ranks, 0, Path(folder), seeds=seeds) as run:
            return evaluations_to_reach(run, losses, problem.loss(problem.optimum), 50)


def main(argv: list[str] | None = None) -> None:
    """Print the table of evaluations to reach the old best, and the seeding check."""
    from hpo_problems import PROBLEMS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), default=DEFAULT_PROBLEMS)
    parser.add_argument("--seeds", type=int, default=5, help="seeds per problem")
    parser.add_argument("--ranks", type=int, default=4, help="in-memory ranks per run")
    parser.add_argument("--old", type=int, default=200, help="evaluations of the earlier run")
    parser.add_argument("--cap", type=int, default=2000, help="evaluations at most per new run")
    args = parser.parse_args(argv)

    print(f"Evaluations to reach the best of an earlier run of {args.old} evaluations "
          f"({args.ranks} ranks, default propagator; '>' = not within {args.cap})")  # fmt: skip
    print(f"{'problem':<22}{'seed':>5}{'old best':>12}{'cold':>8}{'warm':>8}")
    fewer, total = 0, 0
    for name in args.problems:
        problem = PROBLEMS[name]
        cold_all, warm_all = [], []
        for seed in range(args.seeds):
            r = measure(problem, seed, args.ranks, args.old, args.cap)
            cold = r["cold"] if r["cold"] is not None else args.cap + 1
            warm = r["warm"] if r["warm"] is not None else args.cap + 1
            cold_all.append(cold)
            warm_all.append(warm)
            fewer += warm < cold
            total += 1
            show = [f">{args.cap}" if v > args.cap else str(v) for v in (cold, warm)]
            print(f"{name:<22}{seed:>5}{r['old_best']:>12.4g}{show[0]:>8}{show[1]:>8}", flush=True)
        print(f"{name:<22}{'med':>5}{'':>12}{statistics.median(cold_all):>8g}"
              f"{statistics.median(warm_all):>8g}")  # fmt: skip
    print(f"warm start needed fewer new evaluations than cold in {fewer} of {total} runs")
    print()
    print("Seeded optimum: evaluation at which its loss is first reached")
    print(f"{'problem':<22}" + "".join(f"{f'{r} rank(s)':>12}" for r in (1, 2, 4)))
    for name in args.problems:
        problem = PROBLEMS[name]
        hits = [first_hit_with_seed(problem, ranks) for ranks in (1, 2, 4)]
        print(f"{name:<22}" + "".join(f"{str(h):>12}" for h in hits))


if __name__ == "__main__":
    main()
