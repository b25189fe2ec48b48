"""Two objectives and a constraint returned with the result: accuracy, latency, memory <= 8 GB."""

import random
import sys

from mpi4py import MPI

from propulate import Propulator
from propulate.results import format_summary, load_results, summarize_results
from propulate.utils import get_default_propagator


def loss(params):
    """A toy model: wider is more accurate, slower and needs more memory."""
    width, depth = params["width"], params["depth"]
    accuracy = 1.0 - 1.0 / (width * depth)
    latency = 0.1 * width * depth + (2.0 if params["act"] == "gelu" else 0.0)
    memory_gb = 0.05 * width * depth
    # A value <= 0 is satisfied: here "memory_gb <= 8".
    return {"accuracy": accuracy, "latency": latency, "constraints": [memory_gb - 8.0]}


limits = {"width": (1, 64), "depth": (1, 12), "act": ("relu", "gelu")}
objectives = {"accuracy": "maximize", "latency": "minimize"}

if __name__ == "__main__":
    comm = MPI.COMM_WORLD
    checkpoint = sys.argv[1] if len(sys.argv) > 1 else "ckpt-constrained"
    rng = random.Random(comm.rank)
    propagator = get_default_propagator(pop_size=2 * comm.size, limits=limits, rng=rng)
    propulator = Propulator(loss, propagator, rng, island_comm=comm, generations=40,
                            checkpoint_path=checkpoint, objectives=objectives)  # fmt: skip
    propulator.propulate(logging_interval=0)
    comm.Barrier()
    if comm.rank == 0:  # the front holds feasible configurations only
        print(format_summary(summarize_results(load_results(checkpoint))))
