"""Ask and tell: evaluations that are no Python call, four of them in flight on every rank.

Each evaluation runs a separate program (here a tiny Python one; in a real job a simulation
started with ``srun``), so the loss is not a function Propulate could call. Every rank asks
for individuals, starts a program for each, and tells the results as the programs end. Run it
with ``mpirun -n 4 python ask_and_tell.py [checkpoint]``, or on one process without ``mpirun``;
run it again and it resumes (here: finds nothing left to do).
"""

import random
import subprocess
import sys
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from mpi4py import MPI

from propulate import Propulator
from propulate.utils import get_default_propagator

IN_FLIGHT = 4  # simulations running at once on every rank
SIMULATION = "import sys; x, y = map(float, sys.argv[1:]); print((x - 1) ** 2 + (y + 2) ** 2)"


def simulate(params):
    """Run the 'simulation' as a program of its own and read the loss from its output."""
    command = [sys.executable, "-c", SIMULATION, str(params["x"]), str(params["y"])]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return float(done.stdout)


limits = {"x": (-5.0, 5.0), "y": (-5.0, 5.0)}
comm = MPI.COMM_WORLD
checkpoint = sys.argv[1] if len(sys.argv) > 1 else "ckpt-ask-and-tell"
rng = random.Random(comm.rank)
propulator = Propulator(
    simulate,  # not called by ask and tell; propulator.propulate() would call it
    get_default_propagator(pop_size=8, limits=limits, rng=rng),
    rng,
    island_comm=comm,
    generations=24,  # individuals asked for per rank, counting earlier runs
    checkpoint_path=checkpoint,
)
with propulator, ThreadPoolExecutor(IN_FLIGHT) as pool:  # leaving it finishes the run cleanly
    running = {}
    while True:
        while len(running) < IN_FLIGHT and (ind := propulator.ask()) is not None:
            running[pool.submit(simulate, ind)] = ind
        if not running:
            break  # everything asked for was told
        finished, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
        propulator.absorb()  # take in the other ranks' results while waiting
        for future in finished:
            ind = running.pop(future)
            try:
                propulator.tell(ind, future.result())
            except (subprocess.SubprocessError, ValueError) as error:
                propulator.tell(ind, None, status="failed", error=str(error))
best = propulator.summarize_islands(top_n=1, debug=0)[0][0]
if comm.rank == 0:
    print(f"best: x={best['x']:.3f}, y={best['y']:.3f}, loss={best.loss:.3g}")
