"""Run several Propulators in threads over the in-memory transport (see propulate.testing)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from propulate import Propulator
from propulate.comm.local import LocalNetwork
from propulate.testing import LocalIsland
from propulate.utils import get_default_propagator

LIMITS_3D = {"a": (-5.0, 5.0), "b": (-5.0, 5.0), "c": (-5.0, 5.0)}


def sphere(params: Any) -> float:
    return sum(float(v) ** 2 for v in params.values())


def run_local(
    size: int,
    checkpoint: Path,
    loss_fn: Callable[..., Any] = sphere,
    generations: int = 20,
    limits: dict | None = None,
    seed: int = 0,
    timeout: float = 60.0,
    make_propagator: Callable[[int, random.Random], Any] | None = None,
    **kwargs: Any,
) -> list[Propulator]:
    """Run ``size`` ranks to completion; re-raise the first exception of any rank.

    Each rank gets ``make_propagator(rank, rng)``, by default the default propagator, and the
    same ``rng`` (``random.Random(1000 * seed + rank)``) as its Propulator.
    """
    if make_propagator is None:
        pop_size, space = max(2, 2 * size), limits or LIMITS_3D

        def make_propagator(rank: int, rng: random.Random) -> Any:
            return get_default_propagator(pop_size, space, rng=rng)

    island = local_island(size, checkpoint, make_propagator, generations, seed, loss_fn, **kwargs)
    return island.run_threads(timeout)


def local_island(
    size: int,
    checkpoint: Path,
    make_propagator: Callable[[int, random.Random], Any],
    generations: int,
    seed: int = 0,
    loss_fn: Callable[..., Any] = sphere,
    **kwargs: Any,
) -> LocalIsland:
    """``size`` ranks, rank ``r`` with ``make_propagator(r, rng)`` and the same ``rng``."""
    rngs = [random.Random(seed * 1000 + rank) for rank in range(size)]
    propagators = [make_propagator(rank, rng) for rank, rng in enumerate(rngs)]
    return LocalIsland(loss_fn, propagators, checkpoint, generations, seed, rngs, **kwargs)


def one_propulator(
    checkpoint: Path,
    rank: int = 0,
    transport: Any = None,
    generations: int = 12,
    seed: int | None = None,
    **kwargs: Any,
) -> Propulator:
    """A Propulator of the default propagator on ``LIMITS_3D`` (one rank unless ``transport``).

    Its generator, ``random.Random(seed)`` (default: the rank), is its propagator's too.
    """
    transport = transport if transport is not None else LocalNetwork(1).transport(0)
    rng = random.Random(rank if seed is None else seed)
    return Propulator(
        sphere,
        get_default_propagator(4, LIMITS_3D, rng=rng),
        rng,
        generations=generations,
        checkpoint_path=checkpoint,
        transport=transport,
        collectives=transport,
        rank=rank,
        **kwargs,
    )
