"""A slow seeded 4-d sphere for the kill tests: python seeded_sphere.py CKPT GENERATIONS [SOURCE].

Seeds: ``SEEDS`` (each to be evaluated exactly once over all kills and resumes); with SOURCE, a
warm start from it.
"""

import random
import sys
import time

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(4)}
SEEDS = [{f"x{i}": round(0.25 * k - 2.5 + 0.01 * i, 2) for i in range(4)} for k in range(24)]


def loss(params):
    time.sleep(0.02)
    return sum(v * v for v in params.values())


comm = MPI.COMM_WORLD
rng = random.Random(comm.rank)
propulator = Propulator(
    loss,
    get_default_propagator(2 * comm.size, LIMITS, rng=rng),
    rng,
    island_comm=comm,
    generations=int(sys.argv[2]),
    checkpoint_path=sys.argv[1],
    seeds=SEEDS,
    warm_start=sys.argv[3] if len(sys.argv) > 3 else None,
)
propulator.propulate(logging_interval=0)
print(f"rank {comm.rank} finished with {len(propulator.population)} individuals", flush=True)
