"""Search quality: our strategies against Optuna's samplers at the same number of evaluations.

    python benchmarks/search_quality.py --jobs 2      # the continuous suite, 8 min on 2 cores
    python benchmarks/search_quality.py --suite mixed --jobs 2      # the HPO-shaped mixed suite
    python benchmarks/search_quality.py --quick --functions sphere      # a smoke run, seconds
    python benchmarks/search_quality.py --suite mixed --quick --problems mixed_sphere --methods ga
    python benchmarks/search_quality.py --methods cmaes optuna-cmaes --functions rosenbrock

Two suites. Every method gets the same budget of evaluations per run, once per seed, and the
table gives the median over the seeds of the best loss found (lower is better).

* ``--suite continuous`` (the default): benchmark functions (sphere, Rosenbrock, Rastrigin and
  Ackley on their usual domains, see :mod:`propulate.utils.benchmark_functions`) in 2 and 10
  dimensions, 400 and 1000 evaluations, 10 seeds; every function's minimum is 0.
* ``--suite mixed``: the HPO-shaped problems of ``hpo_problems.py`` (``--problems`` picks some):
  3-12 parameters mixing ints, floats, log-scaled floats and categoricals, synthetic ones
  (microseconds per evaluation) and scikit-learn models tuned by cross-validation (tens of
  milliseconds); 200 evaluations, 5 seeds (0-4) by default, ``--quick`` 40 and 2.

Our strategies run under ``mpirun -n RANKS`` (4 by default), each rank evaluating ``budget //
RANKS`` individuals; one ``mpirun`` job per strategy loops over the runs, each on a fresh
checkpoint folder in a temporary directory. They come from the registry :data:`OURS` (name ->
label and factory ``(limits, rank, size, seed, rng, args) -> Propagator``), so another strategy
is one entry:

* ``ga`` (GA): ``get_default_propagator(2 * RANKS, limits, cma_share=0)``, the genetic
  algorithm of Propulate 1.2 (its benchmark setting of the breeding pool);
* ``default``: ``get_default_propagator(2 * RANKS, limits)``, the library's default (the genetic
  algorithm and CMA-ES breeding half of the children each);
* ``pso`` (PSO): :class:`~propulate.propagators.BasicPSO`, inertia 0.729, cognitive and social
  factors 1.49445 (the tutorial's defaults; one particle per rank);
* ``cmaes`` (CMA-ES): :class:`~propulate.propagators.CMAPropagator` with :class:`BasicCMA` and
  the default population size ``4 + floor(3 ln n)``, on any mixed space;
* ``nm`` (NM): :class:`~propulate.propagators.ParallelNelderMead` from a random start (the same
  on every rank, drawn from the seed) with initial edges of 0.25 of each range (the tutorial's);
* ``tpe`` (TPE): ``propulate.propagators.TPE(limits, rng=rng)``, skipped with a message where
  this version of Propulate has no such class;
* ``hybrid`` (TPE+CMA-ES): ``propulate.propagators.get_hybrid_propagator(limits, rng=rng)``.

A strategy that rejects a search space (PSO and NM search float ranges only and raise
:class:`propulate.ConfigurationError` on ints and categoricals) is recorded as not applicable
for that problem, shown as ``n/a`` and left out of that problem's comparison.

The benchmark functions cost microseconds. Real loss functions take far longer than a message
between ranks, so every rank sees the others' results one by one; here, with 4 ranks on fewer
cores, a descheduled rank would instead find dozens of them at once when it runs again, and a
rank can evaluate its whole share before another one has started. So every evaluation of our
strategies first sleeps ``--eval-delay`` (2 ms by default; the sleep uses no CPU and gives the
ranks no information), which lets them interleave as ranks on cores of their own do.
``--eval-delay 0`` measures the bursty case.

The references run single-process, each trial seeing every earlier result, one Optuna study per
run seeded with the run's seed, with Optuna's defaults (:data:`REFERENCES`): ``tpe-optuna``
(Optuna TPE, ``TPESampler``; in Optuna 5 multivariate, with the constant liar),
``optuna-cmaes`` (Optuna CMA-ES, ``CmaEsSampler``, which needs the ``cmaes`` package; CMA over
ints and floats, its independent random sampler for categoricals), ``optuna-gp`` (Optuna GP,
``GPSampler``, which needs torch and scipy; skipped with a message without them) and ``random``
(``RandomSampler``); ``--jobs`` runs several studies at once. Install them with ``pip install
propulate[benchmark]``. JSON files written before ``tpe`` named our TPE (a plain list of runs)
call Optuna's TPE ``tpe``: ``--reuse`` reads those runs as ``tpe-optuna``.

Continuous suite: the ``best`` column names the method with the lowest median; ``ours >= refs``
says whether our best strategy's median is at least as good as the best reference's. Medians
below ``--solved`` (1e-8, the usual target precision of optimizer benchmarks) count as solved
and tie with each other: at that point the difference is the rounding noise of the function, not
search quality.

Summary (both suites; rows are problems, or function x dimension): every method's **mean
normalized regret**. Per row, ``best_all`` is the lowest loss any run of any method reached and
``random`` the median of random search; a method's regret is ``(median - best_all) / (random -
best_all)`` (0 where the denominator is 0): 0 is the best anyone found, 1 is random search's
median, above 1 is worse than random search. Where random search comes within a hair of the best
loss, the denominator is tiny and one problem can dominate the mean: the median over the rows is
printed beside it. Then the wins, ties and losses of each of our methods against each
reference on the per-row medians (a tie where ``|a - b| <= 1e-9 max(1, |a|, |b|)``, after the
solved threshold in the continuous suite), and on how many rows each of our methods beats
Optuna TPE's median.

``--json FILE`` writes every run (method, problem or function and dimensions, evaluations, seed,
best loss, seconds; our strategies also ranks and evaluation delay) with each row's quartiles
and the summary. ``--reuse FILE ...`` takes the runs these files already hold (the references
are deterministic for a seed; our strategies' runs count when ranks and delay match) and runs
only the missing ones.

The continuous suite, measured on 2 cores: 491 s in all (our four strategies 165 s, TPE 294 s
with ``--jobs 2``); 24 min with the cores shared with other jobs. TPE dominates its run time:
a 1000-trial 10-d study takes about 35 s of CPU, and its cost grows with the square of the
trials.

The numbers quoted in the documentation (``docs/benchmarks.rst``, with their commands) were
measured on 2 cores shared with other jobs; every run is in ``benchmarks/results/mixed.json``
and ``benchmarks/results/continuous.json``, which ``--reuse ... --reuse-only`` tabulates again.
Wall times: our five strategies on the mixed suite 45 min for seeds 0-4 (load 9-10), a reference
on seeds 5-9 25-35 min with ``--jobs 2``. The mixed suite's references for seeds 0-4 came from
an earlier measurement, with the repository on ``PYTHONPATH``::

    S="python benchmarks/search_quality.py --suite mixed"
    $S --seeds 1 --methods tpe-optuna optuna-cmaes random --json seed0.json
    $S --methods tpe-optuna --first-seed 1 --seeds 4 --jobs 2 --json tpe.json     # 3242 s
    $S --methods random --first-seed 1 --seeds 4 --jobs 2 --json random.json      # 1517 s
    $S --methods optuna-cmaes --first-seed 1 --seeds 4 --jobs 2 --json cmaes.json # 1621 s
    PYTHONPATH=.:GREENLET $S --problems sk_svc_wine --methods optuna-gp --jobs 2 \
        --seeds 5 --json gp.json

Optuna GP ran on ``sk_svc_wine`` only. One of its 200-trial studies took 847-1813 s here on that
5-parameter problem, and one on the 10-parameter ``mixed_rastrigin`` had not finished after 12
minutes: the 130 studies of the suite would take more than a day with ``--jobs 2`` at this load
(hours on idle cores). GREENLET is a folder holding the ``greenlet`` package (``pip install
--target``, not part of the project's environment), with which GPSampler optimizes its
acquisition function from its starting points at once instead of one after another.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUITES = ("continuous", "mixed")
DEFAULT_FUNCTIONS = ("sphere", "rosenbrock", "rastrigin", "ackley")
DEFAULT_DIMENSIONS = (2, 10)
DEFAULT_BUDGETS = (400, 1000)
QUICK_BUDGETS = (40, 80)
MIXED_BUDGET, MIXED_QUICK_BUDGET = 200, 40
MIXED_SEEDS = 5
#: Rank r of seed s uses random.Random(SEED_STRIDE * s + r): no two runs share a stream.
SEED_STRIDE = 1000
PSO_COEFFICIENTS = (0.729, 1.49445, 1.49445)  # inertia, cognitive, social
NM_SCALE = 0.25
TIE = 1e-9  # medians within this relative difference tie
FORMAT_VERSION = 2

#: A run: (function, dimensions, evaluations, seed) or, in the mixed suite, (problem, evaluations,
#: seed).
Task = tuple[Any, ...]


# ----- the methods ------------------------------------------------------------------------------
def _usable() -> str | None:
    return None


@dataclass(frozen=True)
class Method:
    """One method of the comparison.

    Attributes
    ----------
    label : str
        Its name in the tables.
    make : Callable
        Ours: ``(limits, rank, size, seed, rng, args) -> Propagator``; references: ``(seed) ->
        optuna sampler``.
    requires : Callable[[], str | None]
        ``None`` if the method can run here, else why not (a missing class or package).
    """

    label: str
    make: Callable[..., Any]
    requires: Callable[[], str | None] = _usable


def _importable(module: str, *names: str) -> Callable[[], str | None]:
    """A ``requires`` check: ``module`` imports and has every one of ``names``."""

    def check() -> str | None:
        try:
            imported = importlib.import_module(module)
        except ImportError as error:
            return f"cannot import {module}: {error}"
        missing = [n for n in names if not hasattr(imported, n)]
        return f"{module} has no {', '.join(missing)}" if missing else None

    return check


def _all_of(*checks: Callable[[], str | None]) -> Callable[[], str | None]:
    def check() -> str | None:
        return next((reason for reason in (c() for c in checks) if reason), None)

    return check


def _ga(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    from propulate.utils import get_default_propagator

    try:  # Propulate 1.2's genetic algorithm, without CMA-ES children
        return get_default_propagator(2 * size, limits, rng=rng, cma_share=0.0)
    except TypeError:  # a version before cma_share: its default is the genetic algorithm
        return get_default_propagator(2 * size, limits, rng=rng)


def _default(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    from propulate.utils import get_default_propagator

    return get_default_propagator(2 * size, limits, rng=rng)


def _pso(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    from propulate.propagators import BasicPSO

    return BasicPSO(*PSO_COEFFICIENTS, rank, limits, rng)


def _cmaes(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    from propulate.propagators import ActiveCMA, BasicCMA, CMAPropagator

    adapter = ActiveCMA() if args.cma_adapter == "active" else BasicCMA()
    return CMAPropagator(adapter, limits, pop_size=args.cma_pop_size, rng=rng)


def _nm(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    import random

    import numpy as np

    from propulate import SearchSpace
    from propulate.propagators import ParallelNelderMead

    # The same start on every rank: they all work on one simplex.
    sampled = SearchSpace(limits).sample(random.Random(seed))
    start = np.array([sampled[name] for name in limits])
    return ParallelNelderMead(limits, rng, start, scale=NM_SCALE)


def _tpe(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    from propulate.propagators import TPE  # type: ignore[attr-defined]  # not in every version

    return TPE(limits, rng=rng)


def _hybrid(limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any) -> Any:
    from propulate.propagators import get_hybrid_propagator  # type: ignore[attr-defined]

    return get_hybrid_propagator(limits, rng=rng)


def _tpe_sampler(seed: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _cmaes_sampler(seed: int) -> Any:
    import optuna

    # Categoricals go to its independent (random) sampler; the warning would say so every trial.
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def _gp_sampler(seed: int) -> Any:
    import optuna

    return optuna.samplers.GPSampler(seed=seed)


def _random_sampler(seed: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


#: Our strategies, run under mpirun. Add one here (and nowhere else) to compare it.
OURS: dict[str, Method] = {
    "ga": Method("GA", _ga),
    "default": Method("default", _default),
    "pso": Method("PSO", _pso),
    "cmaes": Method("CMA-ES", _cmaes),
    "nm": Method("NM", _nm),
    "tpe": Method("TPE", _tpe, _importable("propulate.propagators", "TPE")),
    "hybrid": Method(
        "TPE+CMA-ES", _hybrid, _importable("propulate.propagators", "get_hybrid_propagator")
    ),
}
#: The references: Optuna samplers, single process.
REFERENCES: dict[str, Method] = {
    "tpe-optuna": Method("Optuna TPE", _tpe_sampler, _importable("optuna")),
    "optuna-cmaes": Method("Optuna CMA-ES", _cmaes_sampler, _importable("cmaes")),
    "optuna-gp": Method(
        "Optuna GP",
        _gp_sampler,
        _all_of(
            _importable("optuna.samplers", "GPSampler"), _importable("torch"), _importable("scipy")
        ),
    ),
    "random": Method("random", _random_sampler, _importable("optuna")),
}
STRATEGIES = tuple(OURS)
REFERENCE_NAMES = tuple(REFERENCES)
LABELS = {name: method.label for name, method in {**OURS, **REFERENCES}.items()}
#: Names in JSON files of format 1 (a plain list of runs) that now mean another method.
LEGACY_NAMES = {"tpe": "tpe-optuna"}


def make_propagator(
    strategy: str, limits: dict, rank: int, size: int, seed: int, rng: Any, args: Any
) -> Any:
    """The propagator of ``strategy`` for rank ``rank`` of ``size``, set up as documented above."""
    if strategy not in OURS:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}.")
    return OURS[strategy].make(limits, rank, size, seed, rng, args)


# ----- the suites -------------------------------------------------------------------------------
def hpo_problems() -> Any:
    """The module ``hpo_problems`` beside this script (imported on first use)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module("hpo_problems")


