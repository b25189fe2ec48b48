"""A run in which one rank is set up to fail: python partial_failure.py CKPT FAULT RANK PHASE [OUT].

FAULT is what is wrong on rank RANK once a first run has written the checkpoint:
``readonly-log`` (its log cannot be appended to), ``bad-state`` (its state file is not JSON),
``bad-rng`` (its saved random state has the wrong length), ``loss`` (its loss function raises
a BaseException other than Exception, during the loop). PHASE ``prepare`` runs a short clean
first run; ``run`` breaks the checkpoint as FAULT says, then runs again. With OUT, each rank
writes its output to ``OUT/rank-<rank>.txt`` instead of the job's.
"""

import json
import os
import random
import sys
import time
from pathlib import Path

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(2)}
checkpoint, fault, bad_rank, phase = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
comm = MPI.COMM_WORLD
if len(sys.argv) > 5:
    # Each rank writes to its own file in this folder, line by line: through mpirun, one rank's
    # line can be cut by another's (a traceback's last line is written in pieces).
    sys.stdout = sys.stderr = open(Path(sys.argv[5]) / f"rank-{comm.rank}.txt", "w", buffering=1)


class Crash(BaseException):
    """Not an Exception: the loss-failure policy does not catch it."""


def loss(params):
    time.sleep(0.01)
    if phase == "run" and fault == "loss" and comm.rank == bad_rank:
        raise Crash(f"rank {comm.rank} crashed in the loop")
    return sum(v * v for v in params.values())


if phase == "run" and comm.rank == bad_rank:
    log = checkpoint / f"island-0-rank-{bad_rank}.ckpt"
    state = checkpoint / f"island-0-rank-{bad_rank}.state.json"
    if fault == "readonly-log":
        os.chmod(log, 0o444)
        if os.geteuid() == 0:  # root writes read-only files: fail where the log is opened
            import propulate.checkpoint

            def refuse(path):
                raise PermissionError(13, "Permission denied", str(path))

            propulate.checkpoint.open_for_append = refuse
    elif fault == "bad-state":
        state.write_text("this is not JSON")
    elif fault == "bad-rng":
        data = json.loads(state.read_text())
        data["rngs"][0][1] = data["rngs"][0][1][:10]
        state.write_text(json.dumps(data))
comm.Barrier()

rng = random.Random(comm.rank)
propulator = Propulator(
    loss,
    get_default_propagator(2 * comm.size, LIMITS, rng=rng),
    rng,
    island_comm=comm,
    generations=10 if phase == "prepare" else 100000,
    checkpoint_path=checkpoint,
    time_budget=None if phase == "prepare" else 600,
)
propulator.propulate(logging_interval=0)
print(f"rank {comm.rank} finished with {len(propulator.population)} individuals", flush=True)
