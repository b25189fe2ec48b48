"""Islands: several populations evolving side by side, exchanging individuals now and then.

:func:`plan_islands` checks the configuration and lays out workers and islands without any
communication, so every rank raises the same clear error before anything starts.
:class:`Islands` then splits the communicators and builds this rank's
:class:`~propulate.Propulator`, :class:`~propulate.Migrator` or :class:`~propulate.Pollinator`.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .callbacks.base import Callback
from .errors import ConfigurationError
from .failures import check_loss_signature
from .migrator import Migrator, Pollinator
from .objectives import Objectives
from .population import Individual
from .propagators.base import Propagator
from .propagators.constraints import check_constraints
from .propagators.operators import SelectMax, SelectMin
from .propulator import Propulator
from .run_settings import check_total_evaluations
from .seeding import check_head_arguments
from .validation import (
    check_callable,
    check_int,
    check_matrix,
    check_probability,
    check_rng,
    fail,
)

__all__ = ["Islands", "IslandPlan", "plan_islands"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IslandPlan:
    """Where every worker lives.

    Attributes
    ----------
    ranks_per_worker : int
        Ranks per worker.
    sizes : tuple of int
        Workers per island.
    displs : tuple of int
        The first worker of each island (islands are consecutive blocks of workers).
    topology : tuple of tuple of int
        ``topology[i][j]``: how many individuals island ``i`` sends to island ``j``.
    """

    ranks_per_worker: int
    sizes: tuple[int, ...]
    displs: tuple[int, ...]
    topology: tuple[tuple[int, ...], ...]

    @property
    def num_workers(self) -> int:
        """The number of workers."""
        return sum(self.sizes)

    def island_of_worker(self) -> list[int]:
        """The island of each worker, in worker order."""
        return [island for island, size in enumerate(self.sizes) for _ in range(size)]


def plan_islands(
    world_size: int,
    num_islands: int = 1,
    island_sizes: Sequence[int] | None = None,
    migration_topology: Any = None,
    migration_probability: float = 0.0,
    ranks_per_worker: int = 1,
) -> IslandPlan:
    """Validate an island configuration and lay it out (pure: no communication).

    Parameters
    ----------
    world_size : int
        The number of ranks of the run.
    num_islands : int
        The number of islands of (nearly) equal size; ignored when ``island_sizes`` is given.
    island_sizes : sequence of int, optional
        Workers per island; must add up to the number of workers.
    migration_topology : array-like, optional
        A ``num_islands x num_islands`` matrix of non-negative ints (zero diagonal);
        default: every island sends one individual to every other.
    migration_probability : float
        The probability, in [0, 1], that a worker sends migrants after a generation.
    ranks_per_worker : int
        Ranks that evaluate one individual together.

    Returns
    -------
    IslandPlan
        The layout.

    Raises
    ------
    ConfigurationError
        If any of the above is inconsistent; the message says how to fix it.
    """
    owner = "Islands"
    world_size = check_int(owner, "world_size", world_size, 1, example=4)
    ranks_per_worker = check_int(owner, "ranks_per_worker", ranks_per_worker, 1, example=1)
    if world_size % ranks_per_worker:
        raise ConfigurationError(
            f"{world_size} ranks cannot form workers of ranks_per_worker={ranks_per_worker}; "
            f"launch a multiple of {ranks_per_worker} ranks (e.g. mpirun -n "
            f"{ranks_per_worker * max(1, world_size // ranks_per_worker)})."
        )
    workers = world_size // ranks_per_worker
    check_probability(owner, "migration_probability", migration_probability)
    if island_sizes is not None:
        try:
            given = list(island_sizes)
        except TypeError:
            given = []
        if not given:
            fail(owner, "island_sizes", island_sizes, "a list of workers per island", [workers])
        sizes = tuple(
            check_int(owner, f"island_sizes[{i}]", size, 1, example=1)
            for i, size in enumerate(given)
        )
        if sum(sizes) != workers:
            raise ConfigurationError(
                f"island_sizes={list(sizes)} add up to {sum(sizes)} workers, but the run has "
                f"{workers} ({world_size} ranks / ranks_per_worker={ranks_per_worker}); make them "
                f"add up to {workers}."
            )
    else:
        num_islands = check_int(owner, "num_islands", num_islands, 1, example=2)
        if num_islands > workers and migration_topology is not None:
            raise ConfigurationError(
                f"num_islands={num_islands} is more than the {workers} worker(s) of this run; "
                f"every island needs a worker: use at most {workers} islands or more ranks."
            )
        if num_islands > workers:
            # Propulate 1.2 ran such a job with empty islands (its test suite does, serially).
            warnings.warn(
                f"Islands: num_islands={num_islands} is more than the {workers} worker(s) of "
                f"this run; running {workers} island(s) of one worker each. Launch more ranks "
                "for more islands.",
                UserWarning,
                stacklevel=3,
            )
            num_islands = workers
        base, extra = divmod(workers, num_islands)
        sizes = tuple(base + (1 if island < extra else 0) for island in range(num_islands))
    count = len(sizes)
    if migration_topology is None:
        topology = tuple(tuple(0 if i == j else 1 for j in range(count)) for i in range(count))
    else:
        topology = check_matrix(owner, "migration_topology", migration_topology, count)
    displs = tuple(sum(sizes[:island]) for island in range(count))
    return IslandPlan(ranks_per_worker, sizes, displs, topology)


class Islands:
    """Run the optimization on several islands, with migration or pollination between them.

    The constructor is collective (every rank calls it): it validates the configuration, then
    splits ``MPI.COMM_WORLD`` into workers and islands, because Propulate 1.2 scripts expect
    ``islands.propulator`` right after construction.

    Parameters
    ----------
    loss_fn : callable
        The loss function; with ``ranks_per_worker > 1`` it is called as ``loss_fn(params, comm)``
        on every rank of a worker, with the worker's communicator.
    propagator : Propagator
        Breeds children (from each island's own population).
    rng : random.Random
        This rank's random number generator.
    generations : int
        Evaluations per worker; left at its default when ``total_evaluations`` (a keyword for
        :class:`Propulator`) bounds each island's evaluations instead.
    num_islands : int
        The number of islands of (nearly) equal size.
    island_sizes : sequence of int, optional
        Workers per island (overrides ``num_islands``).
    migration_topology : array-like, optional
        ``migration_topology[i][j]``: how many individuals island ``i`` sends to ``j`` each time.
    migration_probability : float
        The probability that a worker sends migrants after a generation.
    emigration_propagator : type of Propagator
        Chooses who leaves (called as ``emigration_propagator(count)(candidates)``).
    immigration_propagator : type of Propagator
        With pollination, chooses who is replaced by an arriving copy.
    pollination : bool
        Send copies (``True``) or move individuals (``False``).
    checkpoint_path : str or Path
        The checkpoint folder (one log per island and rank).
    ranks_per_worker : int
        Ranks that evaluate one individual together.
    surrogate_factory : callable, optional
        Makes each rank's :class:`~propulate.Surrogate` for early stopping (see
        :mod:`propulate.surrogate`).
    world : MPI.Comm, optional
        The communicator to split (default ``MPI.COMM_WORLD``).
    callbacks : list of Callback, optional
        Told of every result of an island, on the island's first worker (one tracker run per
        island); see :mod:`propulate.callbacks`.
    **kwargs
        Further keyword arguments for :class:`Propulator` (e.g. ``time_budget``,
        ``constraints``, ``seeds``, ``warm_start``, or ``objectives`` to declare several
        objectives, see :mod:`propulate.objectives`).
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        propagator: Propagator,
        rng: random.Random | None = None,
        generations: int = 0,
        num_islands: int = 1,
        island_sizes: Sequence[int] | None = None,
        migration_topology: Any = None,
        migration_probability: float = 0.0,
        emigration_propagator: type[Propagator] = SelectMin,
        immigration_propagator: type[Propagator] = SelectMax,
        pollination: bool = True,
        checkpoint_path: str | Path = Path("./"),
        ranks_per_worker: int = 1,
        surrogate_factory: Callable[[], Any] | None = None,
        world: Any = None,
        callbacks: Sequence[Callback] | None = None,
        **kwargs: Any,
    ) -> None:
        from .comm import mpi  # deferred: constructing islands is an MPI operation
        from .comm.topology import split_world

        # Checked before the communicators are split, so every rank raises the same error.
        check_callable("Islands", "loss_fn", loss_fn, "lambda params: params['x'] ** 2")
        check_rng("Islands", "rng", rng)
        check_loss_signature("Islands", loss_fn, ranks_per_worker > 1)
        if kwargs.get("total_evaluations") is not None and generations == 0:
            generations = -1  # the default 0 means "not given" beside an island budget
        check_total_evaluations("Islands", kwargs.get("total_evaluations"), generations)
        check_constraints("Islands", kwargs.get("constraints"))
        check_head_arguments("Islands", propagator, kwargs.get("seeds"), kwargs.get("warm_start"))
        Objectives.parse("Islands", kwargs.get("objectives"))
        world = world if world is not None else mpi.world()
        self.plan = plan_islands(
            world.Get_size(),
            num_islands,
            island_sizes,
            migration_topology,
            migration_probability,
            ranks_per_worker,
        )
        comms = split_world(world, ranks_per_worker, self.plan.island_of_worker())
        worker_index = world.Get_rank() // ranks_per_worker
        self.island_idx = self.plan.island_of_worker()[worker_index]
        self.comms = comms
        common: dict[str, Any] = {
            "loss_fn": loss_fn,
            "propagator": propagator,
            "rng": rng,
            "island_idx": self.island_idx,
            "island_comm": comms.island,
            "propulate_comm": comms.propulate,
            "worker_sub_comm": comms.worker,
            "generations": generations,
            "checkpoint_path": checkpoint_path,
            "surrogate_factory": surrogate_factory,
            "callbacks": callbacks,
            **kwargs,
        }
        migrating = len(self.plan.sizes) > 1 and migration_probability > 0
        self.propulator: Propulator
        if not migrating:
            self.propulator = Propulator(**common)
            self.propulator.island_sizes = tuple(self.plan.sizes)
        else:
            migration: dict[str, Any] = {
                "migration_topology": [list(row) for row in self.plan.topology],
                "migration_prob": migration_probability,
                "emigration_propagator": emigration_propagator,
                "island_displs": list(self.plan.displs),
                "island_counts": list(self.plan.sizes),
            }
            if pollination:
                self.propulator = Pollinator(
                    **common, immigration_propagator=immigration_propagator, **migration
                )
            else:
                self.propulator = Migrator(**common, **migration)

    def propulate(
        self, logging_interval: int = 10, debug: int = 1, *, epoch_seconds: float | None = 30.0
    ) -> None:
        """Run this rank's part of the optimization (see :meth:`Propulator.propulate`)."""
        self.propulator.propulate(logging_interval, debug, epoch_seconds=epoch_seconds)

    def summarize(self, top_n: int = 3, debug: int = 1) -> list[Any]:
        """Log and return the best individuals, one entry per rank (see Propulator.summarize)."""
        return self.propulator.summarize(top_n, debug)

    def summarize_islands(self, top_n: int = 3, debug: int = 1) -> list[list[Individual]]:
        """Log and return the best ``top_n`` individuals of every island (collective)."""
        return self.propulator.summarize_islands(top_n, debug)
