"""Search quality: our strategies against Optuna's samplers at the same number of evaluations.

    python benchmarks/search_quality.py --jobs 2      # the full benchmark, 8 min on 2 cores
    python benchmarks/search_quality.py --quick --functions sphere      # a smoke run, seconds
    python benchmarks/search_quality.py --methods cmaes optuna-cmaes --functions rosenbrock

Every method gets the same budget of evaluations per run (by default 400 in 2 and 1000 in 10
dimensions) on each benchmark function (sphere, Rosenbrock, Rastrigin and Ackley on their usual
domains, see :mod:`propulate.utils.benchmark_functions`), once per seed (10 by default), and
the table gives the median over the seeds of the best loss found (lower is better; every
function's minimum is 0).

Our strategies run under ``mpirun -n RANKS`` (4 by default), each rank evaluating ``budget //
RANKS`` individuals; one ``mpirun`` job per strategy loops over functions, dimensions and seeds,
each run on a fresh checkpoint folder in a temporary directory:

* ``GA``: ``get_default_propagator(2 * RANKS, limits)``, the library's default (Propulate 1.2's
  benchmark setting of the breeding pool);
* ``PSO``: :class:`~propulate.propagators.BasicPSO`, inertia 0.729, cognitive and social factors
  1.49445 (the tutorial's defaults; one particle per rank);
* ``CMA-ES``: :class:`~propulate.propagators.CMAPropagator` with :class:`BasicCMA` and the
  default population size ``4 + floor(3 ln n)``;
* ``NM``: :class:`~propulate.propagators.ParallelNelderMead` from a random start (the same on
  every rank, drawn from the seed) with initial edges of 0.25 of each range (the tutorial's).

The benchmark functions cost microseconds. Real loss functions take far longer than a message
between ranks, so every rank sees the others' results one by one; here, with 4 ranks on fewer
cores, a descheduled rank would instead find dozens of them at once when it runs again, and a
rank can evaluate its whole share before another one has started. So every evaluation of our
strategies first sleeps ``--eval-delay`` (2 ms by default; the sleep uses no CPU and gives the
ranks no information), which lets them interleave as ranks on cores of their own do.
``--eval-delay 0`` measures the bursty case.

The references run single-process, each trial seeing every earlier result, with Optuna's
defaults: ``TPE`` (``TPESampler``), ``Optuna CMA-ES`` (``CmaEsSampler``, which needs the
``cmaes`` package) and ``random`` search (``RandomSampler``); ``--jobs`` runs several studies
at once. Install them with ``pip install propulate[benchmark]``. TPE dominates the run time: a
1000-trial 10-d study takes about 35 s of CPU, and its cost grows with the square of the trials.
Measured on 2 cores: 491 s in all (our four strategies 165 s, TPE 294 s with ``--jobs 2``); 24
min with the cores shared with other jobs. ``--reuse`` takes the references (deterministic for
a given seed) from an earlier ``--json`` file.

The ``best`` column names the method with the lowest median; ``ours >= refs`` says whether our
best strategy's median is at least as good as the best reference's. Medians below ``--solved``
(1e-8, the usual target precision of optimizer benchmarks) count as solved and tie with each
other: at that point the difference is the rounding noise of the function, not search quality.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

STRATEGIES = ("ga", "pso", "cmaes", "nm")
REFERENCES = ("tpe", "optuna-cmaes", "random")
LABELS = {
    "ga": "GA",
    "pso": "PSO",
    "cmaes": "CMA-ES",
    "nm": "NM",
    "tpe": "TPE",
    "optuna-cmaes": "Optuna CMA-ES",
    "random": "random",
}
DEFAULT_FUNCTIONS = ("sphere", "rosenbrock", "rastrigin", "ackley")
DEFAULT_DIMENSIONS = (2, 10)
DEFAULT_BUDGETS = (400, 1000)
QUICK_BUDGETS = (40, 80)
#: Rank r of seed s uses random.Random(SEED_STRIDE * s + r): no two runs share a stream.
SEED_STRIDE = 1000
PSO_COEFFICIENTS = (0.729, 1.49445, 1.49445)  # inertia, cognitive, social
NM_SCALE = 0.25

Task = tuple[str, int, int, int]  # function, dimensions, evaluations, seed


# ----- our strategies: one rank of an mpirun job ------------------------------------------------
def make_propagator(
    strategy: str, limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any
) -> Any:
    """The propagator of ``strategy`` for rank ``rank`` of ``size``, set up as documented above."""
    import random

    import numpy as np

    from propulate import SearchSpace
    from propulate.propagators import (
        ActiveCMA,
        BasicCMA,
        BasicPSO,
        CMAPropagator,
        ParallelNelderMead,
    )
    from propulate.utils import get_default_propagator

    if strategy == "ga":
        return get_default_propagator(2 * size, limits, rng=rng)
    if strategy == "pso":
        return BasicPSO(*PSO_COEFFICIENTS, rank, limits, rng)
    if strategy == "cmaes":
        adapter = ActiveCMA() if args.cma_adapter == "active" else BasicCMA()
        return CMAPropagator(adapter, limits, pop_size=args.cma_pop_size, rng=rng)
    if strategy == "nm":
        # The same start on every rank: they all work on one simplex.
        sampled = SearchSpace(limits).sample(random.Random(seed))
        start = np.array([sampled[name] for name in limits])
        return ParallelNelderMead(limits, rng, start, scale=NM_SCALE)
    raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}.")


def delayed(loss_fn: Any, delay: float) -> Any:
    """``loss_fn`` that first sleeps ``delay`` seconds (none if 0)."""
    if delay <= 0:
        return loss_fn

    def loss(params: Any) -> float:
        time.sleep(delay)
        return float(loss_fn(params))

    return loss


def worker(args: argparse.Namespace) -> None:
    """Run ``strategy`` on every task under mpirun; rank 0 prints one ``RESULT`` line per run."""
    import logging
    import random

    from mpi4py import MPI

    from propulate import Propulator
    from propulate.utils.benchmark_functions import get_function_search_space

    logging.getLogger("propulate").setLevel(logging.WARNING)
    comm = MPI.COMM_WORLD
    strategy, root = args.worker, args.checkpoint_root
    tasks = [tuple(task) for task in json.loads(args.tasks)]
    for function, dimensions, evaluations, seed in tasks:
        loss_fn, limits = get_function_search_space(function, dimensions)
        loss_fn = delayed(loss_fn, args.eval_delay)
        rng = random.Random(SEED_STRIDE * seed + comm.rank)
        propagator = make_propagator(strategy, limits, comm.rank, comm.size, seed, rng, args)
        checkpoint = root / f"{strategy}-{function}-{dimensions}d-seed{seed}"
        comm.Barrier()
        started = time.perf_counter()
        propulator = Propulator(
            loss_fn,
            propagator,
            rng,
            island_comm=comm,
            generations=evaluations // comm.size,
            checkpoint_path=checkpoint,
        )
        propulator.propulate(logging_interval=0, debug=0)
        best = min(b[0].loss for b in propulator.summarize(top_n=1, debug=0) if b)
        seconds = time.perf_counter() - started
        comm.Barrier()  # every rank is done with the folder
        if comm.rank == 0:
            shutil.rmtree(checkpoint, ignore_errors=True)
            result = {
                "method": strategy,
                "function": function,
                "dimensions": dimensions,
                "seed": seed,
                "evaluations": len(propulator.population),
                "best": best,
                "seconds": seconds,
            }
            print("RESULT " + json.dumps(result), flush=True)


def run_strategy(
    strategy: str, tasks: Sequence[Task], args: argparse.Namespace, mpirun: str
) -> list[dict]:
    """Launch one mpirun job that runs ``strategy`` on every task; return its results."""
    root = Path(tempfile.mkdtemp(prefix=f"propulate-quality-{strategy}-"))
    command = [mpirun, "-n", str(args.ranks), sys.executable, "-m", "mpi4py"]
    command += [os.path.abspath(__file__), "--worker", strategy, "--checkpoint-root", str(root)]
    command += ["--eval-delay", str(args.eval_delay), "--cma-adapter", args.cma_adapter]
    if args.cma_pop_size is not None:
        command += ["--cma-pop-size", str(args.cma_pop_size)]
    command += ["--tasks", json.dumps([list(task) for task in tasks])]
    # A session of its own, so a timeout can stop mpirun and every rank it started.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        sys.exit(f"{strategy}: mpirun ran past --timeout={args.timeout} s:\n{stderr[-2000:]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results = [
        json.loads(line[len("RESULT ") :])
        for line in stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    if process.returncode != 0 or len(results) != len(tasks):
        sys.exit(
            f"{strategy}: mpirun exited with {process.returncode} after {len(results)} of "
            f"{len(tasks)} runs:\n{stdout[-2000:]}\n{stderr[-3000:]}"
        )
    return results


# ----- the references: Optuna, single process ---------------------------------------------------
def run_reference(method: str, task: Task) -> dict:
    """One Optuna study of ``task``'s function with ``method``'s sampler."""
    import optuna

    from propulate.utils.benchmark_functions import get_function_search_space

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    function, dimensions, evaluations, seed = task
    loss_fn, limits = get_function_search_space(function, dimensions)
    sampler: optuna.samplers.BaseSampler
    if method == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif method == "optuna-cmaes":
        sampler = optuna.samplers.CmaEsSampler(seed=seed)
    elif method == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        raise ValueError(f"unknown reference {method!r}; choose one of {REFERENCES}.")

    def objective(trial: optuna.Trial) -> float:
        # Insertion order is the order of the limits, which the benchmark functions read.
        return loss_fn(
            {name: trial.suggest_float(name, low, high) for name, (low, high) in limits.items()}
        )

    study = optuna.create_study(direction="minimize", sampler=sampler)
    started = time.perf_counter()
    study.optimize(objective, n_trials=evaluations)
    return {
        "method": method,
        "function": function,
        "dimensions": dimensions,
        "seed": seed,
        "evaluations": len(study.trials),
        "best": study.best_value,
        "seconds": time.perf_counter() - started,
    }


def run_references(method: str, tasks: Sequence[Task], jobs: int) -> list[dict]:
    """Every task with ``method``, in ``jobs`` processes."""
    if jobs <= 1:
        return [run_reference(method, task) for task in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(run_reference, [method] * len(tasks), tasks))


# ----- the table --------------------------------------------------------------------------------
def solved_or(value: float, solved: float) -> float:
    """``value``, or 0 if it is below the ``solved`` threshold."""
    return 0.0 if value < solved else value


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """The first quartile, median and third quartile of ``values``."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def table(
    results: Sequence[dict], methods: Sequence[str], budgets: dict[int, int], solved: float
) -> tuple[str, list[str]]:
    """The markdown table of median best losses, and one line per row our methods lose."""
    losses: dict[tuple[str, int, str], list[float]] = {}
    for r in results:
        losses.setdefault((r["function"], r["dimensions"], r["method"]), []).append(r["best"])
    spread = {key: quartiles(values) for key, values in losses.items()}
    rows = sorted({(f, d) for f, d, _ in losses}, key=lambda fd: (fd[1], fd[0]))
    ours = [m for m in methods if m in STRATEGIES]
    references = [m for m in methods if m in REFERENCES]
    header = ["function", "dim", "evals", *(LABELS[m] for m in methods), "best"]
    if ours and references:
        header.append("ours >= refs")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    shortfalls = []
    for function, dimensions in rows:
        median = {m: spread[function, dimensions, m][1] for m in methods}
        cells = [function, str(dimensions), str(budgets[dimensions])]
        cells += [f"{median[m]:.3g}" for m in methods]
        cells.append(LABELS[min(methods, key=lambda m: median[m])])
        if ours and references:
            # Among medians below the solved threshold, the first listed stands for all.
            our_best = min(ours, key=lambda m: solved_or(median[m], solved))
            ref_best = min(references, key=lambda m: solved_or(median[m], solved))
            if solved_or(median[our_best], solved) <= solved_or(median[ref_best], solved):
                cells.append("yes")
            else:
                ratio = median[our_best] / median[ref_best] if median[ref_best] > 0 else math.inf
                cells.append(f"no ({ratio:.3g}x)")
                ranges = []
                for m in (our_best, ref_best):
                    q1, q2, q3 = spread[function, dimensions, m]
                    ranges.append(f"{LABELS[m]} {q2:.3g} (quartiles {q1:.3g}, {q3:.3g})")
                shortfalls.append(
                    f"{function} {dimensions}-d: our best, {ranges[0]}, vs {ranges[1]}"
                )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), shortfalls


