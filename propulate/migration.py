"""Migration policies: who leaves an island, who is replaced, as decisions the loop carries out.

A policy is pure: after each of the worker's generations (:meth:`MigrationPolicy.after_generation`)
and for every migrant or copy that arrives (:meth:`MigrationPolicy.on_arrival`) it looks at the
worker's :class:`Place`, its population and the arrival, and returns a list of decisions:

* :class:`Relocate`: set the migration state of a known individual (e.g. deactivate an emigrant
  or a replaced one), record it in the checkpoint log and announce it to the island;
* :class:`Emigrate`: send a copy of an individual to every worker of another island, arriving
  active with one of them responsible for it;
* :class:`Adopt`: take in an arrival (and record it if this worker is responsible for it).

The loop applies them in order; no policy sends, writes or changes the population itself.

Consistency under asynchrony rests on two rules:

* **Ownership**: every active individual has exactly one responsible worker (``current``). Only
  that worker may send it away (real migration) or choose it as a victim (pollination), so two
  workers can never pick the same individual at once.
* **One owner per copy**: with pollination, every copy of an individual sent to an island names
  the same worker there (a function of the individual's key), and a copy of an individual bred
  on the receiving island is not taken in. Copies of one individual from several senders, or
  one that overtakes its breeder's result, then replace exactly one individual, once.
* **Versions**: every change of an individual's migration state increments its
  ``migration_steps``; a worker applies a notice only if it is newer than what it knows. Notices
  from different ranks may arrive in any order, and a late deactivation can never switch off an
  individual that has since come back.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .population import Individual, Key, Population
from .propagators.base import Propagator, as_list
from .validation import check_callable, check_matrix, check_probability
from .wire import Kind

__all__ = [
    "Place",
    "Relocate",
    "Emigrate",
    "Adopt",
    "Decision",
    "MigrationPolicy",
    "NoMigration",
    "RealMigration",
    "Pollination",
]


@dataclass(frozen=True)
class Place:
    """Where a worker is: what a policy needs besides the population.

    Attributes
    ----------
    rank : int
        The worker's rank in the messaging group.
    island : int
        Its island.
    islands : sequence of sequence of int
        The messaging ranks of the workers of each island.
    rng : random.Random
        The worker's random number generator (for the migration dice and the new owners).
    """

    rank: int
    island: int
    islands: Sequence[Sequence[int]]
    rng: random.Random


@dataclass(frozen=True)
class Relocate:
    """Set a known individual's migration state, record it, and announce it to the island."""

    key: Key
    active: bool
    current: int
    migration_steps: int


@dataclass(frozen=True)
class Emigrate:
    """Send ``ind`` to every worker of ``island``, active there, ``owner`` responsible for it."""

    ind: Individual
    island: int
    owner: int
    migration_steps: int
    kind: Kind


@dataclass(frozen=True)
class Adopt:
    """Merge an arrival into the population; ``record``: also append it to this worker's log."""

    ind: Individual
    record: bool


Decision = Relocate | Emigrate | Adopt


class MigrationPolicy(Protocol):
    """The strategy interface."""

    sent: int
    received: int
    replaced: int
    #: The message kinds the policy takes (:meth:`on_arrival` gets only these).
    kinds: Collection[int]

    def after_generation(self, place: Place, known: Population) -> list[Decision]:
        """The decisions after one of this worker's evaluations."""

    def on_arrival(
        self, place: Place, known: Population, kind: int, arrival: Individual
    ) -> list[Decision]:
        """The decisions for an individual that arrived in a message of one of :attr:`kinds`."""


class NoMigration:
    """Islands stay apart (also the policy of a single population)."""

    sent = received = replaced = 0
    kinds: Collection[int] = ()

    def after_generation(self, place: Place, known: Population) -> list[Decision]:
        """Nothing."""
        return []

    def on_arrival(
        self, place: Place, known: Population, kind: int, arrival: Individual
    ) -> list[Decision]:
        """Nothing (never called: the policy takes no kind of message)."""
        return []


