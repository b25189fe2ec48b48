r"""Minimize a benchmark function with one Propulator population on every MPI rank.

    mpirun -n 4 python tutorials/propulator_example.py --function rastrigin --dimensions 10 \
        --generations 500

The run's folder is runs/propulator-rastrigin-10d (or --checkpoint DIR). Rerunning the same
command resumes the run; a larger --generations extends it. A run with another function, pool
size or probabilities on the same folder is refused: give it its own --checkpoint.
"""

import logging
import random
from pathlib import Path

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator, set_logger_config
from propulate.utils.benchmark_functions import get_function_search_space
from propulate.utils.tutorial_cli import (
    GA_RUN_OPTIONS,
    add_ga_options,
    add_option,
    add_report_options,
    default_pop_size,
    parse,
    run_config,
    tutorial_parser,
)

# What a resumed run must share with the run it continues (besides function and dimensions).
RUN_OPTIONS = GA_RUN_OPTIONS


def parse_arguments(comm: MPI.Comm, args: list[str] | None = None):  # noqa: ANN201
    """The options of this script."""
    parser = tutorial_parser(__doc__, generations=1000, logging_interval=10)
    add_ga_options(parser, default_pop_size(comm))
    add_report_options(parser)
    add_option(parser, "--warm-start", type=Path, nargs="+", default=None,
               help="checkpoint folders or CSV files (of 'propulate export') of earlier runs, "
               "whose results the run breeds from without evaluating them again")  # fmt: skip
    return parse(parser, args)


def main() -> None:
    """Parse the options, set up the Propulator, optimize and summarize."""
    comm = MPI.COMM_WORLD
    config = parse_arguments(comm)
    set_logger_config(
        level=config.logging_level,
        log_file=config.checkpoint / "propulate.log",
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
        run_config=run_config(config, RUN_OPTIONS),
        warm_start=config.warm_start,
    )
    propulator.propulate(logging_interval=config.logging_interval, debug=config.verbosity)
    best = propulator.summarize_islands(top_n=config.top_n, debug=config.verbosity)
    if comm.rank == 0:
        logging.getLogger("propulate").info(
            "Best loss: %.6g (run folder: %s)", best[0][0].loss, config.checkpoint
        )


if __name__ == "__main__":
    main()