def task_fields(suite: str, task: Task) -> dict[str, Any]:
    """The fields of a result record that name its run."""
    if suite == "continuous":
        function, dimensions, evaluations, seed = task
        return {
            "function": function,
            "dimensions": dimensions,
            "evaluations": evaluations,
            "seed": seed,
        }
    problem, evaluations, seed = task
    return {"problem": problem, "evaluations": evaluations, "seed": seed}


def task_of(suite: str, record: dict) -> Task | None:
    """The run a result record belongs to, or None if it is another suite's."""
    if suite == "continuous":
        if "function" not in record:
            return None
        return (record["function"], record["dimensions"], record["evaluations"], record["seed"])
    if "problem" not in record:
        return None
    return (record["problem"], record["evaluations"], record["seed"])


def row_of(suite: str, record: dict) -> tuple[Any, ...]:
    """The table row of a result record: (function, dimensions) or (problem,)."""
    if suite == "continuous":
        return (record["function"], record["dimensions"])
    return (record["problem"],)


def row_label(suite: str, row: tuple[Any, ...]) -> str:
    return f"{row[0]} {row[1]}-d" if suite == "continuous" else str(row[0])


def objective_of(suite: str, task: Task) -> tuple[Callable[[Any], float], dict]:
    """The loss function and limits of a run's problem."""
    if suite == "continuous":
        from propulate.utils.benchmark_functions import get_function_search_space

        return get_function_search_space(task[0], task[1])
    problem = hpo_problems().PROBLEMS[task[0]]
    return problem.loss, problem.limits


