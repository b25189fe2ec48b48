"""Quickstart: minimize a toy loss function with one population on every MPI rank."""

import logging
import random
import sys

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator, set_logger_config


def loss(params):
    """The loss to minimize: smallest at lr = 0.003, 4 layers and relu."""
    penalty = {"relu": 0.0, "tanh": 0.5, "sigmoid": 1.0}[params["activation"]]
    return (params["lr"] - 0.003) ** 2 * 1e4 + (params["layers"] - 4) ** 2 + penalty


limits = {
    "layers": (2, 10),
    "activation": ("relu", "tanh", "sigmoid"),
    "lr": (1e-4, 1e-1, "log"),
}

comm = MPI.COMM_WORLD
checkpoint = sys.argv[1] if len(sys.argv) > 1 else "ckpt-quickstart"
set_logger_config(level=logging.INFO)  # progress and summaries on rank 0 only
rng = random.Random(comm.rank)  # one seed per rank
propagator = get_default_propagator(pop_size=2 * comm.size, limits=limits, rng=rng)
propulator = Propulator(
    loss_fn=loss,
    propagator=propagator,
    rng=rng,
    island_comm=comm,
    generations=40,  # evaluations per rank, counting earlier runs on this checkpoint
    checkpoint_path=checkpoint,
)
propulator.propulate(logging_interval=10)
propulator.summarize(top_n=3)
