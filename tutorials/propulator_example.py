"""Minimize a benchmark function with one Propulator population on every MPI rank.

    mpirun -n 4 python tutorials/propulator_example.py --function rastrigin --dimensions 10 \
        --generations 500 --checkpoint ckpt-rastrigin

Rerunning the same command resumes from the checkpoint. ``--help`` lists every option.
"""

import logging
import random

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator, set_logger_config
from propulate.utils.benchmark_functions import get_function_search_space, parse_arguments


def main() -> None:
    """Parse the options, set up the Propulator, optimize and summarize."""
    comm = MPI.COMM_WORLD
    config, _ = parse_arguments(comm)
    set_logger_config(
        level=config.logging_level,
        log_file=f"{config.checkpoint}/propulate.log",
        log_to_stdout=True,
        log_rank=False,
        colors=True,
    )
    function, limits = get_function_search_space(config.function, config.dimensions)
    rng = random.Random(config.seed + comm.rank)  # a different stream on every rank
    propagator = get_default_propagator(
        pop_size=config.pop_size,
        limits=limits,
        crossover_prob=config.crossover_probability,
        mutation_prob=config.mutation_probability,
        random_init_prob=config.random_init_probability,
        rng=rng,
    )
    propulator = Propulator(
        loss_fn=function,
        propagator=propagator,
        rng=rng,
        island_comm=comm,
        generations=config.generations,
        checkpoint_path=config.checkpoint,
    )
    propulator.propulate(logging_interval=config.logging_interval, debug=config.verbosity)
    best = propulator.summarize(top_n=config.top_n, debug=config.verbosity)
    if comm.rank == 0:
        logging.getLogger("propulate").info("Best loss: %.6g", best[0][0].loss)


if __name__ == "__main__":
    main()