# ----- our strategies: one rank of an mpirun job ------------------------------------------------
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

    from propulate import ConfigurationError, Propulator

    logging.getLogger("propulate").setLevel(logging.WARNING)
    comm = MPI.COMM_WORLD
    strategy, root = args.worker, args.checkpoint_root
    tasks = [tuple(task) for task in json.loads(args.tasks)]
    for task in tasks:
        fields = task_fields(args.suite, task)
        record = {"method": strategy, **fields, "ranks": comm.size, "eval_delay": args.eval_delay}
        loss_fn, limits = objective_of(args.suite, task)
        loss_fn = delayed(loss_fn, args.eval_delay)
        seed = fields["seed"]
        rng = random.Random(SEED_STRIDE * seed + comm.rank)
        try:
            propagator = make_propagator(strategy, limits, comm.rank, comm.size, seed, rng, args)
        except ConfigurationError as error:
            # Every rank rejects the same search space: no rank waits for another.
            if comm.rank == 0:
                result = {**record, "best": None, "seconds": 0.0, "not_applicable": str(error)}
                print("RESULT " + json.dumps(result), flush=True)
            continue
        checkpoint = root / "-".join([strategy, *(str(part) for part in task)])
        comm.Barrier()
        started = time.perf_counter()
        propulator = Propulator(
            loss_fn,
            propagator,
            rng,
            island_comm=comm,
            generations=fields["evaluations"] // comm.size,
            checkpoint_path=checkpoint,
        )
        propulator.propulate(logging_interval=0, debug=0)
        best = min(b[0].loss for b in propulator.summarize_islands(top_n=1, debug=0) if b)
        seconds = time.perf_counter() - started
        comm.Barrier()  # every rank is done with the folder
        if comm.rank == 0:
            shutil.rmtree(checkpoint, ignore_errors=True)
            record["evaluations"] = len(propulator.population)
            result = {**record, "best": best, "seconds": seconds}
            print("RESULT " + json.dumps(result), flush=True)


