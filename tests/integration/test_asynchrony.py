"""The claim the loop is built on: a slow rank never stalls the others.

Proven able to fail: with a barrier per generation added to the loop (temporarily, through
``LocalTransport.barrier()`` after every ``tell``), the fast ranks block in their first
barrier, the slow rank's event times out, and this test fails with "stalled".
"""

from __future__ import annotations

import random
import threading

from propulate.testing import LocalIsland
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, sphere

GENERATIONS = 15
PATIENCE = 10.0  # seconds the slow rank waits for the others before the test gives up


def test_a_slow_rank_never_stalls_the_others(tmp_path):
    others_done = {rank: threading.Event() for rank in (1, 2)}
    stalled: list[str] = []
    seen_by_the_fast: dict[int, int] = {}

    def loss(params):
        if params.rank == 0 and params.generation == 0:
            # The slow rank's first evaluation ends only once every other rank has evaluated
            # all of its generations, which they can do only if nothing waits for this one.
            for rank, done in others_done.items():
                if not done.wait(PATIENCE):
                    stalled.append(f"rank {rank} stalled while rank 0 evaluated")
        elif params.rank != 0 and params.generation == GENERATIONS - 1:
            seen_by_the_fast[params.rank] = len(island.propulators[params.rank].population)
            others_done[params.rank].set()
        return sphere(params)

    rngs = [random.Random(rank) for rank in range(3)]
    propagators = [get_default_propagator(4, LIMITS_3D, rng=rng) for rng in rngs]
    island = LocalIsland(loss, propagators, tmp_path, GENERATIONS, rngs=rngs)
    island.run_threads(timeout=6 * PATIENCE)
    assert not stalled, stalled
    # The fast ranks finished their generations knowing nothing of rank 0, still evaluating...
    assert all(count <= 2 * GENERATIONS - 1 for count in seen_by_the_fast.values())
    # ... and at the end every rank knows everything, rank 0's late results included.
    expected = {(rank, g) for rank in range(3) for g in range(GENERATIONS)}
    assert all({ind.key for ind in p.population} == expected for p in island.propulators)
