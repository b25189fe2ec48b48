"""A slow 4-d sphere run used by the kill/resume tests: python slow_sphere.py CKPT GENERATIONS."""

import random
import sys
import time

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(4)}


def loss(params):
    time.sleep(0.01)
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
)
propulator.propulate(logging_interval=0)
print(f"rank {comm.rank} finished with {len(propulator.population)} individuals", flush=True)
