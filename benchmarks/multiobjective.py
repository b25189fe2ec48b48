"""Multi-objective quality: the hypervolume of our front against Optuna's at equal evaluations.

    python benchmarks/multiobjective.py                      # 4 problems x 5 seeds, 200 evaluations
    python benchmarks/multiobjective.py --problems zdt1 --seeds 2 --evaluations 80   # a smoke run
    python benchmarks/multiobjective.py --problems dtlz2 --strategies default --skip-optuna
    python benchmarks/multiobjective.py --selection-cost   # CPU time of one selection
    python benchmarks/multiobjective.py --reuse benchmarks/results/multiobjective.json

Problems (all objectives minimized; their definitions are below, fixed before any tuning):

* ``zdt1``, ``zdt2``: Zitzler, Deb and Thiele's two-objective problems (convex and concave
  fronts) on 6 variables in [0, 1]; reference point (1.1, 4.0).
* ``dtlz2``: Deb, Thiele, Laumanns and Zitzler's three-objective problem (a spherical front) on
  6 variables in [0, 1]; reference point (1.5, 1.5, 1.5).
* ``hpo``: an HPO-shaped two-objective problem over a mixed space (a log-scaled learning rate,
  an int number of layers, a categorical width and activation, a dropout rate): a synthetic
  validation error against a latency that grows with the model's size; reference (1.5, 10.0).

Every method gets the same number of evaluations per run, once per seed (0, 1, ...). Ours run
under ``mpirun -n RANKS`` (4 by default), each rank evaluating ``evaluations // RANKS``
individuals, every evaluation first sleeping ``--eval-delay`` seconds (2 ms, so that the ranks
interleave on a machine with fewer cores than ranks): ``ours`` is the default propagator
(``get_default_propagator(2 * RANKS, limits)``; with several objectives a genetic algorithm
whose parents are selected by Pareto rank and hypervolume, and multi-objective TPE breeding
half of the children), ``tpe`` is :class:`propulate.propagators.TPE` with its defaults
(``--strategies`` picks either). Optuna's ``NSGAIISampler`` (``nsga2``) and multi-objective
``TPESampler`` (``motpe``) run serially, each trial seeing every earlier one, seeded with the
run's seed, with their defaults. The table gives the mean and the minimum over the seeds of the
hypervolume of each method's non-dominated evaluations (higher is better) and each of ours
relative to each method.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _launch import launch, result_line  # noqa: E402  # the MPI benchmarks' launcher

from propulate.pareto import hypervolume  # noqa: E402  # the repository's, not an installed one

N_VARIABLES = 6
WIDTHS = (32, 64, 128, 256)
ACTIVATIONS = ("relu", "tanh", "gelu")


def zdt1(x: np.ndarray) -> tuple[float, float]:
    """ZDT1: f1 = x0, f2 = g (1 - sqrt(f1 / g)), g = 1 + 9 mean(x1..)."""
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - math.sqrt(x[0] / g))


def zdt2(x: np.ndarray) -> tuple[float, float]:
    """ZDT2: as ZDT1 with f2 = g (1 - (f1 / g)^2) (a concave front)."""
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - (x[0] / g) ** 2)


def dtlz2(x: np.ndarray) -> tuple[float, float, float]:
    """DTLZ2 with three objectives: g = sum((x_i - 0.5)^2) over x2..; a spherical front."""
    g = float(np.sum((x[2:] - 0.5) ** 2))
    a, b = 0.5 * math.pi * x[0], 0.5 * math.pi * x[1]
    return (
        (1 + g) * math.cos(a) * math.cos(b),
        (1 + g) * math.cos(a) * math.sin(b),
        (1 + g) * math.sin(a),
    )


def hpo(params: dict[str, Any]) -> tuple[float, float]:
    """A synthetic validation error against latency over a mixed space."""
    lr, layers, width = params["lr"], params["layers"], params["width"]
    activation, dropout = params["activation"], params["dropout"]
    capacity = layers * width / 256.0  # in [1/8, 8]
    error = (
        0.05 * (math.log10(lr) + 2.5) ** 2  # best learning rate ~3e-3
        + 0.4 / (1.0 + capacity)  # bigger models fit better...
        + 0.3 * (dropout - 0.2 - 0.02 * layers) ** 2  # ...and want more dropout
        + {"relu": 0.02, "tanh": 0.05, "gelu": 0.0}[activation]
    )
    latency = capacity * (1.15 if activation == "gelu" else 1.0) + 0.05 * layers
    return error, latency


UNIT = {f"x{i}": (0.0, 1.0) for i in range(N_VARIABLES)}
HPO_LIMITS = {
    "lr": (1e-5, 1e-1, "log"),
    "layers": (1, 8),
    "width": tuple(str(w) for w in WIDTHS),
    "activation": ACTIVATIONS,
    "dropout": (0.0, 0.5),
}


def _vector(function: Callable[[np.ndarray], tuple[float, ...]]) -> Callable[[Any], Any]:
    def loss(params: Any) -> tuple[float, ...]:
        return function(np.array([params[f"x{i}"] for i in range(N_VARIABLES)]))

    return loss


def _hpo_loss(params: Any) -> tuple[float, float]:
    return hpo({**dict(params), "width": int(params["width"])})


#: name -> (loss, limits, reference point)
PROBLEMS: dict[str, tuple[Callable[[Any], Any], dict[str, tuple], tuple[float, ...]]] = {
    "zdt1": (_vector(zdt1), UNIT, (1.1, 4.0)),
    "zdt2": (_vector(zdt2), UNIT, (1.1, 4.0)),
    "dtlz2": (_vector(dtlz2), UNIT, (1.5, 1.5, 1.5)),
    "hpo": (_hpo_loss, HPO_LIMITS, (1.5, 10.0)),
}
SEED_STRIDE = 1000
#: our strategies: the --strategy value -> the method's name in the table and the JSON file
STRATEGIES = {"default": "ours", "tpe": "tpe"}


# ----- ours: one rank of an mpirun job ----------------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    """Run one (problem, seed) under mpirun; rank 0 prints the ``RESULT`` line."""
    import logging
    import random

    from mpi4py import MPI

    from propulate import Propulator
    from propulate.propagators import TPE
    from propulate.utils import get_default_propagator

    logging.getLogger("propulate").setLevel(logging.WARNING)
    comm = MPI.COMM_WORLD
    problem, seed = args.problem, args.seed
    loss_fn, limits, _ = PROBLEMS[problem]

    def delayed(params: Any) -> Any:
        time.sleep(args.eval_delay)
        return loss_fn(params)

    rng = random.Random(SEED_STRIDE * seed + comm.rank)
    if args.strategy == "tpe":
        propagator: Any = TPE(limits, rng=rng)
    else:
        propagator = get_default_propagator(2 * comm.size, limits, rng=rng)
    comm.Barrier()
    started = time.perf_counter()
    propulator = Propulator(delayed, propagator, rng, island_comm=comm,
                            generations=args.evaluations // comm.size,
                            checkpoint_path=args.checkpoint)  # fmt: skip
    propulator.propulate(logging_interval=0, debug=0)
    seconds = time.perf_counter() - started
    points = [list(ind.losses) for ind in propulator.population if ind.losses is not None]
    if comm.rank == 0:
        result_line({"method": STRATEGIES[args.strategy], "problem": problem, "seed": seed,
                     "points": points, "evaluations": len(propulator.population),
                     "seconds": seconds})  # fmt: skip


def run_ours(tasks: list[tuple[str, int]], strategy: str, args: argparse.Namespace) -> list[dict]:
    """One mpirun job per task, with our ``strategy`` (a key of :data:`STRATEGIES`)."""
    mpirun = shutil.which("mpirun", path=os.path.dirname(sys.executable)) or "mpirun"
    results = []
    for problem, seed in tasks:
        arguments = ["--problem", problem, "--seed", str(seed), "--evaluations",
                     str(args.evaluations), "--eval-delay", str(args.eval_delay),
                     "--strategy", strategy]  # fmt: skip
        result = launch(mpirun, args.ranks, sys.executable, __file__, arguments,
                        timeout=args.timeout, prefix="propulate-multiobjective-")  # fmt: skip
        if result is None:
            sys.exit(f"mpirun failed or timed out on {problem}, seed {seed} (output above)")
        results.append(result)
    return results


# ----- the references: Optuna, serially ---------------------------------------------------------
def run_reference(method: str, problem: str, seed: int, evaluations: int) -> dict:
    """One Optuna study of ``problem`` with NSGA-II or multi-objective TPE."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    loss_fn, limits, reference = PROBLEMS[problem]
    if method == "nsga2":
        sampler: Any = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(directions=["minimize"] * len(reference), sampler=sampler)

    def objective(trial: Any) -> tuple[float, ...]:
        params: dict[str, Any] = {}
        for name, limit in limits.items():
            if isinstance(limit[0], str):
                params[name] = trial.suggest_categorical(name, list(limit))
            elif isinstance(limit[0], int):
                params[name] = trial.suggest_int(name, limit[0], limit[1])
            else:
                params[name] = trial.suggest_float(name, limit[0], limit[1], log="log" in limit)
        return tuple(loss_fn(params))

    started = time.perf_counter()
    study.optimize(objective, n_trials=evaluations)
    points = [list(t.values) for t in study.trials if t.values is not None]
    return {"method": method, "problem": problem, "seed": seed, "points": points,
            "evaluations": len(points), "seconds": time.perf_counter() - started}  # fmt: skip


