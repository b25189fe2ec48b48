"""Minimize a benchmark function with several islands that exchange individuals.

    mpirun -n 8 python tutorials/islands_example.py --function rastrigin --dimensions 10 \
        --num_islands 2 --migration_probability 0.9 --generations 500 --checkpoint ckpt-islands
    # add --pollination to send copies instead of moving individuals

Rerunning the same command resumes from the checkpoint. ``--help`` lists every option.
"""

import random

from mpi4py import MPI

from propulate import Islands
from propulate.propagators import SelectMax, SelectMin
from propulate.utils import get_default_propagator, set_logger_config
from propulate.utils.benchmark_functions import get_function_search_space, parse_arguments


def main() -> None:
    """Parse the options, set up the islands, optimize and summarize."""
    comm = MPI.COMM_WORLD
    config, _ = parse_arguments(comm)
    set_logger_config(
        level=config.logging_level,
        log_file=f"{config.checkpoint}/propulate.log",
        log_to_stdout=True,
    )
    function, limits = get_function_search_space(config.function, config.dimensions)
    rng = random.Random(config.seed + comm.rank)
    num_islands = min(config.num_islands, comm.size)
    propagator = get_default_propagator(
        pop_size=max(2, config.pop_size // num_islands),
        limits=limits,
        crossover_prob=config.crossover_probability,
        mutation_prob=config.mutation_probability,
        random_init_prob=config.random_init_probability,
        rng=rng,
    )
    islands = Islands(
        loss_fn=function,
        propagator=propagator,
        rng=rng,
        generations=config.generations,
        num_islands=num_islands,
        migration_probability=config.migration_probability,
        emigration_propagator=SelectMin,
        immigration_propagator=SelectMax,
        pollination=config.pollination,
        checkpoint_path=config.checkpoint,
    )
    islands.propulate(logging_interval=config.logging_interval, debug=config.verbosity)
    islands.summarize(top_n=config.top_n, debug=config.verbosity)


if __name__ == "__main__":
    main()
