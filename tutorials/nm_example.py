r"""Minimize a benchmark function with a parallel Nelder-Mead simplex search.

Every MPI rank runs the Nelder-Mead method one evaluation at a time on its own copy of the
simplex, takes in every point another rank found that beats its best vertex, and updates a
different vertex than its neighbours (rank ``r`` the ``r mod n``-th worst, as in Lee and Wiswall's
parallel simplex). The points of the initial simplex and of shrink steps are spread over the
ranks. It works on one rank and on many::

    python tutorials/nm_example.py --function rosenbrock --generations 500
    mpirun -n 4 python tutorials/nm_example.py --function himmelblau --scale 0.2

The initial simplex is built around ``--start`` (default: a random point drawn with ``--seed``,
the same on every rank) with edges of ``--scale`` times each parameter's range. A simplex that
collapses is rebuilt, randomly oriented, around its best point. Rerunning a command on the same
``--checkpoint`` resumes the same search; a larger ``--generations`` extends it.
"""

from __future__ import annotations

import argparse
import random

import numpy as np
from mpi4py import MPI

from propulate import Propulator, SearchSpace
from propulate.propagators import ParallelNelderMead
from propulate.utils import set_logger_config
from propulate.utils.benchmark_functions import get_function_search_space
from propulate.utils.tutorial_cli import add_option, parse, run_config, tutorial_parser

# What a resumed run must share with the run it continues (besides function and dimensions).
RUN_OPTIONS = ("start", "scale")


def parse_arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = tutorial_parser(__doc__, generations=200, logging_interval=50)
    group = parser.add_argument_group("Nelder-Mead")
    add_option(group, "--start", type=float, nargs="+", default=None,
               help="one value per parameter (default: random, drawn with --seed)")  # fmt: skip
    add_option(group, "--scale", type=float, default=0.25,
               help="initial edge, share of each range")  # fmt: skip
    return parse(parser)


def main() -> None:
    """Optimize on every rank, then print the best individual on rank 0."""
    config = parse_arguments()
    comm = MPI.COMM_WORLD
    set_logger_config(level=config.logging_level, log_file=config.checkpoint / "nm_example.log")
    loss_fn, limits = get_function_search_space(config.function, config.dimensions)
    if config.start is None:
        # The same start on every rank: they all work on one simplex.
        sampled = SearchSpace(limits).sample(random.Random(config.seed))
        start = np.array([sampled[name] for name in limits])
    else:
        start = np.array(config.start)
    rng = random.Random(config.seed + comm.rank)
    propagator = ParallelNelderMead(limits, rng, start, scale=config.scale)
    propulator = Propulator(
        loss_fn,
        propagator,
        rng,
        island_comm=comm,
        generations=config.generations,
        checkpoint_path=config.checkpoint,
        run_config=run_config(config, RUN_OPTIONS),
    )
    propulator.propulate(logging_interval=config.logging_interval)
    best = propulator.summarize(top_n=1, debug=1)[0][0]
    if comm.rank == 0:
        print(f"Nelder-Mead on {config.function}: best loss {best.loss:.6g} at {best}")


if __name__ == "__main__":
    main()