# ----- the cost of a selection ------------------------------------------------------------------
def selection_cost(sizes: tuple[int, ...] = (1_000, 10_000), repeats: int = 5) -> None:
    """Print the CPU milliseconds of one ``SelectPareto(8)`` call, spreading the last front by
    hypervolume (ours) and by crowding distance (NSGA-II's), on random shells of a sphere."""
    import propulate.propagators.pareto as selection
    from propulate.pareto import crowding_distance
    from propulate.population import Individual

    def crowding(front: np.ndarray, k: int) -> np.ndarray:
        if k >= len(front):
            return np.arange(len(front))
        return np.argsort(-crowding_distance(front), kind="stable")[:k]

    spreads = {"hypervolume": selection.spread_subset, "crowding": crowding}
    for size in sizes:
        for dims in (2, 3):
            rng = np.random.default_rng(0)
            points = rng.random((size, dims))
            points *= (1 + rng.random((size, 1))) / np.linalg.norm(points, axis=1, keepdims=True)
            inds = []
            for row in points:
                ind = Individual({"x": 0.5}, {"x": (0.0, 1.0)})
                ind.losses, ind.loss, ind.status = tuple(row), float(row[0]), "ok"
                inds.append(ind)
            costs = []
            for name, spread in spreads.items():
                selection.spread_subset = spread  # type: ignore[assignment]
                started = time.process_time()
                for _ in range(repeats):
                    selection.SelectPareto(8)(inds)
                costs.append(f"{name} {1e3 * (time.process_time() - started) / repeats:6.1f} ms")
            selection.spread_subset = spreads["hypervolume"]
            print(f"{size:6d} individuals, {dims} objectives: " + ", ".join(costs))


