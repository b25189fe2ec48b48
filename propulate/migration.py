"""Migration policies: who leaves an island, who is replaced, and how everybody learns it.

A policy is a strategy the optimization loop calls after each of its generations
(:meth:`MigrationPolicy.after_generation`) and for every migration message
(:meth:`MigrationPolicy.on_message`). It decides; the loop sends, through the narrow
:class:`MigrationContext`. No policy talks MPI.

Consistency under asynchrony rests on two rules:

* **Ownership**: every active individual has exactly one responsible worker (``current``). Only
  that worker may send it away (real migration) or choose it as a victim (pollination), so two
  workers can never pick the same individual at once.
* **Versions**: every change of an individual's migration state increments its
  ``migration_steps``; a worker applies a notice only if it is newer than what it knows. Notices
  from different ranks may arrive in any order, and a late deactivation can never switch off an
  individual that has since come back.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Sequence
from typing import Any, Protocol

from .population import Individual, Population
from .propagators.base import Propagator, as_list
from .records import decode_individual, encode_individual
from .search_space import SearchSpace

__all__ = [
    "MigrationContext",
    "MigrationPolicy",
    "NoMigration",
    "RealMigration",
    "Pollination",
    "KIND_MIGRANT",
    "KIND_POLLEN",
    "KIND_LOCATION",
    "pack_location",
    "unpack_location",
]

KIND_MIGRANT = 5
KIND_POLLEN = 6
KIND_LOCATION = 7
_LOCATION = struct.Struct("<iiHBi")


def pack_location(ind: Individual) -> bytes:
    """Encode an individual's key and migration state for a notice."""
    return _LOCATION.pack(ind.rank, ind.generation, ind.migration_steps, ind.active, ind.current)


def unpack_location(data: bytes) -> tuple[tuple[int, int], int, bool, int]:
    """Decode a notice: ``(key, migration_steps, active, current)``."""
    rank, generation, steps, active, current = _LOCATION.unpack(data)
    return (rank, generation), steps, bool(active), current


class MigrationContext(Protocol):
    """What a policy may see and do (implemented by the Propulator)."""

    rng: random.Random
    island_idx: int

    @property
    def rank(self) -> int:
        """This worker's rank in the messaging group."""

    @property
    def search_space(self) -> SearchSpace:
        """The search space."""

    @property
    def num_islands(self) -> int:
        """The number of islands."""

    @property
    def known(self) -> Population:
        """The individuals this worker knows."""

    def island_members(self, island: int) -> Sequence[int]:
        """The ranks of the workers of ``island``."""

    def send(self, dest: int, kind: int, data: bytes) -> None:
        """Post a message to ``dest``."""

    def remember(self, ind: Individual) -> None:
        """Append the individual's current state to the checkpoint log."""

    def merge(self, ind: Individual) -> tuple[Individual, bool]:
        """Merge an arriving individual; return it as stored and whether it was new."""


class MigrationPolicy(Protocol):
    """The strategy interface."""

    sent: int
    received: int
    replaced: int

    def after_generation(self, ctx: MigrationContext) -> None:
        """Called after each of this worker's evaluations."""

    def on_message(self, ctx: MigrationContext, kind: int, data: bytes) -> bool:
        """Handle a migration message; return whether the kind was one of the policy's."""


class NoMigration:
    """Islands stay apart (also the policy of a single population)."""

    sent = received = replaced = 0

    def after_generation(self, ctx: MigrationContext) -> None:
        """Do nothing."""

    def on_message(self, ctx: MigrationContext, kind: int, data: bytes) -> bool:
        """Handle nothing."""
        return False


class _Policy:
    """What both real migration and pollination need: the topology, and applying notices."""

    def __init__(
        self,
        topology: Any,
        probability: float,
        emigration_propagator: type[Propagator],
    ) -> None:
        self.topology = [[int(count) for count in row] for row in topology]
        self.probability = probability
        self.emigration_propagator = emigration_propagator
        self.sent = self.received = self.replaced = 0

    def _targets(self, ctx: MigrationContext) -> list[tuple[int, int]]:
        """``(island, count)`` pairs to send to this time (empty unless the dice say so)."""
        if self.probability <= 0 or ctx.rng.random() >= self.probability:
            return []
        row = self.topology[ctx.island_idx]
        return [(j, n) for j, n in enumerate(row) if j != ctx.island_idx and n > 0]

    def _choose(self, count: int, candidates: Sequence[Individual]) -> list[Individual]:
        if len(candidates) < count:
            return []
        return as_list(self.emigration_propagator(count)(candidates))[:count]  # type: ignore[call-arg]

    @staticmethod
    def _announce(ctx: MigrationContext, ind: Individual) -> None:
        """Tell the other workers of this island the individual's new state, and log it."""
        ctx.remember(ind)
        notice = pack_location(ind)
        for peer in ctx.island_members(ctx.island_idx):
            if peer != ctx.rank:
                ctx.send(peer, KIND_LOCATION, notice)

    def _send_to_island(
        self, ctx: MigrationContext, island: int, kind: int, ind: Individual, owner: int
    ) -> None:
        data = encode_individual(
            ind, active=True, current=owner, migration_steps=ind.migration_steps
        )
        for member in ctx.island_members(island):
            ctx.send(member, kind, data)


