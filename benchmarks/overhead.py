"""Pure optimizer overhead: a 10-d sphere (microseconds per call) with the default propagator.

Driver (default): runs every configuration under ``mpirun`` and prints a table::

    python benchmarks/overhead.py                      # 1, 2, 4 ranks x 250, 1000, 2500 generations
    python benchmarks/overhead.py --reference-python /path/to/venv-with-propulate-1.2.2/bin/python

Each run reports evaluations per second (all ranks' evaluations / wall time of the slowest rank),
the median wall-clock time per evaluation in the first and the last 10 % of each rank's run, the
mean CPU time per evaluation of the rank in the same windows (steady where descheduling moves
the wall clock: more ranks than cores), both averaged over ranks, and the checkpoint bytes per
evaluated individual (all files of the folder). With ``--reference-python`` the same worker runs
on Propulate 1.2.2 (installed in that interpreter's environment) for a side-by-side comparison.
With ``--floor`` the bare loop of ``_floor.py`` (what every asynchronous island loop must do per
evaluation and nothing more) runs too: the most this machine allows, against which both compare.
With ``--calls`` each configuration runs once more under ``cProfile`` to count the Python function
calls per evaluation, a measure of the loop's work that the machine's load does not move.
Under Open MPI with more ranks than cores: ``--mpirun "mpirun --oversubscribe"``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _launch import launch, result_line

DIMENSIONS = 10
BOUNDS = (-5.12, 5.12)


def worker(generations: int, checkpoint: str, floor: bool = False, calls: bool = False) -> None:
    """One rank's run (under mpirun); rank 0 prints a JSON line with the measurements.

    With ``floor`` the rank runs the bare loop of ``_floor.py`` instead of Propulate's; with
    ``calls`` the run is profiled (``cProfile``) to count Python function calls per evaluation,
    which slows it: its timings are not the loop's.
    """
    import logging
    import random

    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    names = [f"x{i}" for i in range(DIMENSIONS)]
    stamps: list[float] = []
    cpu_stamps: list[float] = []

    def stamp() -> None:
        stamps.append(time.perf_counter())
        cpu_stamps.append(time.thread_time())

    if floor:
        from _floor import run_floor

        def sphere_list(values: list[float]) -> float:
            stamp()
            return sum(x * x for x in values)

        def run() -> int:
            return run_floor(sphere_list, DIMENSIONS, BOUNDS, generations, checkpoint)

    else:
        from propulate import Propulator
        from propulate.utils import get_default_propagator

        logging.getLogger("propulate").setLevel(logging.WARNING)
        limits = dict.fromkeys(names, BOUNDS)

        def sphere(params: Any) -> float:
            stamp()
            return sum(params[k] ** 2 for k in names)

        rng = random.Random(comm.rank)
        propagator = get_default_propagator(2 * comm.size, limits, rng=rng)
        propulator = Propulator(
            sphere,
            propagator,
            rng=rng,
            island_comm=comm,
            generations=generations,
            checkpoint_path=checkpoint,
        )

        def run() -> int:
            propulator.propulate(logging_interval=10**9, debug=0)
            return len(propulator.population)

    profile = cProfile.Profile() if calls else None
    comm.Barrier()
    start = time.perf_counter()
    known = run() if profile is None else profile.runcall(run)
    wall = time.perf_counter() - start
    counted = None
    if profile is not None:  # every function's call count (recursive calls included)
        entries = pstats.Stats(profile).stats.values()  # type: ignore[attr-defined]
        total = sum(entry[1] for entry in entries)
        counted = total / max(len(stamps), 1)
    report(comm, generations, checkpoint, wall, stamps, cpu_stamps, known, counted)


def report(
    comm: Any, generations: int, checkpoint: str, wall: float, stamps: list[float],
    cpu_stamps: list[float], known: int, calls: float | None = None,
) -> None:  # fmt: skip
    """Gather every rank's timings; rank 0 prints the line the driver reads."""
    tenth = max(len(stamps) // 10, 2)
    # The median interval between consecutive evaluations: with more ranks than cores, a rank
    # descheduled for a time slice would otherwise dominate a window's mean.
    intervals = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    first = statistics.median(intervals[: tenth - 1])
    last = statistics.median(intervals[-(tenth - 1) :])
    # The rank's own CPU time per evaluation (the mean: CMA-ES updates are part of the cost),
    # which descheduling does not move: whether the loop's work grows with the population.
    cpu = [b - a for a, b in zip(cpu_stamps, cpu_stamps[1:], strict=False)]
    cpu_first = statistics.fmean(cpu[: tenth - 1])
    cpu_last = statistics.fmean(cpu[-(tenth - 1) :])
    results = comm.gather(
        (wall, len(stamps), first, last, cpu_first, cpu_last, known, calls), root=0
    )
    if comm.rank == 0:
        walls, counts, firsts, lasts, cpu_firsts, cpu_lasts, knowns, call_counts = zip(
            *results, strict=True
        )
        ckpt_bytes = sum(f.stat().st_size for f in Path(checkpoint).rglob("*") if f.is_file())
        result_line(
            {
                "ranks": comm.size,
                "generations": generations,
                "evaluations": sum(counts),
                "wall_s": max(walls),
                "evals_per_s": sum(counts) / max(walls),
                "first10_us": 1e6 * sum(firsts) / len(firsts),
                "last10_us": 1e6 * sum(lasts) / len(lasts),
                "cpu_first10_us": 1e6 * sum(cpu_firsts) / len(cpu_firsts),
                "cpu_last10_us": 1e6 * sum(cpu_lasts) / len(cpu_lasts),
                "known_min": min(knowns),
                "ckpt_bytes_per_eval": ckpt_bytes / max(sum(counts), 1),
                # Python function calls per evaluation (mean over ranks; with --calls only).
                "calls_per_eval": None if None in call_counts else statistics.fmean(call_counts),
            }
        )


def worker_arguments(loop: str, generations: int, calls: bool = False) -> list[str]:
    """The worker's arguments for ``loop`` (``ours``, ``1.2.2`` or ``floor``)."""
    return (
        ["--generations", str(generations)] + ["--floor"] * (loop == "floor") + ["--calls"] * calls
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--generations", type=int, nargs="+", default=[250, 1000, 2500])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    parser.add_argument(
        "--reference-python", help="a Python whose environment has Propulate 1.2.2 installed"
    )
    parser.add_argument(
        "--floor", action="store_true",
        help="also run the bare loop of _floor.py: the most this machine allows any loop",
    )  # fmt: skip
    parser.add_argument(
        "--calls", action="store_true",
        help="run each configuration once more, profiled, to count Python calls per evaluation",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    args = parser.parse_args()
    if args.worker:
        worker(args.generations[0], args.checkpoint, floor=args.floor, calls=args.calls)
        return
    implementations = [("ours", sys.executable)]
    if args.reference_python:
        implementations.append(("1.2.2", args.reference_python))
    if args.floor:
        implementations.append(("floor", sys.executable))
    header = (
        f"{'impl':>6} {'ranks':>5} {'gens':>5} {'evals':>6} {'wall s':>8} {'evals/s':>9} "
        f"{'first10% us':>12} {'last10% us':>11} {'last/first':>10} {'cpu first/last us':>17} "
        f"{'B/eval':>7}"
    )
    print(header)
    table = {}
    for ranks in args.ranks:
        for generations in args.generations:
            for name, python in implementations:
                result = launch(args.mpirun, ranks, python, __file__,
                                worker_arguments(name, generations), timeout=args.timeout,
                                reference=name == "1.2.2")  # fmt: skip
                table[(name, ranks, generations)] = result
                if not result:
                    print(f"{name:>6} {ranks:>5} {generations:>5}  failed or timed out: {result}")
                    continue
                cpu = f"{result['cpu_first10_us']:.0f} / {result['cpu_last10_us']:.0f}"
                print(
                    f"{name:>6} {ranks:>5} {generations:>5} {result['evaluations']:>6} "
                    f"{result['wall_s']:>8.2f} {result['evals_per_s']:>9.0f} "
                    f"{result['first10_us']:>12.0f} {result['last10_us']:>11.0f} "
                    f"{result['last10_us'] / result['first10_us']:>10.2f} "
                    f"{cpu:>17} {result['ckpt_bytes_per_eval']:>7.0f}",
                    flush=True,
                )
    pairs = [("ours", "1.2.2"), ("floor", "1.2.2"), ("ours", "floor")]
    for top, bottom in pairs:
        lines = []
        for ranks in args.ranks:
            for generations in args.generations:
                high, low = (
                    table.get((top, ranks, generations)),
                    table.get((bottom, ranks, generations)),
                )
                if high and low:
                    ratio = high["evals_per_s"] / low["evals_per_s"]
                    lines.append(f"  {ranks} ranks x {generations} generations: {ratio:.2f}x")
        if lines:
            print(f"\nevaluations/s, {top} / {bottom}:")
            print("\n".join(lines))
    if args.calls:
        # Python function calls per evaluation, counted by cProfile in a separate run of each
        # configuration: unlike the timings, this does not move with the machine's load.
        print("\nPython function calls per evaluation (mean over ranks):")
        for ranks in args.ranks:
            for generations in args.generations:
                for name, python in implementations:
                    result = launch(args.mpirun, ranks, python, __file__,
                                    worker_arguments(name, generations, calls=True),
                                    timeout=args.timeout, reference=name == "1.2.2")  # fmt: skip
                    calls = result and result.get("calls_per_eval")
                    shown = f"{calls:,.0f}" if calls else f"failed or timed out: {result}"
                    print(f"  {name:>6} {ranks} ranks x {generations} generations: {shown}")


if __name__ == "__main__":
    main()
