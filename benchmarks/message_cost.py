"""What results cost to send and to absorb: CPU time per message, per rank, 2 to 64 ranks.

Driver (default): runs every size and kind of evaluation under ``mpirun`` and prints a table::

    python benchmarks/message_cost.py                      # 2 4 8 16 32 64 ranks, us and sleep
    python benchmarks/message_cost.py --ranks 2 4 --kinds sleep --generations 20

Every rank of one island runs the real loop (``Propulator.propulate`` with the default
propagator on a 10-d sphere). The paths a result takes are timed with ``time.process_time``
(the CPU time of the rank, so a rank descheduled on oversubscribed cores does not count the
other ranks' turns) by wrapping, in this script only, the functions the loop calls:

* **send**, once per result this rank bred: ``encode_result`` (the record), ``Peers.post_to_island``
  (one non-blocking send to each of the ``W - 1`` peers) and ``Peers.pending_sends`` (freeing the
  completed sends);
* **absorb**, once per result a peer bred: ``MPITransport.poll`` (probing and receiving, the
  probes that find nothing included), ``decode_individual_message`` and
  ``Knowledge.merge_result`` (into the population, and told to the propagator's learning
  stages).

Both are timed inside the loop only (``start``, then ``step`` until it returns ``None``); the
shutdown, where a rank waits for the slowest one, is not timed, and absorbed results are those
merged inside the loop.

Kinds of evaluation: ``us``, the sphere itself (microseconds: the loop does little else than
messaging and breeding), and ``sleep``, the sphere after ``time.sleep(--sleep)`` (a rank idles
as it would while training; with more ranks than cores the sleeping ranks leave the cores to
the others). The machine here has 2 cores, so 64 ranks are oversubscribed 32 times: the table
reports CPU time per message, which the oversubscription barely changes, not throughput.

Columns: ``send us`` (CPU per result sent, to all peers together) and ``per peer`` (divided by
``W - 1``); ``absorb us`` (CPU per result received); ``comm share``, the CPU time of sending and
absorbing over the rank's wall time from its first to its last evaluation (mean over ranks), and
``of CPU``, the same over the rank's CPU time in that span.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _launch import launch, result_line

DIMENSIONS = 10


class Meter:
    """CPU seconds and calls per path, and the number of results each path handled."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.on = False
        self.messages = 0
        self.depth = 0

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` timed into ``name`` (while :attr:`on`)."""
        clock = time.process_time
        self.cpu.setdefault(name, 0.0)
        self.calls.setdefault(name, 0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on or self.depth:  # a call inside a timed one is counted there
                return function(*args, **kwargs)
            self.depth += 1
            begin = clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.cpu[name] += clock() - begin
                self.calls[name] += 1
                self.depth -= 1

        return timed


def instrument(meter: Meter) -> None:
    """Wrap the send and absorb paths of the loop (in this process only)."""
    from propulate import knowledge, peers, run
    from propulate.comm import mpi

    paths = [
        (run, "encode_result", "encode"),
        (peers.Peers, "post_result", "post"),  # posts at once, or keeps for a batch
        (peers.Peers, "flush_if_due", "post"),  # a due batch found by absorb
        (peers.Peers, "pending_sends", "free"),
        (mpi.MPITransport, "poll", "receive"),
        (run, "decode_individual_message", "decode"),
        (run, "records_of_batch", "decode"),
        (run, "decode_individual", "decode"),  # a record of a batch
        (knowledge.Knowledge, "merge_result", "merge"),
    ]
    for owner, attribute, name in paths:
        setattr(owner, attribute, meter.wrap(name, getattr(owner, attribute)))
    # Messages actually posted (a batch is one message per peer, like a single result).
    original = peers.Peers._post_to_island

    def counted(self: Any, data: bytes) -> None:
        meter.messages += len(self.island_peers)
        original(self, data)

    peers.Peers._post_to_island = counted  # type: ignore[method-assign]


def worker(kind: str, generations: int, sleep: float, batch: float, checkpoint: str) -> None:
    """One rank's run (under mpirun); rank 0 prints a JSON line with the measurements."""
    import logging
    import random

    from mpi4py import MPI

    from propulate import Propulator
    from propulate.utils import get_default_propagator

    logging.getLogger("propulate").setLevel(logging.WARNING)
    meter = Meter()
    instrument(meter)
    comm = MPI.COMM_WORLD
    limits = {f"x{i}": (-5.12, 5.12) for i in range(DIMENSIONS)}
    span: list[float] = []  # wall and CPU time at the first evaluation, then at the last one

    def loss(params: Any) -> float:
        if not span:
            span.extend((time.perf_counter(), time.process_time()))
        if kind == "sleep":
            time.sleep(sleep)
        value = sum(float(params[k]) ** 2 for k in limits)
        span[2:] = [time.perf_counter(), time.process_time()]
        return value

    rng = random.Random(comm.rank)
    propagator = get_default_propagator(2 * comm.size, limits, rng=rng)
    propulator = Propulator(loss, propagator, rng=rng, island_comm=comm,
                            generations=generations, checkpoint_path=checkpoint,
                            batch_seconds=batch)  # fmt: skip
    comm.Barrier()
    propulator.start(logging_interval=10**9, debug=0)
    meter.on = True
    while propulator.step() is not None:
        pass
    # The shutdown (waiting for the slowest rank) is no part of the cost per message.
    meter.on = False
    propulator.finish()
    received = meter.calls["merge"]  # the peers' results absorbed inside the loop
    wall, cpu = span[2] - span[0], span[3] - span[1]
    mine = (dict(meter.cpu), dict(meter.calls), received, wall, cpu, meter.messages)
    results = comm.gather(mine, root=0)
    if comm.rank == 0:
        summarize(results, kind, generations, comm.size)


def summarize(results: list[Any], kind: str, generations: int, size: int) -> None:
    """Print rank 0's JSON line from every rank's measurements."""
    cpus, _, received, walls, cpu_spans, messages = zip(*results, strict=True)
    send = sum(c["encode"] + c["post"] + c["free"] for c in cpus)
    absorb = sum(c["receive"] + c["decode"] + c["merge"] for c in cpus)
    sent_results = generations * size
    absorbed = sum(received)
    shares, cpu_shares = [], []
    for c, wall, cpu in zip(cpus, walls, cpu_spans, strict=True):
        spent = sum(c[name] for name in ("encode", "post", "free", "receive", "decode", "merge"))
        shares.append(spent / max(wall, 1e-9))
        cpu_shares.append(spent / max(cpu, 1e-9))
    line = {
        "kind": kind,
        "ranks": size,
        "results": sent_results,
        "send_us": 1e6 * send / sent_results,
        "send_per_peer_us": 1e6 * send / sent_results / max(size - 1, 1),
        "absorb_us": 1e6 * absorb / max(absorbed, 1),
        "receive_us": 1e6 * sum(c["receive"] for c in cpus) / max(absorbed, 1),
        "merge_us": 1e6 * sum(c["merge"] for c in cpus) / max(absorbed, 1),
        "share": statistics.fmean(shares),
        "cpu_share": statistics.fmean(cpu_shares),
        "results_per_message": sent_results * max(size - 1, 1) / max(sum(messages), 1),
    }
    result_line(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    parser.add_argument("--kinds", nargs="+", default=["us", "sleep"], choices=["us", "sleep"])
    parser.add_argument("--generations", type=int, default=40, help="per rank")
    parser.add_argument("--sleep", type=float, default=0.02, help="seconds (kind 'sleep')")
    parser.add_argument("--batch-seconds", type=float, nargs="+", default=[0.0],
                        help="Propulator's batch_seconds; several: one row each")  # fmt: skip
    parser.add_argument("--mpirun", default=shutil.which("mpirun") or "mpirun")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.generations, args.sleep, args.batch_seconds[0], args.checkpoint)
        return
    print(f"{args.generations} generations per rank; sleep {args.sleep * 1e3:g} ms for 'sleep'")
    print(f"{'kind':>5} {'ranks':>5} {'batch s':>7} {'per msg':>7} {'results':>7} {'send us':>8} "
          f"{'per peer':>8} {'absorb us':>9} {'(receive':>8} {'merge)':>7} {'comm share':>10} "
          f"{'of CPU':>7}")  # fmt: skip
    for kind in args.kinds:
        for ranks in args.ranks:
            for batch in args.batch_seconds:
                arguments = [kind, "--generations", str(args.generations)]
                arguments += ["--sleep", str(args.sleep), "--batch-seconds", str(batch)]
                result = launch(args.mpirun, ranks, sys.executable, __file__, arguments,
                                timeout=args.timeout, prefix="propulate-messages-")  # fmt: skip
                if result is None:
                    print(f"{kind:>5} {ranks:>5} {batch:>7g}  failed or timed out")
                    continue
                print(f"{kind:>5} {ranks:>5} {batch:>7g} {result['results_per_message']:>7.1f} "
                      f"{result['results']:>7} {result['send_us']:>8.0f} "
                      f"{result['send_per_peer_us']:>8.1f} {result['absorb_us']:>9.1f} "
                      f"{result['receive_us']:>8.1f} {result['merge_us']:>7.1f} "
                      f"{100 * result['share']:>9.2f}% {100 * result['cpu_share']:>6.1f}%",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
