r"""Minimize a benchmark function with particle swarm optimization (PSO).

Every MPI rank owns one particle of the swarm. A particle's position and velocity are those of its
rank's latest individual; it is pulled towards its own best point and the best point any rank has
found so far, which the ranks exchange asynchronously. A swarm needs several particles, so run it
with several ranks::

    mpirun -n 8 python tutorials/pso_example.py --function rosenbrock --generations 200
    mpirun -n 8 python tutorials/pso_example.py --variant constriction --checkpoint ./pso-run

The variants are the inertia-weight PSO (``basic``, Shi and Eberhart 1998), with velocity
clamping (``clamping``), with Clerc and Kennedy's constriction factor (``constriction``), both
combined (``canonical``) and without velocity (``stateless``). Velocities are fractions of each
parameter's range per move. Rerunning a command on the same ``--checkpoint`` resumes the run;
a larger ``--generations`` extends it.
"""

from __future__ import annotations

import argparse
import random

from mpi4py import MPI

from propulate import Propulator
from propulate.propagators import (
    BasicPSO,
    CanonicalPSO,
    ConstrictionPSO,
    Propagator,
    StatelessPSO,
    VelocityClampingPSO,
)
from propulate.utils import set_logger_config
from propulate.utils.benchmark_functions import get_function_search_space
from propulate.utils.tutorial_cli import add_option, parse, run_config, tutorial_parser

# Defaults per variant: (inertia, cognitive, social). Constriction needs cognitive + social > 4.
DEFAULTS = {
    "basic": (0.729, 1.49445, 1.49445),
    "clamping": (0.729, 1.49445, 1.49445),
    "constriction": (None, 2.05, 2.05),
    "canonical": (None, 2.05, 2.05),
    "stateless": (None, 2.0, 2.0),
}


# What a resumed run must share with the run it continues (besides function and dimensions).
RUN_OPTIONS = ("variant", "inertia", "cognitive", "social", "clamping")


def parse_arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = tutorial_parser(__doc__, generations=100, logging_interval=20)
    group = parser.add_argument_group("particle swarm")
    add_option(group, "--variant", choices=list(DEFAULTS), default="basic", help="PSO variant")
    add_option(group, "--inertia", type=float, default=None,
               help="basic/clamping only (default: the variant's)")  # fmt: skip
    add_option(group, "--cognitive", type=float, default=None,
               help="pull to the particle's own best (default: the variant's)")  # fmt: skip
    add_option(group, "--social", type=float, default=None,
               help="pull to the swarm's best (default: the variant's)")  # fmt: skip
    add_option(group, "--clamping", type=float, default=0.2,
               help="largest speed, fraction of the range (clamping only)")  # fmt: skip
    return parse(parser)


def make_propagator(
    config: argparse.Namespace, limits: dict, rank: int, rng: random.Random
) -> Propagator:
    """The PSO variant chosen on the command line, owning rank ``rank``'s particle."""
    inertia, cognitive, social = DEFAULTS[config.variant]
    inertia = config.inertia if config.inertia is not None else inertia
    cognitive = config.cognitive if config.cognitive is not None else cognitive
    social = config.social if config.social is not None else social
    propagator: Propagator
    if config.variant == "basic":
        propagator = BasicPSO(inertia, cognitive, social, rank, limits, rng)
    elif config.variant == "clamping":
        propagator = VelocityClampingPSO(
            inertia, cognitive, social, rank, limits, rng, config.clamping
        )
    elif config.variant == "constriction":
        propagator = ConstrictionPSO(cognitive, social, rank, limits, rng)
    elif config.variant == "canonical":
        propagator = CanonicalPSO(cognitive, social, rank, limits, rng)
    else:
        propagator = StatelessPSO(cognitive, social, rank, limits, rng)
    # A rank without an individual of its own yet starts a particle at a uniformly random
    # position with a small random velocity (what InitUniformPSO does in Propulate 1.2 setups).
    return propagator


def main() -> None:
    """Optimize on every rank, then print the best individual on rank 0."""
    config = parse_arguments()
    comm = MPI.COMM_WORLD
    set_logger_config(level=config.logging_level, log_file=config.checkpoint / "pso_example.log")
    loss_fn, limits = get_function_search_space(config.function, config.dimensions)
    rng = random.Random(config.seed + comm.rank)
    propulator = Propulator(
        loss_fn,
        make_propagator(config, limits, comm.rank, rng),
        rng,
        island_comm=comm,
        generations=config.generations,
        checkpoint_path=config.checkpoint,
        run_config=run_config(config, RUN_OPTIONS),
    )
    propulator.propulate(logging_interval=config.logging_interval)
    best = propulator.summarize(top_n=1, debug=1)[0][0]
    if comm.rank == 0:
        print(f"{config.variant} PSO on {config.function}: best loss {best.loss:.6g} at {best}")


if __name__ == "__main__":
    main()
