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
import logging
import random
from pathlib import Path

from mpi4py import MPI

from propulate import Propulator
from propulate.propagators import ActiveCMA, BasicCMA, CMAPropagator
from propulate.utils import set_logger_config
from propulate.utils.benchmark_functions import FUNCTION_NAMES, get_function_search_space


def parse_arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--function", choices=FUNCTION_NAMES, default="sphere")
    parser.add_argument("--dimensions", type=int, default=None, help="default: the function's")
    parser.add_argument("--generations", type=int, default=300, help="evaluations per rank")
    parser.add_argument("--checkpoint", type=Path, default=Path("./cmaes-checkpoint"))
    parser.add_argument("--seed", type=int, default=0, help="rank r uses seed + r")
    parser.add_argument("--adapter", choices=["basic", "active"], default="basic")
    parser.add_argument("--pop-size", type=int, default=None, help="lambda (default eq. 48)")
    parser.add_argument("--logging-interval", type=int, default=50)
    return parser.parse_args()


def main() -> None:
    """Optimize on every rank, then print the best individual on rank 0."""
    config = parse_arguments()
    comm = MPI.COMM_WORLD
    set_logger_config(level=logging.INFO, log_file=config.checkpoint / "cmaes_example.log")
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
    )
    propulator.propulate(logging_interval=config.logging_interval)
    best = propulator.summarize(top_n=1, debug=1)[0][0]
    if comm.rank == 0:
        print(f"{config.adapter} CMA-ES on {config.function}: best loss {best.loss:.6g} at {best}")


if __name__ == "__main__":
    main()
