"""Run several Propulators in threads over the in-memory transport."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from propulate import Propulator
from propulate.comm.local import LocalNetwork
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

    Each rank gets ``make_propagator(rank, rng)``, by default the default propagator.
    """
    limits = limits or LIMITS_3D
    network = LocalNetwork(size)
    propulators = []
    for rank in range(size):
        rng = random.Random(seed * 1000 + rank)
        if make_propagator is None:
            propagator = get_default_propagator(max(2, 2 * size), limits, rng=rng)
        else:
            propagator = make_propagator(rank, rng)
        transport = network.transport(rank)
        propulators.append(
            Propulator(
                loss_fn,
                propagator,
                rng,
                generations=generations,
                checkpoint_path=checkpoint,
                transport=transport,
                collectives=transport,
                rank=rank,
                **kwargs,
            )
        )
    errors: list[BaseException] = []

    def work(p: Propulator) -> None:
        try:
            p.propulate(logging_interval=0)
        except BaseException as error:  # noqa: BLE001  # handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(p,), daemon=True) for p in propulators]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a rank did not finish: the loop hangs"
    if errors:
        raise errors[0]
    return propulators
