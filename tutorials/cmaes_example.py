r"""Minimize a benchmark function with the covariance matrix adaptation evolution strategy.

Every MPI rank adapts its own normal search distribution (mean, step size, covariance matrix) from
the best individuals all ranks have found so far and samples one new individual per evaluation;
the ranks exchange their results asynchronously. It works on one rank and on many::

    python tutorials/cmaes_example.py --function rosenbrock --dimensions 10 --generations 3000
    mpirun -n 4 python tutorials/cmaes_example.py --function rastrigin --adapter active

``--adapter active`` also shrinks the distribution away from bad samples (active CMA-ES).
``--pop-size`` is lambda, the number of best individuals an update ranks (default
``4 + floor(3 ln n)``). Each rank's distribution is saved next to the checkpoint, so rerunning a
command on the same ``--checkpoint`` resumes the same search; a larger ``--generations``
extends it.
"""

from __future__ import annotations

import argparse
import random

from mpi4py import MPI

from propulate import Propulator
from propulate.propagators import ActiveCMA, BasicCMA, CMAPropagator
from propulate.utils import set_logger_config
from propulate.utils.benchmark_functions import get_function_search_space
from propulate.utils.tutorial_cli import add_option, parse, run_config, tutorial_parser

# What a resumed run must share with the run it continues (besides function and dimensions).
RUN_OPTIONS = ("adapter", "pop_size")


def parse_arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = tutorial_parser(__doc__, generations=300, logging_interval=50)
    group = parser.add_argument_group("CMA-ES")
    add_option(group, "--adapter", choices=["basic", "active"], default="basic",
               help="active also shrinks away from bad samples")  # fmt: skip
    add_option(group, "--pop-size", type=int, default=None,
               help="lambda (default: 4 + floor(3 ln n))")  # fmt: skip
    return parse(parser)


def main() -> None:
    """Optimize on every rank, then print the best individual on rank 0."""
    config = parse_arguments()
    comm = MPI.COMM_WORLD
    set_logger_config(level=config.logging_level, log_file=config.checkpoint / "cmaes_example.log")
    loss_fn, limits = get_function_search_space(config.function, config.dimensions)
    rng = random.Random(config.seed + comm.rank)
    adapter = ActiveCMA() if config.adapter == "active" else BasicCMA()
    propagator = CMAPropagator(adapter, limits, pop_size=config.pop_size, rng=rng)
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
        print(f"{config.adapter} CMA-ES on {config.function}: best loss {best.loss:.6g} at {best}")


if __name__ == "__main__":
    main()