def _progress(label: str, total: int) -> Callable[[int], None]:
    """Prints ``label: done/total`` at every tenth of a long list of runs."""
    started = time.perf_counter()
    step = max(total // 10, 1)

    def report(done: int) -> None:
        if total >= 20 and done % step == 0 and done < total:
            seconds = time.perf_counter() - started
            print(f"    {label}: {done}/{total} runs, {seconds:.0f} s", flush=True)

    return report


def run_strategy(
    strategy: str, tasks: Sequence[Task], args: argparse.Namespace, mpirun: str
) -> list[dict]:
    """Launch one mpirun job that runs ``strategy`` on every task; return its results."""
    root = Path(tempfile.mkdtemp(prefix=f"propulate-quality-{strategy}-"))
    command = [mpirun, "-n", str(args.ranks), sys.executable, "-m", "mpi4py"]
    command += [os.path.abspath(__file__), "--worker", strategy, "--checkpoint-root", str(root)]
    command += ["--suite", args.suite]
    command += ["--eval-delay", str(args.eval_delay), "--cma-adapter", args.cma_adapter]
    if args.cma_pop_size is not None:
        command += ["--cma-pop-size", str(args.cma_pop_size)]
    command += ["--tasks", json.dumps([list(task) for task in tasks])]
    report = _progress(LABELS[strategy], len(tasks))
    results: list[dict] = []
    lines: list[str] = []
    # stderr to a file: reading stdout line by line while a full stderr pipe blocks would hang.
    with tempfile.TemporaryFile("w+") as errors:
        # A session of its own, so a timeout can stop mpirun and every rank it started.
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, start_new_session=True
        )
        timer = threading.Timer(args.timeout, os.killpg, (process.pid, signal.SIGKILL))
        timer.start()
        try:
            for line in process.stdout or ():
                lines.append(line)
                if line.startswith("RESULT "):
                    results.append(json.loads(line[len("RESULT ") :]))
                    report(len(results))
            process.wait()
        finally:
            timed_out = not timer.is_alive() and process.returncode != 0
            timer.cancel()
            shutil.rmtree(root, ignore_errors=True)
        errors.seek(0)
        stderr = errors.read()
    stdout = "".join(lines)
    if timed_out:
        sys.exit(f"{strategy}: mpirun ran past --timeout={args.timeout} s:\n{stderr[-2000:]}")
    if process.returncode != 0 or len(results) != len(tasks):
        sys.exit(
            f"{strategy}: mpirun exited with {process.returncode} after {len(results)} of "
            f"{len(tasks)} runs:\n{stdout[-2000:]}\n{stderr[-3000:]}"
        )
    return results


