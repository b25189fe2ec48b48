"""The floor of the overhead benchmark: the leanest asynchronous island loop Python and MPI allow.

What every asynchronous island optimizer must do per evaluation, and nothing else: absorb the
peers' results (probe until two misses in a row, receive, unpack, insert into a population kept
sorted by loss), breed a child with Propulate 1.2's genetic algorithm (two parents drawn from the
``pop_size`` best, uniform crossover, point and Gaussian mutation, random replacement), evaluate
it, append it to the rank's log (written and flushed, as a checkpoint must be), and post it to
every peer without blocking. At the end a rank posts FINISHED to its peers and absorbs until it
has FINISHED from all of them (messages from one sender arrive in order, so nothing is still on
its way). No checkpoint format, no resume, no deduplication, no learning propagator, no
callbacks: the rate this loop reaches on a machine bounds what any loop with those features can
reach there (``benchmarks/overhead.py --floor``).
"""

from __future__ import annotations

import bisect
import os
import random
import struct
import time
from collections import deque
from collections.abc import Callable
from typing import Any

RESULT, FINISHED = 1, 2


def run_floor(
    loss: Callable[[list[float]], float],
    dimensions: int,
    bounds: tuple[float, float],
    generations: int,
    folder: str,
) -> int:
    """Run the bare loop on ``MPI.COMM_WORLD``; return how many individuals this rank knows.

    Parameters
    ----------
    loss : callable
        The loss of a list of ``dimensions`` floats.
    dimensions : int
        The number of float hyperparameters.
    bounds : tuple of float
        Their common lower and upper limit.
    generations : int
        Evaluations of this rank.
    folder : str
        Where each rank appends its log.
    """
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    rank, size = comm.rank, comm.size
    peers = [peer for peer in range(size) if peer != rank]
    rng = random.Random(rank)
    low, high = bounds
    sigma = 0.05 * (high - low)
    pop_size = 2 * size
    record = struct.Struct(f"<bii{dimensions + 1}d")  # kind, worker, generation, loss, values
    population: list[tuple[float, int, int, list[float]]] = []  # sorted by loss
    in_flight: deque[tuple[Any, bytes]] = deque()  # (request, buffer), oldest first
    finished: set[int] = set()
    status = MPI.Status()
    os.makedirs(folder, exist_ok=True)
    log = open(os.path.join(folder, f"floor-{rank}.log"), "ab")  # noqa: SIM115 (closed below)

    def absorb() -> None:
        misses = 0
        while misses < 2:
            if not comm.Iprobe(source=MPI.ANY_SOURCE, tag=1, status=status):
                misses += 1
                continue
            misses = 0
            buffer = bytearray(status.Get_count(MPI.BYTE))
            comm.Recv([buffer, MPI.BYTE], source=status.Get_source(), tag=1)
            kind, worker, generation, value, *values = record.unpack(buffer)
            if kind == FINISHED:
                finished.add(worker)
            else:
                bisect.insort(population, (value, worker, generation, values))

    def post(data: bytes) -> None:
        for peer in peers:
            in_flight.append((comm.Isend([data, MPI.BYTE], dest=peer, tag=1), data))
        while in_flight and in_flight[0][0].Test():
            in_flight.popleft()

    def breed() -> list[float]:
        if len(population) < pop_size:
            return [rng.uniform(low, high) for _ in range(dimensions)]
        first, second = (p[3] for p in rng.sample(population[:pop_size], 2))
        if rng.random() < 0.7:
            child = [a if rng.random() < 0.5 else b for a, b in zip(first, second, strict=True)]
        else:
            child = list(first)
        if rng.random() < 0.4:
            for i in rng.sample(range(dimensions), rng.randint(1, dimensions)):
                child[i] = rng.uniform(low, high)
        if rng.random() < 0.4:
            child = [min(high, max(low, x + rng.gauss(0.0, sigma))) for x in child]
        if rng.random() < 0.1:
            child = [rng.uniform(low, high) for _ in range(dimensions)]
        return child

    for generation in range(generations):
        absorb()
        child = breed()
        value = loss(child)
        bisect.insort(population, (value, rank, generation, child))
        data = record.pack(RESULT, rank, generation, value, *child)
        log.write(data)
        log.flush()
        post(data)
    post(record.pack(FINISHED, rank, -1, 0.0, *([0.0] * dimensions)))
    while len(finished) < len(peers):
        absorb()
        time.sleep(0.0002)  # as the real loop's shutdown: leave the core to ranks still working
    MPI.Request.Waitall([request for request, _ in in_flight])
    log.close()
    return len(population)