# ----- command line -----------------------------------------------------------------------------
def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from propulate.utils.benchmark_functions import FUNCTION_NAMES

    parser.add_argument(
        "--functions", nargs="+", choices=FUNCTION_NAMES, default=list(DEFAULT_FUNCTIONS)
    )
    parser.add_argument("--dimensions", type=int, nargs="+", default=list(DEFAULT_DIMENSIONS))
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=None,
        help="evaluations per run, one per --dimensions entry or one for all (default: 400 for "
        "2-d, 1000 for 10-d, 100 per dimension otherwise); rounded down to a multiple of --ranks",
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="runs per method, seeds 0, 1, ... (default 10)"
    )
    parser.add_argument("--ranks", type=int, default=4, help="MPI ranks of our strategies")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=STRATEGIES + REFERENCES,
        default=list(STRATEGIES + REFERENCES),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: 2 seeds unless --seeds, budgets {QUICK_BUDGETS[0]} (2-d) and "
        f"{QUICK_BUDGETS[1]} (else)",
    )
    parser.add_argument(
        "--eval-delay",
        type=float,
        default=0.002,
        help="seconds every evaluation of our strategies sleeps first (default 0.002)",
    )
    parser.add_argument("--cma-adapter", choices=["basic", "active"], default="basic")
    parser.add_argument("--cma-pop-size", type=int, default=None, help="lambda of our CMA-ES")
    parser.add_argument("--jobs", type=int, default=1, help="Optuna studies run at once")
    parser.add_argument("--solved", type=float, default=1e-8, help="medians below tie as solved")
    parser.add_argument("--json", type=Path, default=None, help="write every run's result here")
    parser.add_argument(
        "--reuse",
        type=Path,
        default=None,
        help="a --json file of an earlier run: methods it holds every run of are not run again",
    )
    parser.add_argument("--mpirun", default=None, help="default: next to python, else on PATH")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per mpirun job")
    parser.add_argument("--worker", choices=STRATEGIES, help=argparse.SUPPRESS)
    parser.add_argument("--tasks", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint-root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = 2 if args.quick else 10
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: give at least 1.")
    if args.budgets is None:
        if args.quick:
            args.budgets = [QUICK_BUDGETS[0 if d <= 2 else 1] for d in args.dimensions]
        else:
            defaults = dict(zip(DEFAULT_DIMENSIONS, DEFAULT_BUDGETS, strict=True))
            args.budgets = [defaults.get(d, 100 * d) for d in args.dimensions]
    elif len(args.budgets) == 1:
        args.budgets = args.budgets * len(args.dimensions)
    if len(args.budgets) != len(args.dimensions):
        parser.error(
            f"--budgets has {len(args.budgets)} values for {len(args.dimensions)} --dimensions; "
            "give one per dimension or one for all."
        )
    if any(b < args.ranks for b in args.budgets):
        parser.error(f"--budgets {args.budgets}: every budget needs at least --ranks evaluations.")
    return args


def find_mpirun(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun") or "mpirun"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_arguments(argv)
    if args.worker:
        worker(args)
        return
    # Every method gets exactly the evaluations our ranks perform: a multiple of --ranks.
    budgets = {
        d: (b // args.ranks) * args.ranks
        for d, b in zip(args.dimensions, args.budgets, strict=True)
    }
    tasks: list[Task] = [
        (function, dimensions, budgets[dimensions], seed)
        for function in args.functions
        for dimensions in args.dimensions
        for seed in range(args.seeds)
    ]
    if any(m in REFERENCES for m in args.methods):
        try:
            import optuna  # noqa: F401
        except ImportError:
            sys.exit("the references need Optuna: pip install 'propulate[benchmark]'")
    mpirun = find_mpirun(args.mpirun)
    shown = sys.argv[1:] if argv is None else list(argv)
    print("command: python " + " ".join([os.path.relpath(__file__), *shown]))
    print(
        f"functions {' '.join(args.functions)}; evaluations per run "
        + ", ".join(f"{b} ({d}-d)" for d, b in budgets.items())
        + f"; {args.seeds} seeds; our strategies on {args.ranks} ranks",
        flush=True,
    )
    results: list[dict] = []
    earlier = json.loads(args.reuse.read_text()) if args.reuse is not None else []
    started = time.perf_counter()
    for method in args.methods:
        method_started = time.perf_counter()
        kept = {
            (r["function"], r["dimensions"], r["evaluations"], r["seed"]): r
            for r in earlier
            if r["method"] == method
        }
        if all(task in kept for task in tasks):
            results += [kept[task] for task in tasks]
            print(f"  {LABELS[method]}: {len(tasks)} runs taken from {args.reuse}", flush=True)
            continue
        if method in STRATEGIES:
            results += run_strategy(method, tasks, args, mpirun)
        else:
            results += run_references(method, tasks, args.jobs)
        seconds = time.perf_counter() - method_started
        print(f"  {LABELS[method]}: {len(tasks)} runs in {seconds:.0f} s", flush=True)
    short = [r for r in results if r["evaluations"] != budgets[r["dimensions"]]]
    if short:
        print(f"warning: {len(short)} runs evaluated another number of points: {short[:3]}")
    markdown, shortfalls = table(results, args.methods, budgets, args.solved)
    print(f"\nmedian best loss over {args.seeds} seeds (lower is better; minimum 0)\n")
    print(markdown)
    if shortfalls:
        print("\nwhere our best strategy's median is worse than the best reference's:")
        for line in shortfalls:
            print("  " + line)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
