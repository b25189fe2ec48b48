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
import logging
import random
from pathlib import Path

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
from propulate.utils.benchmark_functions import FUNCTION_NAMES, get_function_search_space

# Defaults per variant: (inertia, cognitive, social). Constriction needs cognitive + social > 4.
DEFAULTS = {
    "basic": (0.729, 1.49445, 1.49445),
    "clamping": (0.729, 1.49445, 1.49445),
    "constriction": (None, 2.05, 2.05),
    "canonical": (None, 2.05, 2.05),
    "stateless": (None, 2.0, 2.0),
}


def parse_arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--function", choices=FUNCTION_NAMES, default="sphere")
    parser.add_argument("--dimensions", type=int, default=None, help="default: the function's")
    parser.add_argument("--generations", type=int, default=100, help="evaluations per rank")
    parser.add_argument("--checkpoint", type=Path, default=Path("./pso-checkpoint"))
    parser.add_argument("--seed", type=int, default=0, help="rank r uses seed + r")
    parser.add_argument("--variant", choices=list(DEFAULTS), default="basic")
    parser.add_argument("--inertia", type=float, default=None, help="basic/clamping only")
    parser.add_argument("--cognitive", type=float, default=None, help="pull to own best")
    parser.add_argument("--social", type=float, default=None, help="pull to the swarm's best")
    parser.add_argument(
        "--clamping", type=float, default=0.2, help="largest speed, fraction of the range"
    )
    parser.add_argument("--logging-interval", type=int, default=20)
    return parser.parse_args()


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
    set_logger_config(level=logging.INFO, log_file=config.checkpoint / "pso_example.log")
    loss_fn, limits = get_function_search_space(config.function, config.dimensions)
    rng = random.Random(config.seed + comm.rank)
    propulator = Propulator(
        loss_fn,
        make_propagator(config, limits, comm.rank, rng),
        rng,
        island_comm=comm,
        generations=config.generations,
        checkpoint_path=config.checkpoint,
    )
    propulator.propulate(logging_interval=config.logging_interval)
    best = propulator.summarize(top_n=1, debug=1)[0][0]
    if comm.rank == 0:
        print(f"{config.variant} PSO on {config.function}: best loss {best.loss:.6g} at {best}")


if __name__ == "__main__":
    main()
