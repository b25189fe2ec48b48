"""A run of trainings of several epochs that resume from their working folder.

python epochs.py CKPT GENERATIONS EPOCHS EPOCH_SECONDS

Each evaluation trains EPOCHS epochs of EPOCH_SECONDS, yielding after each; it keeps the
number of epochs done in ``propulate.current_dir()`` and appends each epoch it trains to the
file ``trained`` there, so a resumed evaluation continues where it stopped.
"""

import os
import random
import sys
import time

from mpi4py import MPI

import propulate
from propulate import Propulator
from propulate.utils import get_default_propagator

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(2)}
checkpoint, generations = sys.argv[1], int(sys.argv[2])
epochs, epoch_seconds = int(sys.argv[3]), float(sys.argv[4])


def loss(params):
    folder = propulate.current_dir()
    done = folder / "epochs"
    start = int(done.read_text()) if done.exists() else 0
    value = sum(v * v for v in params.values())
    for epoch in range(start, epochs):
        time.sleep(epoch_seconds)
        with open(folder / "trained", "a") as trained:
            trained.write(f"{epoch}\n")
        # Replaced, not rewritten: a SIGKILL must not leave it empty (as a real checkpoint).
        (folder / "epochs.tmp").write_text(str(epoch + 1))
        os.replace(folder / "epochs.tmp", done)
        yield value / (epoch + 1)


comm = MPI.COMM_WORLD
rng = random.Random(comm.rank)
propulator = Propulator(
    loss,
    get_default_propagator(2 * comm.size, LIMITS, rng=rng),
    rng,
    island_comm=comm,
    generations=generations,
    checkpoint_path=checkpoint,
)
propulator.propulate(logging_interval=0)
print(f"rank {comm.rank} finished with {len(propulator.population)} individuals", flush=True)
