"""``Migrator`` and ``Pollinator``: the Propulator with a migration policy (1.2's public names)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .migration import Pollination, RealMigration
from .propagators.base import Propagator, SelectMax, SelectMin
from .propulator import Propulator

__all__ = ["Migrator", "Pollinator"]


class Migrator(Propulator):
    """A Propulator whose individuals migrate between islands (see :class:`RealMigration`).

    Parameters are those of :class:`Propulator`; ``migration_topology``, ``migration_prob``,
    ``emigration_propagator``, ``island_displs`` and ``island_counts`` configure the migration.
    Further keyword arguments go to :class:`Propulator`.
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        propagator: Propagator,
        rng: random.Random | None = None,
        island_idx: int = 0,
        island_comm: Any = None,
        propulate_comm: Any = None,
        worker_sub_comm: Any = None,
        generations: int = -1,
        checkpoint_path: str | Path = Path("./"),
        migration_topology: Any = None,
        migration_prob: float = 0.0,
        emigration_propagator: type[Propagator] = SelectMin,
        island_displs: Any = None,
        island_counts: Any = None,
        surrogate_factory: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        policy = RealMigration(
            _topology(migration_topology, island_counts), migration_prob, emigration_propagator
        )
        super().__init__(
            loss_fn, propagator, rng, island_idx, island_comm, propulate_comm, worker_sub_comm,
            generations, checkpoint_path, migration_topology, migration_prob,
            emigration_propagator, island_displs, island_counts, surrogate_factory,
            migration_policy=policy, **kwargs,
        )  # fmt: skip


class Pollinator(Propulator):
    """A Propulator that sends copies between islands (see :class:`Pollination`).

    Parameters are those of :class:`Migrator`, plus ``immigration_propagator``, which chooses the
    individual each arriving copy replaces.
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        propagator: Propagator,
        rng: random.Random | None = None,
        island_idx: int = 0,
        island_comm: Any = None,
        propulate_comm: Any = None,
        worker_sub_comm: Any = None,
        generations: int = -1,
        checkpoint_path: str | Path = Path("./"),
        migration_topology: Any = None,
        migration_prob: float = 0.0,
        emigration_propagator: type[Propagator] = SelectMin,
        immigration_propagator: type[Propagator] = SelectMax,
        island_displs: Any = None,
        island_counts: Any = None,
        surrogate_factory: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        policy = Pollination(
            _topology(migration_topology, island_counts),
            migration_prob,
            emigration_propagator,
            immigration_propagator,
        )
        super().__init__(
            loss_fn, propagator, rng, island_idx, island_comm, propulate_comm, worker_sub_comm,
            generations, checkpoint_path, migration_topology, migration_prob,
            emigration_propagator, island_displs, island_counts, surrogate_factory,
            migration_policy=policy, **kwargs,
        )  # fmt: skip
        self.immigration_propagator = immigration_propagator


def _topology(topology: Any, island_counts: Any) -> Any:
    if topology is not None:
        return topology
    islands = 1 if island_counts is None else len(island_counts)
    return [[0 if i == j else 1 for j in range(islands)] for i in range(islands)]