# ----- the references: Optuna, single process ---------------------------------------------------
def run_reference(method: str, task: Task, suite: str = "continuous") -> dict:
    """One Optuna study of ``task``'s problem with ``method``'s sampler."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if method not in REFERENCES:
        raise ValueError(f"unknown reference {method!r}; choose one of {REFERENCE_NAMES}.")
    fields = task_fields(suite, task)
    sampler = REFERENCES[method].make(fields["seed"])
    loss_fn, limits = objective_of(suite, task)

    if suite == "continuous":

        def objective(trial: optuna.Trial) -> float:
            # Insertion order is the order of the limits, which the benchmark functions read.
            return loss_fn(
                {name: trial.suggest_float(name, low, high) for name, (low, high) in limits.items()}
            )

    else:
        suggest = hpo_problems().suggest

        def objective(trial: optuna.Trial) -> float:
            return loss_fn(suggest(trial, limits))

    study = optuna.create_study(direction="minimize", sampler=sampler)
    started = time.perf_counter()
    study.optimize(objective, n_trials=fields["evaluations"])
    return {
        "method": method,
        **fields,
        "evaluations": len(study.trials),
        "best": study.best_value,
        "seconds": time.perf_counter() - started,
    }


def run_references(
    method: str, tasks: Sequence[Task], jobs: int, suite: str = "continuous"
) -> list[dict]:
    """Every task with ``method``, in ``jobs`` processes."""
    report = _progress(LABELS[method], len(tasks))
    results: list[dict] = []
    if jobs <= 1:
        for task in tasks:
            results.append(run_reference(method, task, suite))
            report(len(results))
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        n = len(tasks)
        for result in pool.map(run_reference, [method] * n, tasks, [suite] * n):
            results.append(result)
            report(len(results))
    return results


# ----- statistics -------------------------------------------------------------------------------
def solved_or(value: float, solved: float) -> float:
    """``value``, or 0 if it is below the ``solved`` threshold."""
    return 0.0 if value < solved else value


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """The first quartile, median and third quartile of ``values``."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def applicable(record: dict) -> bool:
    """Whether a run has a loss (not a method that rejected the search space)."""
    return record.get("best") is not None


def losses_by_row(
    results: Iterable[dict], suite: str
) -> dict[tuple[Any, ...], dict[str, list[float]]]:
    """Every run's best loss by row and method, leaving out runs that were not applicable."""
    losses: dict[tuple[Any, ...], dict[str, list[float]]] = {}
    for r in results:
        if applicable(r):
            losses.setdefault(row_of(suite, r), {}).setdefault(r["method"], []).append(r["best"])
    return losses


def compare(a: float, b: float) -> int:
    """-1 if ``a`` is lower than ``b`` (a win, losses being minimized), 0 for a tie, else 1."""
    if abs(a - b) <= TIE * max(1.0, abs(a), abs(b)):
        return 0
    return -1 if a < b else 1


@dataclass
class Summary:
    """Mean normalized regrets and win/tie/loss counts over the rows of a table.

    Attributes
    ----------
    regret : dict
        Method -> (mean normalized regret, number of rows it was measured on, median regret).
    record : dict
        (our method, reference) -> [wins, ties, losses] on the per-row medians.
    rows : int
        Rows with a random-search median (the ones regrets are measured on).
    """

    regret: dict[str, tuple[float, int, float]]
    record: dict[tuple[str, str], list[int]]
    rows: int


def summarize(
    losses: dict[tuple[Any, ...], dict[str, list[float]]],
    methods: Sequence[str],
    solved: float | None = None,
) -> Summary:
    """The regrets and win/tie/loss counts of ``methods`` (see the module documentation).

    ``solved``, if given, counts medians below it as 0 in the win/tie/loss comparison.
    """
    ours = [m for m in methods if m in OURS]
    references = [m for m in methods if m in REFERENCES]
    regrets: dict[str, list[float]] = {m: [] for m in methods}
    record = {(o, r): [0, 0, 0] for o in ours for r in references}
    rows = 0
    for by_method in losses.values():
        medians = {m: statistics.median(v) for m, v in by_method.items() if m in methods}
        if "random" in medians:
            rows += 1
            best_all = min(min(v) for m, v in by_method.items() if m in methods)
            scale = medians["random"] - best_all
            for m, median in medians.items():
                regrets[m].append(0.0 if scale == 0 else (median - best_all) / scale)
        for (o, r), counts in record.items():
            if o in medians and r in medians:
                a, b = medians[o], medians[r]
                if solved is not None:
                    a, b = solved_or(a, solved), solved_or(b, solved)
                counts[compare(a, b) + 1] += 1
    regret = {
        m: (statistics.fmean(v), len(v), statistics.median(v)) for m, v in regrets.items() if v
    }
    return Summary(regret, record, rows)


