"""Trainings of several epochs on multi-rank workers (ranks_per_worker=2) that resume.

python multirank_epochs.py CKPT GENERATIONS EPOCHS EPOCH_SECONDS MODE MAX_EVAL_SECONDS TIME_BUDGET

MODE is ``yield`` (a generator), ``report`` (calls report_intermediate, as the Lightning callback
does) or ``stuck`` (like ``yield``, but the evaluations of generation 1 never yield: they spin
for 20 s before their first epoch). ``none`` leaves MAX_EVAL_SECONDS or TIME_BUDGET unset.

Both ranks of a worker train each epoch together (an allreduce per epoch, as data-parallel
training does), keep the number of epochs done in ``propulate.current_dir()`` (the first rank
writes it) and append each epoch they train to ``trained-<rank in worker>`` there, so a resumed
evaluation continues where it stopped and the test sees at which value each rank stopped. Each
rank writes its process id to ``CKPT/pids/<world rank>``, so a test can signal one rank.
"""

import os
import random
import sys
import time
from pathlib import Path

from mpi4py import MPI

import propulate
from propulate import Islands
from propulate.utils import get_default_propagator

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(2)}
checkpoint, generations = sys.argv[1], int(sys.argv[2])
epochs, epoch_seconds, mode = int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
max_eval_seconds = None if sys.argv[6] == "none" else float(sys.argv[6])
time_budget = None if sys.argv[7] == "none" else float(sys.argv[7])


def train(params, comm):
    """Train the epochs not done yet; yield the loss after each."""
    folder = propulate.current_dir()
    done = folder / "epochs"
    start = int(done.read_text()) if done.exists() else 0
    if mode == "stuck" and folder.name.endswith("generation-1"):
        stuck = time.monotonic()
        while time.monotonic() - stuck < 20:  # never yields (bounded, so a broken limit fails
            time.sleep(0.01)  # the test instead of hanging it)
    value = sum(v * v for v in params.values())
    for epoch in range(start, epochs):
        time.sleep(epoch_seconds)
        comm.allreduce(epoch)  # the ranks train each epoch together
        with open(folder / f"trained-{comm.rank}", "a") as trained:
            trained.write(f"{epoch}\n")
        if comm.rank == 0:
            (folder / "epochs.tmp").write_text(str(epoch + 1))
            os.replace(folder / "epochs.tmp", done)
        yield value / (epoch + 1)


def reporting(params, comm):
    """The same training, reporting its values as a framework's callback does."""
    last = None
    for last in train(params, comm):
        if propulate.report_intermediate(last):
            break
    return last


world = MPI.COMM_WORLD
pids = Path(checkpoint) / "pids"
pids.mkdir(parents=True, exist_ok=True)
(pids / str(world.rank)).write_text(str(os.getpid()))
rng = random.Random(world.rank)
islands = Islands(
    reporting if mode == "report" else train,
    get_default_propagator(2 * world.size, LIMITS, rng=rng),
    rng,
    generations=generations,
    checkpoint_path=checkpoint,
    ranks_per_worker=2,
    max_eval_seconds=max_eval_seconds,
    time_budget=time_budget,
)
islands.propulate(logging_interval=0)
print(f"rank {world.rank} finished", flush=True)