# ----- the table --------------------------------------------------------------------------------
def table(results: list[dict], problems: list[str]) -> str:
    """Mean and minimum hypervolume per problem and method; each of ours relative to each."""
    ours = [m for m in STRATEGIES.values() if any(r["method"] == m for r in results)]
    methods = ours + ["nsga2", "motpe"]
    evaluations = {(r["problem"], r["method"]): r["evaluations"] for r in results}
    lines = [
        f"{'problem':8} {'method':6} {'runs':>4} {'evals':>5} {'mean HV':>9} {'min HV':>9} "
        + " ".join(f"{name + ' / it':>9}" for name in ours)
    ]
    for problem in problems:
        reference = PROBLEMS[problem][2]
        volumes: dict[str, list[float]] = {}
        for method in methods:
            runs = [r for r in results if r["problem"] == problem and r["method"] == method]
            if runs:
                volumes[method] = [hypervolume(r["points"], reference) for r in runs]
        means = {method: float(np.mean(v)) for method, v in volumes.items()}
        for method, v in volumes.items():
            mean = means[method]
            ratios = [means.get(name, math.nan) / mean if mean > 0 else math.nan for name in ours]
            lines.append(
                f"{problem:8} {method:6} {len(v):4d} {evaluations[problem, method]:5d} "
                f"{mean:9.4f} {min(v):9.4f} " + " ".join(f"{x:9.3f}" for x in ratios)
            )
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments; run the worker under mpirun or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=5, help="runs per method (seeds 0, 1...)")
    parser.add_argument("--evaluations", type=int, default=200)
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--eval-delay", type=float, default=0.002)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--skip-optuna", action="store_true", help="only ours")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES),
                        choices=list(STRATEGIES), help="our propagators to run")  # fmt: skip
    parser.add_argument("--strategy", default="default", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write every run's evaluations here")
    parser.add_argument("--reuse", help="tabulate the runs of an earlier --json file again")
    parser.add_argument(
        "--selection-cost",
        action="store_true",
        help="only time SelectPareto's spread (hypervolume, crowding distance)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.selection_cost:
        selection_cost()
        return
    if args.reuse:
        results = json.loads(Path(args.reuse).read_text())
        problems = [p for p in args.problems if any(r["problem"] == p for r in results)]
        print(table(results, problems))
        return
    tasks = [(problem, seed) for problem in args.problems for seed in range(args.seeds)]
    results = []
    for strategy in args.strategies:
        started = time.perf_counter()
        results += run_ours(tasks, strategy, args)
        print(f"{STRATEGIES[strategy]}: {len(tasks)} runs in {time.perf_counter() - started:.0f} s",
              flush=True)  # fmt: skip
    if not args.skip_optuna:
        for method in ("nsga2", "motpe"):
            started = time.perf_counter()
            for problem, seed in tasks:
                results.append(run_reference(method, problem, seed, args.evaluations))
            print(f"{method}: {len(tasks)} runs in {time.perf_counter() - started:.0f} s")
    if args.json:
        for result in results:
            result["points"] = [[round(v, 7) for v in point] for point in result["points"]]
        Path(args.json).write_text(json.dumps(results))
    print(f"{args.evaluations} evaluations per run, {args.seeds} seeds, ours on {args.ranks} "
          "ranks, Optuna serial; hypervolume (higher is better)")  # fmt: skip
    print(table(results, args.problems))


if __name__ == "__main__":
    main()