def format_summary(summary: Summary, methods: Sequence[str], what: str) -> str:
    """The summary as printed after the table; ``what`` names the rows ("problems")."""
    lines = []
    if summary.rows:
        lines.append(
            f"mean normalized regret over {summary.rows} {what} (0: the best loss any run "
            "reached; 1: random search's median; > 1: worse than random search)"
        )
        width = max(len(LABELS[m]) for m in methods)
        for m in methods:
            if m in summary.regret:
                value, count, median = summary.regret[m]
                lines.append(
                    f"  {LABELS[m]:{width}s}  {value:7.3f}  ({count} {what}; median {median:.3f})"
                )
            else:
                lines.append(f"  {LABELS[m]:{width}s}      n/a")
    else:
        lines.append("no normalized regret: random search is not among the methods")
    ours = list(dict.fromkeys(o for o, _ in summary.record))
    references = list(dict.fromkeys(r for _, r in summary.record))
    if ours and references:
        lines.append(
            f"\nwins/ties/losses of our methods against each reference (per-{what[:-1]} medians)\n"
        )
        header = ["ours", *(LABELS[r] for r in references)]
        if "tpe-optuna" in references:
            header.append("beats Optuna TPE")
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for o in ours:
            cells = [LABELS[o]]
            for r in references:
                w, t, lost = summary.record[o, r]
                cells.append(f"{w}/{t}/{lost}" if w + t + lost else "n/a")
            if "tpe-optuna" in references:
                w, t, lost = summary.record[o, "tpe-optuna"]
                cells.append(f"{w} of {w + t + lost}" if w + t + lost else "n/a")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----- the tables -------------------------------------------------------------------------------
def table(
    results: Sequence[dict], methods: Sequence[str], budgets: dict[int, int], solved: float
) -> tuple[str, list[str]]:
    """The continuous suite's table of median best losses, and a line per row our methods lose."""
    spread = {
        (f, d, m): quartiles(values)
        for (f, d), by_method in losses_by_row(results, "continuous").items()
        for m, values in by_method.items()
    }
    rows = sorted({(f, d) for f, d, _ in spread}, key=lambda fd: (fd[1], fd[0]))
    ours = [m for m in methods if m in OURS]
    references = [m for m in methods if m in REFERENCES]
    header = ["function", "dim", "evals", *(LABELS[m] for m in methods), "best"]
    if ours and references:
        header.append("ours >= refs")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    shortfalls = []
    for function, dimensions in rows:
        median = {
            m: spread[function, dimensions, m][1]
            for m in methods
            if (function, dimensions, m) in spread
        }
        cells = [function, str(dimensions), str(budgets[dimensions])]
        cells += [f"{median[m]:.3g}" if m in median else "n/a" for m in methods]
        cells.append(LABELS[min(median, key=lambda m: median[m])])
        if ours and references:
            # Among medians below the solved threshold, the first listed stands for all.
            ours_here = [m for m in ours if m in median]
            refs_here = [m for m in references if m in median]
            if not ours_here or not refs_here:
                cells.append("n/a")
                lines.append("| " + " | ".join(cells) + " |")
                continue
            our_best = min(ours_here, key=lambda m: solved_or(median[m], solved))
            ref_best = min(refs_here, key=lambda m: solved_or(median[m], solved))
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


