r"""Minimize a benchmark function with several islands that exchange individuals.

    mpirun -n 8 python tutorials/islands_example.py --function rastrigin --dimensions 10 \
        --num-islands 2 --migration-probability 0.9 --generations 500
    # add --pollination to send copies instead of moving individuals

The run's folder is runs/islands-rastrigin-10d (or --checkpoint DIR). Rerunning the same command
resumes the run; a larger --generations extends it. A run with another function, pool size,
probabilities or island setting on the same folder is refused: give it its own --checkpoint.
"""

import random

from mpi4py import MPI

from propulate import Islands
from propulate.propagators import SelectMax, SelectMin
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

RUN_OPTIONS = GA_RUN_OPTIONS + (
    "num_islands",
    "migration_probability",
    "num_migrants",
    "pollination",
)


def parse_arguments(comm: MPI.Comm, args: list[str] | None = None):  # noqa: ANN201
    """The options of this script."""
    parser = tutorial_parser(__doc__, generations=1000, logging_interval=10)
    add_ga_options(parser, default_pop_size(comm))
    group = parser.add_argument_group("islands")
    add_option(group, "--num-islands", type=int, default=2,
               help="islands of (nearly) equal size (at most the number of ranks)")  # fmt: skip
    add_option(group, "--migration-probability", type=float, default=0.9,
               help="that a worker sends migrants after an evaluation")  # fmt: skip
    add_option(group, "--num-migrants", type=int, default=1,
               help="individuals sent to each other island at a time")  # fmt: skip
    add_option(group, "--pollination", action="store_true",
               help="send copies instead of moving individuals")  # fmt: skip
    add_report_options(parser)
    return parse(parser, args)


def main() -> None:
    """Parse the options, set up the islands, optimize and summarize."""
    comm = MPI.COMM_WORLD
    config = parse_arguments(comm)
    set_logger_config(
        level=config.logging_level,
        log_file=config.checkpoint / "propulate.log",
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
    # Every island sends num_migrants to every other island at a time.
    topology = [
        [0 if i == j else config.num_migrants for j in range(num_islands)]
        for i in range(num_islands)
    ]
    islands = Islands(
        loss_fn=function,
        propagator=propagator,
        rng=rng,
        generations=config.generations,
        num_islands=num_islands,
        migration_topology=topology if num_islands > 1 else None,
        migration_probability=config.migration_probability,
        emigration_propagator=SelectMin,
        immigration_propagator=SelectMax,
        pollination=config.pollination,
        checkpoint_path=config.checkpoint,
        run_config=run_config(config, RUN_OPTIONS),
    )
    islands.propulate(logging_interval=config.logging_interval, debug=config.verbosity)
    islands.summarize(top_n=config.top_n, debug=config.verbosity)


if __name__ == "__main__":
    main()
