"""``Migrator`` and ``Pollinator``: the Propulator with a migration policy (1.2's public names)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .migration import Pollination, RealMigration
from .propagators.base import Propagator
from .propagators.operators import SelectMax, SelectMin
from .propulator import Propulator
from .validation import check_matrix, check_probability

__all__ = ["Migrator", "Pollinator"]


class Migrator(Propulator):
    """A Propulator whose individuals migrate between islands (see :class:`RealMigration`).

    Parameters are those of :class:`Propulator`; ``migration_topology``, ``migration_prob``,
    ``emigration_propagator``, ``island_displs`` and ``island_counts`` configure the migration.
    Further keyword arguments go to :class:`Propulator`.

    Raises
    ------
    ConfigurationError
        If ``migration_prob`` is no probability, or ``migration_topology`` is not an
        islands x islands matrix of non-negative ints with a zero diagonal.
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
            _topology("Migrator", migration_topology, island_counts),
            check_probability("Migrator", "migration_prob", migration_prob),
            emigration_propagator,
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

    Raises
    ------
    ConfigurationError
        As :class:`Migrator`.
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
            _topology("Pollinator", migration_topology, island_counts),
            check_probability("Pollinator", "migration_prob", migration_prob),
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


def _topology(owner: str, topology: Any, island_counts: Any) -> tuple[tuple[int, ...], ...]:
    """The checked topology; by default every island sends one individual to every other."""
    islands = 1 if island_counts is None else len(island_counts)
    if topology is None:
        topology = [[0 if i == j else 1 for j in range(islands)] for i in range(islands)]
    return check_matrix(owner, "migration_topology", topology, islands)