class _Policy:
    """What both real migration and pollination need: the topology and the dice."""

    def __init__(
        self,
        topology: Any,
        probability: float,
        emigration_propagator: type[Propagator],
    ) -> None:
        owner = type(self).__name__
        self.topology = check_matrix(owner, "topology", topology)
        self.probability = check_probability(owner, "probability", probability)
        self.emigration_propagator = check_callable(
            owner, "emigration_propagator", emigration_propagator, "propulate.propagators.SelectMin"
        )
        self.sent = self.received = self.replaced = 0

    def _targets(self, place: Place) -> list[tuple[int, int]]:
        """``(island, count)`` pairs to send to this time (empty unless the dice say so)."""
        if self.probability <= 0 or place.rng.random() >= self.probability:
            return []
        row = self.topology[place.island]
        return [(j, n) for j, n in enumerate(row) if j != place.island and n > 0]

    def _choose(
        self,
        count: int,
        candidates: Sequence[Individual],
        excluded: Collection[Key] = (),
    ) -> list[Individual]:
        """``count`` emigrants among ``candidates`` less ``excluded`` (all of them candidates).

        The emigration propagator chooses ``count + len(excluded)`` and the excluded ones are
        dropped, so a deterministic selection (the best, the worst) gives exactly what it would
        choose among the candidates that remain, without copying them.
        """
        if count <= 0 or len(candidates) - len(excluded) < count:
            return []
        chosen = as_list(self.emigration_propagator(count + len(excluded))(candidates))  # type: ignore[call-arg]  # selections take the count
        return [ind for ind in chosen if ind.key not in excluded][:count]

    @staticmethod
    def _owner(place: Place, island: int) -> int:
        return place.rng.choice(list(place.islands[island]))


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

    kinds: Collection[int] = (Kind.MIGRANT,)

    def after_generation(self, place: Place, known: Population) -> list[Decision]:
        """Emigrants for each target island, with the configured probability.

        An island's emigrants are chosen among those the worker is still responsible for once
        the previous islands' emigrants left.
        """
        decisions: list[Decision] = []
        leaving: list[Key] = []
        for island, count in self._targets(place):
            for ind in self._choose(count, known.owned, leaving):
                owner = self._owner(place, island)
                steps = ind.migration_steps + 1
                leaving.append(ind.key)
                decisions.append(Relocate(ind.key, False, owner, steps))
                decisions.append(Emigrate(ind, island, owner, steps, Kind.MIGRANT))
                self.sent += 1
        return decisions

    def on_arrival(
        self, place: Place, known: Population, kind: int, arrival: Individual
    ) -> list[Decision]:
        """Take in an immigrant (every worker of the island gets it; its owner records it)."""
        here = known.get(arrival.key)
        if here is not None and here.migration_steps >= arrival.migration_steps:
            return []  # taken in already (found lost in transit at the start of a job)
        mine = arrival.current == place.rank
        if mine:
            self.received += 1
        return [Adopt(arrival, record=mine)]


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

    kinds: Collection[int] = (Kind.POLLEN,)

    def __init__(
        self,
        topology: Any,
        probability: float,
        emigration_propagator: type[Propagator],
        immigration_propagator: type[Propagator],
    ) -> None:
        super().__init__(topology, probability, emigration_propagator)
        self.immigration_propagator = check_callable(
            type(self).__name__,
            "immigration_propagator",
            immigration_propagator,
            "propulate.propagators.SelectMax",
        )
        # Copies taken in while this worker was responsible for no other individual: each is
        # paid for, by deactivating one, as soon as the worker has one (after its next
        # evaluation), so every arrival replaces exactly one individual.
        self.debt = 0

    def after_generation(self, place: Place, known: Population) -> list[Decision]:
        """Pay what is owed, then copies for each target island, with the configured probability."""
        decisions = self._pay_debt(known)
        gone = {decision.key for decision in decisions if isinstance(decision, Relocate)}
        for island, count in self._targets(place):
            for ind in self._choose(count, known.active, gone):
                owner = _copy_owner(place.islands[island], ind.key)
                decisions.append(Emigrate(ind, island, owner, ind.migration_steps, Kind.POLLEN))
                self.sent += 1
        return decisions

    def on_arrival(
        self, place: Place, known: Population, kind: int, arrival: Individual
    ) -> list[Decision]:
        """Take in a copy; its owner on this island deactivates one individual in exchange.

        A copy of an individual bred on this island, or already held, arrives as nothing: the
        island has it (or will have it: its breeder's result may still be on the way).
        """
        if arrival.island == place.island or known.get(arrival.key) is not None:
            return []
        if arrival.current != place.rank:
            return [Adopt(arrival, record=False)]
        self.received += 1
        self.debt += 1
        # The victim is chosen before the arrival joins what this worker is responsible for.
        return [*self._pay_debt(known), Adopt(arrival, record=True)]

    def _pay_debt(self, known: Population) -> list[Decision]:
        owned = known.owned
        count = min(self.debt, len(owned))
        if not count:
            return []
        victims = as_list(self.immigration_propagator(count)(owned))[:count]  # type: ignore[call-arg]  # selections take the count
        self.replaced += len(victims)
        self.debt -= len(victims)
        return [
            Relocate(victim.key, False, victim.current, victim.migration_steps + 1)
            for victim in victims
        ]


def _copy_owner(members: Sequence[int], key: Key) -> int:
    """The worker of an island responsible for every copy of the individual ``key`` sent there.

    Copies of one individual may reach an island from several senders, in any order. With one
    owner for all of them, only that worker takes the individual in as new (and replaces one of
    its own); had two workers each taken in a copy first, both would have replaced one, and
    both would have owned it.
    """
    worker, generation = key
    return members[(worker * 1_000_003 + generation) % len(members)]
