"""Conditional parameters against the same parameters always active, on an HPO-like problem.

    python benchmarks/conditional.py                      # TPE and default, 10 seeds, 160 evals
    python benchmarks/conditional.py --seeds 3 --evaluations 80      # a quick run

The problem imitates tuning an optimizer: ``optimizer`` (sgd, adam, rmsprop), a log-scaled
learning rate, layers and dropout, and three parameters that matter for some optimizers only:
``momentum`` (sgd, rmsprop), ``nesterov`` (sgd) and ``beta2`` (adam). Its minimum, 0, is at sgd,
lr 1e-2, momentum 0.9, nesterov True, 4 layers, dropout 0.2. The *conditional* space declares
those three with ``when=``; the *flat* space declares them always active (the loss ignores them
where they do not matter, as a training script would). Each strategy runs on both, through the
real loop (4 ranks stepped in turn in memory, :class:`propulate.testing.LocalIsland`), with the
same seeds, and the table gives the best loss after the budget: median and mean over the seeds
(lower is better).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
from collections.abc import Callable, Mapping
from typing import Any

import propulate
from propulate.propagators import TPE
from propulate.testing import LocalIsland

RANKS = 4

FLAT: dict[str, Any] = {
    "optimizer": ("sgd", "adam", "rmsprop"),
    "lr": (1e-5, 1e-1, "log"),
    "layers": (1, 8),
    "dropout": (0.0, 0.5),
    "momentum": (0.0, 0.99),
    "nesterov": (True, False),
    "beta2": (0.9, 0.99, 0.999),
}
CONDITIONAL: dict[str, Any] = {
    **FLAT,
    "momentum": propulate.Float(0.0, 0.99, when={"optimizer": ("sgd", "rmsprop")}),
    "nesterov": propulate.Bool(when={"optimizer": "sgd"}),
    "beta2": propulate.Ordinal([0.9, 0.99, 0.999], when={"optimizer": "adam"}),
}
BEST_LR = {"sgd": -2.0, "adam": -3.0, "rmsprop": -3.5}  # log10 of the best learning rate
BASE = {"sgd": 0.0, "adam": 0.05, "rmsprop": 0.1}


def loss(p: Mapping[str, Any]) -> float:
    """The synthetic training loss; reads the optimizer-specific parameters only where used."""
    optimizer = p["optimizer"]
    value = BASE[optimizer] + 0.3 * (math.log10(p["lr"]) - BEST_LR[optimizer]) ** 2
    value += 0.02 * (p["layers"] - 4) ** 2 + (p["dropout"] - 0.2) ** 2
    if optimizer == "sgd":
        value += 2.0 * (p["momentum"] - 0.9) ** 2 + (0.0 if p["nesterov"] else 0.05)
    elif optimizer == "rmsprop":
        value += (p["momentum"] - 0.5) ** 2
    else:
        value += {0.9: 0.1, 0.99: 0.02, 0.999: 0.0}[p["beta2"]]
    return value


STRATEGIES: dict[str, Callable[[dict[str, Any], random.Random], Any]] = {
    "TPE": lambda limits, rng: TPE(limits, rng=rng),
    "default": lambda limits, rng: propulate.get_default_propagator(2 * RANKS, limits, rng=rng),
}


def best_loss(strategy: str, limits: dict[str, Any], seed: int, evaluations: int) -> float:
    """One run of the real loop: the best loss after ``evaluations`` evaluations."""
    rngs = [random.Random(1000 * seed + rank) for rank in range(RANKS)]
    propagators = [STRATEGIES[strategy](limits, rng) for rng in rngs]
    with LocalIsland(loss, propagators, rngs=rngs) as island:
        island.run(evaluations=evaluations)
        return min(ind.loss for ind in island.propulators[0].population)


def main() -> None:
    """Run every strategy on both spaces and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--evaluations", type=int, default=160)
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    args = parser.parse_args()
    print(
        f"best loss after {args.evaluations} evaluations, {RANKS} ranks, seeds 0-{args.seeds - 1}"
    )
    print(f"{'strategy':10} {'space':12} {'median':>9} {'mean':>9}  wins (conditional vs flat)")
    for strategy in args.strategies:
        results = {
            name: [
                best_loss(strategy, limits, seed, args.evaluations) for seed in range(args.seeds)
            ]
            for name, limits in (("conditional", CONDITIONAL), ("flat", FLAT))
        }
        wins = sum(c < f for c, f in zip(results["conditional"], results["flat"], strict=True))
        for name, values in results.items():
            extra = f"  {wins}/{args.seeds}" if name == "conditional" else ""
            print(f"{strategy:10} {name:12} {statistics.median(values):9.4f} "
                  f"{statistics.fmean(values):9.4f}{extra}")  # fmt: skip


if __name__ == "__main__":
    main()
