"""Early stopping on synthetic learning curves: training steps spent vs. best final loss.

Every individual "trains" for up to ``--steps`` epochs; its validation loss decays exponentially
from 2.5 to an asymptote set by its hyperparameters, at a speed set by its learning rate, with
1 % multiplicative noise per epoch::

    loss(t) = a + (2.5 - a) * exp(-t / tau) * (1 + 0.01 * noise)
    a   = 0.05 + sum((x_i - c_i)^2) / 20 + 0.1 * max(0, log10(lr) + 2)^2   (best: x = c, lr <= 1e-2)
    tau = 2 + 8 * |log10(lr) + 2|                                           (fastest at lr = 1e-2)

so slow learning rates make late bloomers that look bad early. Each configuration (no early
stopping, then each built-in rule with its default and with gentler settings) evaluates the same
number of individuals with the same seeds; the table gives the training steps spent (all epochs
run, summed over individuals), the best final loss among completed individuals (with the standard
error of its mean: seeds vary by a few per cent), and the share pruned, each averaged over
``--seeds`` seeds.

Run (one process, or several ranks sharing what their rules learn)::

    python benchmarks/pruning.py
    mpirun -n 4 python -m mpi4py benchmarks/pruning.py --generations 64 --step-seconds 0.0005
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from propulate import (
    ASHA,
    DynamicSurrogate,
    MedianStoppingRule,
    Propulator,
    StaticSurrogate,
    Surrogate,
)
from propulate.population import Status
from propulate.utils import get_default_propagator

LIMITS = {
    "x0": (-5.0, 5.0),
    "x1": (-5.0, 5.0),
    "x2": (-5.0, 5.0),
    "lr": (1e-4, 1e-1, "log"),
}
CENTER = (1.0, -2.0, 0.5)
START = 2.5
NOISE = 0.01


def asymptote(params: Any) -> float:
    """The loss a full training converges to."""
    lr_excess = max(0.0, math.log10(float(params["lr"])) + 2.0)
    spread = sum((float(params[f"x{i}"]) - c) ** 2 for i, c in enumerate(CENTER))
    return 0.05 + spread / 20.0 + 0.1 * lr_excess**2


def time_constant(params: Any) -> float:
    """Epochs per factor e of convergence: slower away from lr = 1e-2."""
    return 2.0 + 8.0 * abs(math.log10(float(params["lr"])) + 2.0)


def make_loss(steps: int, seed: int, step_seconds: float) -> Callable[[Any], Any]:
    """The generator loss function: one noisy validation loss per epoch."""

    def loss(params: Any) -> Any:
        a, tau = asymptote(params), time_constant(params)
        rng = np.random.default_rng([seed, params.rank, params.generation])
        for t in range(1, steps + 1):
            if step_seconds:
                time.sleep(step_seconds)
            yield a + (START - a) * math.exp(-t / tau) * (1.0 + NOISE * rng.standard_normal())

    return loss


RULES: dict[str, Callable[[], Surrogate] | None] = {
    "none": None,
    "StaticSurrogate()": lambda: StaticSurrogate(),
    "StaticSurrogate(margin=0.5)": lambda: StaticSurrogate(margin=0.5),
    "DynamicSurrogate(LIMITS)": lambda: DynamicSurrogate(LIMITS),
    "DynamicSurrogate(LIMITS, margin=0.8)": lambda: DynamicSurrogate(LIMITS, margin=0.8),
    "DynamicSurrogate(LIMITS, margin=1.0)": lambda: DynamicSurrogate(LIMITS, margin=1.0),
    "MedianStoppingRule()": lambda: MedianStoppingRule(),
    "MedianStoppingRule(warmup_steps=5)": lambda: MedianStoppingRule(warmup_steps=5),
    "ASHA()": lambda: ASHA(),
    "ASHA(min_resource=2)": lambda: ASHA(min_resource=2),
    "ASHA(min_resource=2, reduction_factor=4)": lambda: ASHA(min_resource=2, reduction_factor=4),
}


def run(
    rule: str, seed: int, generations: int, steps: int, comm: Any, step_seconds: float = 0.0
) -> dict[str, float]:
    """One optimization; the numbers on every rank (gathered)."""
    path = tempfile.mkdtemp(prefix="propulate-pruning-") if comm.rank == 0 else None
    path = comm.bcast(path, root=0)
    rng = random.Random(seed * 1000 + comm.rank)
    propagator = get_default_propagator(max(8, 2 * comm.size), LIMITS, rng=rng)
    propulator = Propulator(
        make_loss(steps, seed, step_seconds),
        propagator,
        rng,
        island_comm=comm,
        generations=generations,
        checkpoint_path=path,
        surrogate_factory=RULES[rule],
    )
    start = time.perf_counter()
    propulator.propulate(logging_interval=0)
    wall = comm.allreduce(time.perf_counter() - start, op=_max())
    population = propulator.population
    comm.Barrier()
    if comm.rank == 0:
        shutil.rmtree(path, ignore_errors=True)
    completed = [ind.loss for ind in population if ind.status == Status.OK]
    return {
        "individuals": len(population),
        "steps": sum(len(ind.curve) for ind in population),
        "best": min(completed) if completed else math.inf,
        "pruned": sum(ind.status == Status.PRUNED for ind in population) / len(population),
        "wall": wall,
    }


def _max() -> Any:
    from mpi4py import MPI

    return MPI.MAX


def main() -> None:
    """Run every rule for every seed and print the table on rank 0."""
    from mpi4py import MPI

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=256, help="individuals per rank")
    parser.add_argument("--steps", type=int, default=50, help="epochs of a complete training")
    parser.add_argument("--seeds", type=int, default=40, help="repetitions (seeds 0, 1, ...)")
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=0.0,
        help="sleep per epoch; with several ranks give e.g. 0.0005 so that ranks interleave as "
        "with real trainings (instant evaluations let each rank run ahead of its peers' results)",
    )
    parser.add_argument("--rules", nargs="+", default=list(RULES), choices=list(RULES))
    args = parser.parse_args()
    logging.getLogger("propulate").setLevel(logging.WARNING)
    comm = MPI.COMM_WORLD
    results: dict[str, list[dict[str, float]]] = {}
    for rule in args.rules:
        results[rule] = [
            run(rule, seed, args.generations, args.steps, comm, args.step_seconds)
            for seed in range(args.seeds)
        ]
    if comm.rank != 0:
        return
    individuals = args.generations * comm.size
    print(
        f"{comm.size} rank(s), {individuals} individuals of up to {args.steps} epochs, "
        f"mean over {args.seeds} seeds; {args.step_seconds * 1e3:g} ms per epoch"
    )
    header = (
        f"{'rule':<42}{'steps':>7}{'fewer':>7}{'best final loss':>19}{'vs none':>9}"
        f"{'pruned':>8}{'wall s':>8}"
    )
    print(header)
    print("-" * len(header))
    base = results.get("none")
    for rule, runs in results.items():
        steps = float(np.mean([r["steps"] for r in runs]))
        bests = np.array([r["best"] for r in runs])
        best, error = float(bests.mean()), float(bests.std(ddof=1) / math.sqrt(len(bests)))
        pruned = float(np.mean([r["pruned"] for r in runs]))
        wall = float(np.mean([r["wall"] for r in runs]))
        if base is not None:
            base_steps = float(np.mean([r["steps"] for r in base]))
            base_best = float(np.mean([r["best"] for r in base]))
            fewer = f"{base_steps / steps:.2f}x"
            versus = f"{100 * (best - base_best) / base_best:+.1f} %"
        else:
            fewer = versus = "n/a"
        print(
            f"{rule:<42}{steps:>7.0f}{fewer:>7}{best:>11.4f} ±{error:.4f}{versus:>9}"
            f"{100 * pruned:>7.0f}%{wall:>8.2f}"
        )


if __name__ == "__main__":
    main()
