"""What the agreement of a multi-rank worker's ranks costs per intermediate value.

Driver (default): runs a worker of 2 and of 4 ranks under ``mpirun`` and prints a table::

    python benchmarks/worker_agreement.py                    # 2 and 4 ranks, 2000 values
    python benchmarks/worker_agreement.py --ranks 2 --values 5000

All ranks of the job form one worker (:class:`propulate.comm.mpi.MPIWorkerGroup` over
``COMM_WORLD``). Timed on every rank, the median of 5 repeats, per value:

* ``agree us``: one :meth:`~propulate.comm.mpi.MPIWorkerGroup.agree` (an ``MPI_Allreduce`` of
  two integers), wall and CPU time (``time.process_time``; MPICH polls while it waits, so CPU
  is close to wall);
* ``value us``: a generator loss function yielding ``--values`` values through
  :func:`propulate.evaluation.evaluate`, with an interruption check and the time limit, the way
  the loop calls it on a multi-rank worker (``agree``) and on a one-rank worker (none): the
  difference, ``added us``, is what interrupting multi-rank workers adds per intermediate value.

A training's epoch takes seconds to hours: the added microseconds are what matters next to it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _launch import launch, result_line

REPEATS = 5


def worker(values: int) -> None:
    from mpi4py import MPI

    from propulate.comm.mpi import MPIWorkerGroup
    from propulate.evaluation import evaluate
    from propulate.interruption import Circumstances

    group = MPIWorkerGroup(MPI.COMM_WORLD)
    group.share(None)  # makes the private communicator, as a run's first individual does

    def loss(params, comm):
        for step in range(values):
            yield float(step)

    def timed(run) -> tuple[float, float]:
        MPI.COMM_WORLD.Barrier()
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        cpu = time.process_time() - cpu
        return (time.perf_counter() - wall) / values * 1e6, cpu / values * 1e6

    def agreements() -> None:
        for _ in range(values):
            group.agree(0)

    alone = Circumstances(interrupt=lambda: None, max_seconds=1e9)
    together = Circumstances(interrupt=lambda: None, max_seconds=1e9, agree=group.agree)
    rows: dict[str, list[tuple[float, float]]] = {"agree": [], "alone": [], "together": []}
    for _ in range(REPEATS):
        rows["agree"].append(timed(agreements))
        rows["alone"].append(timed(lambda: evaluate(loss, {}, "comm", context=alone)))
        rows["together"].append(timed(lambda: evaluate(loss, {}, "comm", context=together)))
    mine = {name: [statistics.median(t[i] for t in runs) for i in (0, 1)]
            for name, runs in rows.items()}  # fmt: skip
    everyone = MPI.COMM_WORLD.gather(mine)
    if MPI.COMM_WORLD.rank == 0:
        result_line({name: [max(r[name][i] for r in everyone) for i in (0, 1)] for name in mine})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--values", type=int, default=2000)
    parser.add_argument("--mpirun", default="mpirun")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.values)
        return
    print(f"{'ranks':>5} {'agree us (wall/cpu)':>20} {'value us alone':>15} "
          f"{'value us agreeing':>18} {'added us':>9}")  # fmt: skip
    for ranks in args.ranks:
        result = launch(args.mpirun, ranks, sys.executable, __file__,
                        ["--values", str(args.values)], timeout=600)  # fmt: skip
        if result is None:
            print(f"{ranks:>5} failed")
            continue
        agree, alone, together = result["agree"], result["alone"], result["together"]
        print(f"{ranks:>5} {agree[0]:>10.1f}/{agree[1]:<9.1f} {alone[0]:>15.1f} "
              f"{together[0]:>18.1f} {together[0] - alone[0]:>9.1f}")  # fmt: skip
    print("(wall microseconds per value, slowest rank, median of 5 repeats)")


if __name__ == "__main__":
    main()