def mixed_table(results: Sequence[dict], methods: Sequence[str], problems: Sequence[str]) -> str:
    """The mixed suite's table: per problem, every method's median best loss.

    ``n/a`` marks a method that rejected the problem's search space; ``best`` names the method
    with the lowest median (the first listed among ties).
    """
    losses = losses_by_row(results, "mixed")
    rejected = {(r["problem"], r["method"]) for r in results if not applicable(r)}
    hpo = hpo_problems()
    header = ["problem", "dim", *(LABELS[m] for m in methods), "best"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for problem in problems:
        by_method = losses.get((problem,), {})
        median = {m: statistics.median(by_method[m]) for m in methods if m in by_method}
        cells = [problem, str(len(hpo.PROBLEMS[problem].limits))]
        for m in methods:
            if m in median:
                cells.append(f"{median[m]:.4g}")
            else:
                cells.append("n/a" if (problem, m) in rejected else "-")
        if median:
            lowest = min(median.values())
            cells.append(
                next(LABELS[m] for m in methods if m in median and compare(median[m], lowest) == 0)
            )
        else:
            cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def statistics_json(
    results: Sequence[dict], suite: str
) -> dict[str, dict[str, dict[str, float | int]]]:
    """Per row and method: quartiles of the best loss and the number of runs."""
    stats: dict[str, dict[str, dict[str, float | int]]] = {}
    for row, by_method in losses_by_row(results, suite).items():
        stats[row_label(suite, row)] = {
            m: dict(zip(("q1", "median", "q3"), quartiles(v), strict=True), runs=len(v))
            for m, v in by_method.items()
        }
    return stats


def load_runs(paths: Sequence[Path] | None) -> list[dict]:
    """The runs of earlier ``--json`` files; format 1 (a plain list) renamed to today's names."""
    runs: list[dict] = []
    for path in paths or ():
        data = json.loads(Path(path).read_text())
        if isinstance(data, list):
            runs += [{**r, "method": LEGACY_NAMES.get(r["method"], r["method"])} for r in data]
        else:
            runs += data["runs"]
    return runs


# ----- command line -----------------------------------------------------------------------------
def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    from propulate.utils.benchmark_functions import FUNCTION_NAMES

    parser.add_argument("--suite", choices=SUITES, default="continuous")
    parser.add_argument(
        "--functions", nargs="+", choices=FUNCTION_NAMES, default=list(DEFAULT_FUNCTIONS)
    )
    parser.add_argument("--dimensions", type=int, nargs="+", default=list(DEFAULT_DIMENSIONS))
    parser.add_argument(
        "--problems",
        nargs="+",
        metavar="NAME",
        default=None,
        help="mixed suite: the problems of hpo_problems.py to run (default: all)",
    )
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=None,
        help="evaluations per run, one per --dimensions entry or one for all (default: 400 for "
        "2-d, 1000 for 10-d, 100 per dimension otherwise; mixed suite: 200); rounded down to a "
        "multiple of --ranks",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="runs per method, seeds 0, 1, ... (default 10; mixed suite 5)",
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds FIRST, FIRST + 1, ... (default 0)"
    )
    parser.add_argument("--ranks", type=int, default=4, help="MPI ranks of our strategies")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=STRATEGIES + REFERENCE_NAMES,
        default=None,
        help="default: all (the continuous suite: all but optuna-gp, whose 1000-trial studies "
        "would take hours)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: 2 seeds unless --seeds, budgets {QUICK_BUDGETS[0]} (2-d) and "
        f"{QUICK_BUDGETS[1]} (else); mixed suite {MIXED_QUICK_BUDGET}",
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
        nargs="+",
        default=None,
        help="--json files of earlier runs: the runs they hold are not run again",
    )
    parser.add_argument(
        "--reuse-only",
        action="store_true",
        help="run nothing: tabulate the --reuse runs, leaving the missing ones out",
    )
    parser.add_argument("--mpirun", default=None, help="default: next to python, else on PATH")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per mpirun job (default 3600; mixed suite 14400)",
    )
    parser.add_argument("--worker", choices=STRATEGIES, help=argparse.SUPPRESS)
    parser.add_argument("--tasks", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint-root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.timeout is None:
        args.timeout = 14400.0 if args.suite == "mixed" else 3600.0
    if args.methods is None:
        args.methods = [
            m for m in STRATEGIES + REFERENCE_NAMES if args.suite == "mixed" or m != "optuna-gp"
        ]
    if args.suite == "mixed":
        _mixed_arguments(parser, args)
    else:
        _continuous_arguments(parser, args)
    if args.seeds < 1:
        parser.error(f"--seeds {args.seeds}: give at least 1.")
    if any(b < args.ranks for b in args.budgets):
        parser.error(f"--budgets {args.budgets}: every budget needs at least --ranks evaluations.")
    return args


def _continuous_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.problems is not None:
        parser.error("--problems is for --suite mixed; the continuous suite takes --functions.")
    if args.seeds is None:
        args.seeds = 2 if args.quick else 10
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


def _mixed_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    known = hpo_problems().PROBLEMS
    if args.problems is None:
        args.problems = list(known)
    unknown = [p for p in args.problems if p not in known]
    if unknown:
        parser.error(
            f"--problems {' '.join(unknown)}: not in hpo_problems.py; choose from "
            f"{', '.join(known)}."
        )
    if args.seeds is None:
        args.seeds = 2 if args.quick else MIXED_SEEDS
    if args.budgets is None:
        args.budgets = [MIXED_QUICK_BUDGET if args.quick else MIXED_BUDGET]
    if len(args.budgets) != 1:
        parser.error(
            f"--budgets {args.budgets}: the mixed suite takes one budget for all problems."
        )


def find_mpirun(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun") or "mpirun"


def _tasks(args: argparse.Namespace) -> tuple[list[Task], dict[int, int]]:
    """Every run of the suite, and the continuous suite's budget per dimension."""
    # Every method gets exactly the evaluations our ranks perform: a multiple of --ranks.
    if args.suite == "mixed":
        evaluations = (args.budgets[0] // args.ranks) * args.ranks
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        tasks = [(p, evaluations, s) for p in args.problems for s in seeds]
        return tasks, {}
    budgets = {
        d: (b // args.ranks) * args.ranks
        for d, b in zip(args.dimensions, args.budgets, strict=True)
    }
    tasks = [
        (function, dimensions, budgets[dimensions], seed)
        for function in args.functions
        for dimensions in args.dimensions
        for seed in range(args.first_seed, args.first_seed + args.seeds)
    ]
    return tasks, budgets


def _reusable(record: dict, args: argparse.Namespace) -> bool:
    """Whether an earlier run of ours was made under the settings of this one."""
    if record["method"] not in OURS:
        return True
    # Runs written before these fields existed used the defaults.
    return (
        record.get("ranks", 4) == args.ranks and record.get("eval_delay", 0.002) == args.eval_delay
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_arguments(argv)
    if args.worker:
        worker(args)
        return
    tasks, budgets = _tasks(args)
    shown = sys.argv[1:] if argv is None else list(argv)
    command = "python " + " ".join([os.path.relpath(__file__), *shown])
    print("command: " + command)
    methods = []
    for method in args.methods:
        reason = {**OURS, **REFERENCES}[method].requires()
        if reason is None:
            methods.append(method)
        else:
            print(f"  {LABELS[method]} ({method}): unavailable, skipped: {reason}")
    if not methods:
        sys.exit("none of the methods asked for can run here (see above)")
    if any(m in REFERENCES for m in methods):
        try:
            import optuna  # noqa: F401
        except ImportError:
            sys.exit("the references need Optuna: pip install 'propulate[benchmark]'")
    mpirun = find_mpirun(args.mpirun)
    if args.suite == "mixed":
        described = f"{len(args.problems)} problems; {tasks[0][1]} evaluations per run"
    else:
        described = f"functions {' '.join(args.functions)}; evaluations per run " + ", ".join(
            f"{b} ({d}-d)" for d, b in budgets.items()
        )
    print(f"{described}; {args.seeds} seeds; our strategies on {args.ranks} ranks", flush=True)
    results: list[dict] = []
    earlier = load_runs(args.reuse)
    reused_from = ", ".join(str(p) for p in args.reuse or ())
    started = time.perf_counter()
    for method in methods:
        method_started = time.perf_counter()
        kept: dict[Task, dict] = {}
        for r in earlier:
            task = task_of(args.suite, r)
            if r["method"] == method and task is not None and _reusable(r, args):
                kept[task] = r
        results += [kept[task] for task in tasks if task in kept]
        missing = [task for task in tasks if task not in kept]
        if not missing:
            print(f"  {LABELS[method]}: {len(tasks)} runs taken from {reused_from}", flush=True)
            continue
        if args.reuse_only:
            print(
                f"  {LABELS[method]}: {len(tasks) - len(missing)} runs taken from "
                f"{reused_from or 'nowhere'}, {len(missing)} missing left out (--reuse-only)",
                flush=True,
            )
            continue
        if method in OURS:
            results += run_strategy(method, missing, args, mpirun)
        else:
            results += run_references(method, missing, args.jobs, args.suite)
        seconds = time.perf_counter() - method_started
        taken = f" ({len(tasks) - len(missing)} more taken from {reused_from})" if kept else ""
        print(f"  {LABELS[method]}: {len(missing)} runs in {seconds:.0f} s{taken}", flush=True)
    short = [
        r
        for r in results
        if applicable(r)
        and r["evaluations"] != (tasks[0][1] if args.suite == "mixed" else budgets[r["dimensions"]])
    ]
    if short:
        print(f"warning: {len(short)} runs evaluated another number of points: {short[:3]}")
    if args.suite == "mixed":
        print(f"\nmedian best loss over {args.seeds} seeds (lower is better)\n")
        print(mixed_table(results, methods, args.problems))
        what, solved = "problems", None
    else:
        markdown, shortfalls = table(results, methods, budgets, args.solved)
        print(f"\nmedian best loss over {args.seeds} seeds (lower is better; minimum 0)\n")
        print(markdown)
        if shortfalls:
            print("\nwhere our best strategy's median is worse than the best reference's:")
            for line in shortfalls:
                print("  " + line)
        what, solved = "rows", args.solved
    summary = summarize(losses_by_row(results, args.suite), methods, solved)
    print("\n" + format_summary(summary, methods, what))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json is not None:
        document = {
            "format_version": FORMAT_VERSION,
            "suite": args.suite,
            "command": command,
            "runs": results,
            "statistics": statistics_json(results, args.suite),
            "regret": {
                m: {"mean": v, "rows": n, "median": median}
                for m, (v, n, median) in summary.regret.items()
            },
            "wins_ties_losses": {f"{o} vs {r}": c for (o, r), c in summary.record.items()},
        }
        args.json.write_text(json.dumps(document, indent=1))


if __name__ == "__main__":
    main()