class RealMigration(_Policy):
    """Individuals move: active on the target island, inactive at home.

    Parameters
    ----------
    topology : array-like
        ``topology[i][j]``: how many individuals island ``i`` sends to island ``j`` each time.
    probability : float
        The probability that a worker sends emigrants after a generation.
    emigration_propagator : type of Propagator
        Chooses the emigrants among the individuals this worker is responsible for
        (e.g. ``SelectMin``: the best); called as ``emigration_propagator(count)(candidates)``.
    """

    def after_generation(self, ctx: MigrationContext) -> None:
        """Send emigrants to each target island, with the configured probability."""
        for island, count in self._targets(ctx):
            for ind in self._choose(count, ctx.known.owned):
                owner = ctx.rng.choice(list(ctx.island_members(island)))
                steps = ind.migration_steps + 1
                ctx.known.move(ind.key, False, owner, steps)
                self._announce(ctx, ind)
                self._send_to_island(ctx, island, KIND_MIGRANT, ind, owner)
                self.sent += 1

    def on_message(self, ctx: MigrationContext, kind: int, data: bytes) -> bool:
        """Take in an immigrant (every worker of the island gets it; its owner logs it)."""
        if kind != KIND_MIGRANT:
            return False
        arrival = decode_individual(data, ctx.search_space)
        stored, _ = ctx.merge(arrival)
        if arrival.current == ctx.rank:
            self.received += 1
            ctx.remember(stored)
        return True


class Pollination(_Policy):
    """Copies travel; each receiving island gives up as many of its own individuals.

    Parameters
    ----------
    topology, probability, emigration_propagator
        As for :class:`RealMigration` (here emigrants are chosen among all active individuals,
        since copies leave nothing behind).
    immigration_propagator : type of Propagator
        Chooses, on the receiving island, the individual each arriving copy replaces
        (e.g. ``SelectMax``: the worst), among those the receiving worker is responsible for.
    """

    def __init__(
        self,
        topology: Any,
        probability: float,
        emigration_propagator: type[Propagator],
        immigration_propagator: type[Propagator],
    ) -> None:
        super().__init__(topology, probability, emigration_propagator)
        self.immigration_propagator = immigration_propagator
        # Copies taken in while this worker was responsible for no other individual: each is
        # paid for, by deactivating one, as soon as the worker has one (after its next
        # evaluation), so every arrival replaces exactly one individual.
        self.debt = 0

    def after_generation(self, ctx: MigrationContext) -> None:
        """Send copies to each target island, with the configured probability."""
        self._pay_debt(ctx)
        for island, count in self._targets(ctx):
            for ind in self._choose(count, ctx.known.active):
                owner = ctx.rng.choice(list(ctx.island_members(island)))
                self._send_to_island(ctx, island, KIND_POLLEN, ind, owner)
                self.sent += 1

    def on_message(self, ctx: MigrationContext, kind: int, data: bytes) -> bool:
        """Take in a copy; its owner on this island deactivates one individual in exchange."""
        if kind != KIND_POLLEN:
            return False
        arrival = decode_individual(data, ctx.search_space)
        if ctx.known.get(arrival.key) is not None:
            return True  # a copy of one we already hold: nothing arrives, nothing is replaced
        owner = arrival.current
        arrival.current = -1  # not a candidate victim of its own arrival
        stored, _ = ctx.merge(arrival)
        if owner != ctx.rank:
            ctx.known.move(stored.key, True, owner, stored.migration_steps)
            return True
        self.received += 1
        self.debt += 1
        self._pay_debt(ctx)  # before the arrival joins what this worker is responsible for
        ctx.known.move(stored.key, True, owner, stored.migration_steps)
        ctx.remember(stored)
        return True

    def _pay_debt(self, ctx: MigrationContext) -> None:
        while self.debt and len(ctx.known.owned):
            victims = as_list(self.immigration_propagator(1)(ctx.known.owned))  # type: ignore[call-arg]
            victim = victims[0]
            ctx.known.move(victim.key, False, victim.current, victim.migration_steps + 1)
            self._announce(ctx, victim)
            self.replaced += 1
            self.debt -= 1
