"""PSO, CMA-ES and Nelder-Mead in the real Propulator loop (ranks as threads, in-memory transport).

Unlike the in-process driver of the unit tests, results arrive here truly asynchronously: a rank
breeds from whatever it has received so far.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from propulate.checkpoint import log_files, read_log
from propulate.propagators import (
    ActiveCMA,
    BasicCMA,
    BasicPSO,
    CMAPropagator,
    ConstrictionPSO,
    ParallelNelderMead,
    Propagator,
)
from propulate.testing import LocalIsland

from .local_run import local_island

LIMITS = {"a": (-5.12, 5.12), "b": (-5.12, 5.12)}
START = np.array([3.0, -2.0])


def sphere(params: Any) -> float:
    return float(sum(float(v) ** 2 for v in params.values()))


Factory = Callable[[int, random.Random], Propagator]

STRATEGIES: dict[str, Factory] = {
    "BasicPSO": lambda rank, rng: BasicPSO(0.729, 1.49445, 1.49445, rank, LIMITS, rng),
    "ConstrictionPSO": lambda rank, rng: ConstrictionPSO(2.05, 2.05, rank, LIMITS, rng),
    "BasicCMA": lambda rank, rng: CMAPropagator(BasicCMA(), LIMITS, rng=rng),
    "ActiveCMA": lambda rank, rng: CMAPropagator(ActiveCMA(), LIMITS, rng=rng),
    "ParallelNelderMead": lambda rank, rng: ParallelNelderMead(LIMITS, rng, START),
}


def make_propulators(
    size: int, checkpoint: Path, factory: Factory, generations: int, seed: int = 0
) -> LocalIsland:
    return local_island(size, checkpoint, factory, generations, seed, sphere)


# Budget: 300 evaluations in all; random search reaches a median of about 8e-2 with as many. PSO
# needs several particles, so it runs on 4 ranks only. Threads under the GIL run in bursts (one
# rank may evaluate 40 times before the others get to run), which a strategy sees as very uneven
# arrival of results; CMA-ES on 4 threads then updates each distribution fewer times than on
# 4 processes. Measured over 10 seeds (median / max): BasicPSO 4e-7 / 3e-4, ConstrictionPSO
# 2e-7 / 2e-5, CMA on 1 rank 4e-13 / 6e-12, on 4 ranks 3e-6 / 7e-5, Nelder-Mead on 1 rank
# 1e-17 / 2e-17, on 4 ranks 4e-13 / 2e-9. On 1 rank the bounds are on the median and the worst
# of 3 seeds. On 4 threads a burst can starve one seed's search (seen in CI: one PSO seed at 0.41
# while the others reached 1e-5), so there only the median is bounded, of 15 seeds: the median
# of 3 failed about one time in ten for PSO (two of three seeds above 1e-4 in one CI run; each
# run is above it about one time in eight). Five repeats of 15 seeds (2026-12-03): medians
# ConstrictionPSO 8e-7 to 2e-6, BasicPSO 1e-7 to 4e-6, CMA 6e-13 to 2e-11, Nelder-Mead 4e-13
# to 6e-12. The MPI tests bound every run.
CASES = [
    ("BasicPSO", 4, 1e-4, None),
    ("ConstrictionPSO", 4, 1e-4, None),
    ("BasicCMA", 1, 1e-10, 1e-9),
    ("BasicCMA", 4, 1e-4, None),
    ("ActiveCMA", 1, 1e-10, 1e-9),
    ("ActiveCMA", 4, 1e-4, None),
    ("ParallelNelderMead", 1, 1e-14, 1e-12),
    ("ParallelNelderMead", 4, 1e-8, None),
]


@pytest.mark.parametrize(("name", "size", "median_bound", "max_bound"), CASES)
def test_strategy_minimizes_the_sphere_in_the_real_loop(
    name, size, median_bound, max_bound, tmp_path
):
    results = []
    for seed in range(3 if size == 1 else 15):
        propulators = make_propulators(
            size, tmp_path / str(seed), STRATEGIES[name], 300 // size, seed
        ).run_threads()
        results.append(propulators[0].best(1)[0].loss)
        assert len(propulators[0].population) == 300
    assert float(np.median(results)) < median_bound, results
    if max_bound is not None:
        assert max(results) < max_bound, results


def test_particles_keep_their_velocity_through_checkpoint_and_resume(tmp_path):
    make_propulators(2, tmp_path, STRATEGIES["BasicPSO"], 20).run_threads()
    stored = [ind for path in log_files(tmp_path) for ind in read_log(path)[1]]
    assert len(stored) == 40 and all(ind.velocity is not None for ind in stored)
    island = make_propulators(2, tmp_path, STRATEGIES["BasicPSO"], 30)
    resumed = island.propulators
    population = resumed[0].population
    assert len(population) == 40 and all(ind.velocity is not None for ind in population)
    latest = max((ind for ind in population if ind.rank == 0), key=lambda ind: ind.generation)
    child = resumed[0].propagator(population)
    # The first move after the resume continues rank 0's particle: inertia carries its velocity.
    assert not np.allclose(child.velocity, 0.0) and latest.velocity is not None
    island.run_threads()
    assert len(resumed[0].population) == 60


@pytest.mark.parametrize("name", ["ActiveCMA", "ParallelNelderMead"])
def test_a_resumed_run_restores_the_strategy_state(name, tmp_path):
    first = make_propulators(2, tmp_path, STRATEGIES[name], 40).run_threads()
    saved = [json.loads(json.dumps(p.propagator.get_state())) for p in first]
    island = make_propulators(2, tmp_path, STRATEGIES[name], 80)
    resumed = island.propulators
    for p, state in zip(resumed, saved, strict=True):
        assert p.propagator.get_state() != state  # a fresh propagator
        assert len(p.population) == 80  # loading the checkpoint also restores the state
        assert json.loads(json.dumps(p.propagator.get_state())) == state
    island.run_threads()
    assert min(ind.loss for ind in resumed[0].population) < 1e-3
