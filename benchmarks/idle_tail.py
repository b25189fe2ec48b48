"""The idle tail: how busy ranks are with per-rank ``generations`` vs an island-wide budget.

Driver (default): runs every mode under ``mpirun`` and prints one line per run::

    python benchmarks/idle_tail.py                     # 8 ranks, 100 generations, 2 repeats
    python benchmarks/idle_tail.py --reference-python /path/to/venv-with-propulate-1.2.2/bin/python

Every evaluation sleeps a time drawn uniformly from 20-200 ms (a per-rank seeded generator, the
same draws in every mode), so the ranks finish their shares at different times. Modes, at equal
total evaluations (``ranks x generations``):

* ``generations``: ``Propulator(generations=G)``, every rank makes ``G`` evaluations;
* ``budget``: ``Propulator(total_evaluations=ranks * G)``, the island's ranks keep evaluating
  until the island has them;
* ``1.2.2``: Propulate 1.2.2 with ``generations=G`` (only with ``--reference-python``; it runs
  from a temporary folder without ``PYTHONPATH``, so it imports its own installed Propulate).

A rank's *busy share* is the time spent inside the loss function over the wall time of the run
(from a barrier before ``propulate()`` to the return of the last rank's ``propulate()``); the
line reports the mean over ranks, the least busy rank, and the evaluations made; then where the
rest of a rank's wall time went, averaged over ranks: before its first evaluation, between its
evaluations (the loop's own work: absorbing, breeding, logging, sending; it grows with the
machine's load), and after its last one (the tail).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time

from _launch import launch, result_line

LOW, HIGH = 0.020, 0.200  # seconds an evaluation sleeps


def worker(mode: str, generations: int, checkpoint: str, seed: int) -> None:
    """One rank's run (under mpirun); rank 0 prints a JSON line with the measurements."""
    import logging
    import random

    from mpi4py import MPI

    from propulate import Propulator
    from propulate.utils import get_default_propagator

    logging.getLogger("propulate").setLevel(logging.WARNING)
    comm = MPI.COMM_WORLD
    limits = {f"x{i}": (-5.12, 5.12) for i in range(4)}
    durations = random.Random(1000 * seed + comm.rank)
    busy = [0.0, 0]
    stamps: list[float] = []  # when the first evaluation began, when the last one ended

    def loss(params) -> float:
        begin = time.perf_counter()
        time.sleep(durations.uniform(LOW, HIGH))
        end = time.perf_counter()
        busy[0] += end - begin
        busy[1] += 1
        stamps[:] = [stamps[0] if stamps else begin, end]
        return sum(float(params[k]) ** 2 for k in limits)

    rng = random.Random(comm.rank)
    propagator = get_default_propagator(2 * comm.size, limits, rng=rng)
    if mode == "budget":
        stop = {"generations": -1, "total_evaluations": generations * comm.size}
    else:
        stop = {"generations": generations}
    propulator = Propulator(
        loss, propagator, rng=rng, island_comm=comm, checkpoint_path=checkpoint, **stop
    )
    comm.Barrier()
    start = time.perf_counter()
    propulator.propulate(logging_interval=10**9, debug=0)
    ended = time.perf_counter() - start
    first, last = (stamps[0] - start, stamps[1] - start) if stamps else (ended, ended)
    results = comm.gather((busy[0], busy[1], ended, first, last), root=0)
    if comm.rank == 0:
        times, counts, ends, firsts, lasts = zip(*results, strict=True)
        wall = max(ends)
        shares = [t / wall for t in times]
        # Where the rest of the wall time went, averaged over ranks: before the first evaluation,
        # after the last one (the tail), and between evaluations (the loop's own work).
        before = statistics.fmean(firsts)
        tail = statistics.fmean(wall - x for x in lasts)
        between = statistics.fmean(x - f - t for x, f, t in zip(lasts, firsts, times, strict=True))
        result_line(
            {
                "mode": mode,
                "ranks": comm.size,
                "evaluations": sum(counts),
                "per_rank": list(counts),
                "wall_s": wall,
                "busy_mean": statistics.fmean(shares),
                "busy_min": min(shares),
                "before_s": before,
                "tail_s": tail,
                "between_s": between,
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--generations", type=int, default=100, help="per rank (equal totals)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="seed of the first repeat")
    parser.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    parser.add_argument("--reference-python", help="a Python with Propulate 1.2.2 installed")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.generations, args.checkpoint, args.seed)
        return
    modes = [("generations", sys.executable), ("budget", sys.executable)]
    if args.reference_python:
        modes.append(("1.2.2", args.reference_python))
    print(f"{args.ranks} ranks, evaluations sleeping {LOW * 1e3:.0f}-{HIGH * 1e3:.0f} ms, "
          f"{args.ranks * args.generations} evaluations per run")  # fmt: skip
    print(f"{'mode':>12} {'seed':>4} {'evals':>6} {'wall s':>7} {'busy mean':>10} {'busy min':>9}"
          f" {'idle: before':>12} {'between':>8} {'tail s':>7}")  # fmt: skip
    summary: dict[str, list[dict]] = {}
    for repeat in range(args.repeats):
        seed = args.seed + repeat
        for name, python in modes:
            mode = "generations" if name == "1.2.2" else name
            arguments = [mode, "--generations", str(args.generations), "--seed", str(seed)]
            result = launch(args.mpirun, args.ranks, python, __file__, arguments,
                            timeout=args.timeout, reference=name == "1.2.2",
                            prefix="propulate-tail-")  # fmt: skip
            if result is None:
                print(f"{name:>12} {seed:>4}  failed or timed out")
                continue
            summary.setdefault(name, []).append(result)
            print(f"{name:>12} {seed:>4} {result['evaluations']:>6} {result['wall_s']:>7.2f} "
                  f"{100 * result['busy_mean']:>9.1f}% {100 * result['busy_min']:>8.1f}% "
                  f"{result['before_s']:>12.3f} {result['between_s']:>8.3f} "
                  f"{result['tail_s']:>7.3f}", flush=True)  # fmt: skip
    print("\nmean over repeats:")
    for name, results in summary.items():
        mean = statistics.fmean(r["busy_mean"] for r in results)
        least = statistics.fmean(r["busy_min"] for r in results)
        print(f"{name:>12}: busy {100 * mean:.1f}% (least busy rank {100 * least:.1f}%)")


if __name__ == "__main__":
    main()
