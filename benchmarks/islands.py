"""One panmictic population vs. 2 and 4 islands on a multimodal function, at equal evaluations.

    python benchmarks/islands.py          # Rastrigin 10-d, 8 ranks, 500 generations, 10 seeds
    python benchmarks/islands.py --function ackley --seeds 5

Each configuration runs under ``mpirun`` once per seed; the table gives the median, best and worst
of the best loss found. Islands use real migration with the default topology (one migrant to every
other island) and the given migration probability.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys

from _launch import launch, result_line


def worker(args: argparse.Namespace) -> None:
    """One rank of one run (under mpirun); rank 0 prints the best loss."""
    import logging
    import random

    from mpi4py import MPI

    from propulate import Islands
    from propulate.utils import get_default_propagator
    from propulate.utils.benchmark_functions import get_function_search_space

    logging.getLogger("propulate").setLevel(logging.WARNING)
    comm = MPI.COMM_WORLD
    function, limits = get_function_search_space(args.function, args.dimensions)
    rng = random.Random(1000 * args.seed + comm.rank)
    workers_per_island = comm.size // args.islands
    propagator = get_default_propagator(max(2, 2 * workers_per_island), limits, rng=rng)
    islands = Islands(
        function,
        propagator,
        rng,
        generations=args.generations,
        num_islands=args.islands,
        migration_probability=args.migration_probability if args.islands > 1 else 0.0,
        pollination=False,
        checkpoint_path=args.checkpoint,
    )
    islands.propulate(logging_interval=0, debug=0)
    best = islands.summarize_islands(top_n=1, debug=0)
    if comm.rank == 0:
        result_line({"loss": min(b[0].loss for b in best if b)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--islands", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--function", default="rastrigin")
    parser.add_argument("--dimensions", type=int, default=10)
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--generations", type=int, default=500, help="evaluations per rank")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--migration-probability", type=float, default=0.1)
    parser.add_argument("--configurations", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(
        f"{args.function} {args.dimensions}-d, {args.ranks} ranks x {args.generations} "
        f"generations = {args.ranks * args.generations} evaluations per run, {args.seeds} seeds, "
        f"migration probability {args.migration_probability}"
    )
    print(f"{'islands':>7} {'median':>10} {'best':>10} {'worst':>10}")
    for islands in args.configurations:
        losses = []
        for seed in range(args.seeds):
            arguments = ["--islands", str(islands), "--seed", str(seed)]
            arguments += ["--function", args.function, "--dimensions", str(args.dimensions)]
            arguments += ["--generations", str(args.generations)]
            arguments += ["--migration-probability", str(args.migration_probability)]
            result = launch(args.mpirun, args.ranks, sys.executable, __file__, arguments,
                            timeout=1200, prefix="propulate-islands-")  # fmt: skip
            if result is None:
                sys.exit(f"run failed ({islands} islands, seed {seed}): see the output above")
            losses.append(result["loss"])
        print(
            f"{islands:>7} {statistics.median(losses):>10.4g} {min(losses):>10.4g} "
            f"{max(losses):>10.4g}",
            flush=True,
        )


if __name__ == "__main__":
    main()
