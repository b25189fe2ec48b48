"""What one worker knows: its population, and who learns of every result that joins it.

Every result the worker learns (its own, a peer's, an immigrant, one replayed from the
checkpoint) joins the population once and is told, once, to the propagator's stages that learn
(:func:`~propulate.propagators.base.listeners`) and to the early-stopping surrogate. Stages that set
``wants_pending`` are also told of the evaluations the island's other workers have started,
with status ``"pending"``, before their results arrive. The user's callbacks (a
:class:`~propulate.callbacks.CallbackList`, set for the length of a run) are told of every new
result too, except those replayed from the checkpoint. Location notices (migration state
changes) may overtake the individual they are about, since they come from another rank; such a
notice is kept until its individual arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from .callbacks.base import CallbackList
from .checkpoint import CheckpointLog
from .errors import ConfigurationError
from .population import Individual, Key, Population
from .surrogate import EarlyStopping
from .validation import fail

__all__ = ["Knowledge", "adopt_population"]

log = logging.getLogger("propulate.propulator")


class Knowledge:
    """A worker's population, with the listeners told of every new result.

    Parameters
    ----------
    population : Population
        The population (empty, or as it stands).
    listeners : list
        The stages of the propagator that learn from results (their ``tell`` is called).
    early : EarlyStopping, optional
        The early-stopping hook, told of other ranks' results.
    """

    def __init__(
        self, population: Population, listeners: list[Any], early: EarlyStopping | None = None
    ) -> None:
        self.population = population
        self.listeners = listeners
        self.early = early
        self._early_notices: dict[Key, tuple[int, bool, int]] = {}
        self.callbacks: CallbackList | None = None  # set by a run, so a resume's replay skips it
        self._replayed: dict[int, int] = {}  # per rank, the last generation it bred, replayed

    @classmethod
    def resume(
        cls,
        store: CheckpointLog,
        own_rank: int,
        listeners: list[Any],
        early: EarlyStopping | None = None,
    ) -> tuple[Knowledge, int]:
        """What a rank knows from its island's checkpoint logs, each record told once.

        Returns
        -------
        tuple of Knowledge and int
            The knowledge, and the next generation of ``own_rank``.
        """
        knowledge = cls(Population(owner=own_rank), listeners, early)
        generation = knowledge.replay(store.load_island(), own_rank)
        if len(knowledge.population):
            log.info(
                "Resumed %d individuals of island %d from %s; rank %d continues at generation %d.",
                len(knowledge.population), store.island, store.directory, own_rank, generation,
            )  # fmt: skip
        return knowledge, generation

    @property
    def listeners(self) -> list[Any]:
        """The stages told of every result."""
        return self._listeners

    @listeners.setter
    def listeners(self, listeners: list[Any]) -> None:
        self._listeners = listeners
        self.pending_listeners = [s for s in listeners if getattr(s, "wants_pending", False)]

    def started(self, ind: Individual) -> None:
        """Tell the stages that want them of an evaluation a peer has started."""
        if ind.key not in self.population:
            for listener in self.pending_listeners:
                listener.tell(ind)

    def add_own(self, child: Individual) -> None:
        """Add this worker's evaluated child and tell the listeners (the surrogate saw it run)."""
        self.population.add(child)
        for listener in self.listeners:
            listener.tell(child)
        if self.callbacks:
            self.callbacks.result(child)

    def merge(self, ind: Individual) -> tuple[Individual, bool]:
        """Merge an arriving individual, applying any notice that overtook it.

        Returns
        -------
        tuple of Individual and bool
            The individual as stored, and whether it was new.
        """
        population = self.population
        # Later records of an individual carry its migrations.
        stored, new = population.merge_new(ind)
        if new:
            for listener in self.listeners:
                listener.tell(stored)
            if self.early is not None:
                self.early.on_result(stored)
            if self._early_notices:
                early = self._early_notices.pop(ind.key, None)
                if early is not None and early[0] > stored.migration_steps:
                    population.move(ind.key, early[1], early[2], early[0])
            if self.callbacks:
                self.callbacks.result(stored)
        return stored, new

    def merge_result(self, ind: Individual) -> None:
        """Merge a result a peer sent in this run (each is sent once), telling the callbacks.

        A peer may write a result of this run to its log before this worker reads the
        checkpoint: it was replayed then, unseen by the callbacks, which learn of it now.
        """
        stored, new = self.merge(ind)
        if not new and self.callbacks and ind.generation <= self._replayed.get(ind.worker, -1):
            self.callbacks.result(stored)

    def replay(self, records: Iterable[Individual], own_rank: int) -> int:
        """Merge the records of a checkpoint; return the next generation of ``own_rank``."""
        generation = 0
        replayed = self._replayed
        for ind in records:
            self.merge(ind)
            if ind.generation > replayed.get(ind.worker, -1):
                replayed[ind.worker] = ind.generation
            if ind.worker == own_rank:
                generation = max(generation, ind.generation + 1)
        return generation

    def apply_notice(self, key: Key, steps: int, active: bool, current: int) -> None:
        """Apply a location notice if it is newer than what is known (keep it if early)."""
        known = self.population.migration_steps(key)  # no Individual made: notices are many
        if known is None:
            # The notice overtook the individual itself (they come from different ranks).
            early = self._early_notices.get(key)
            if early is None or steps > early[0]:
                self._early_notices[key] = (steps, active, current)
        elif steps > known:
            self.population.move(key, active, current, steps)


def adopt_population(
    old: Knowledge, individuals: Sequence[Individual], own_rank: int, generation: int
) -> Knowledge:
    """A worker's knowledge with ``individuals`` instead of ``old``'s population.

    Parameters
    ----------
    old : Knowledge
        What the worker knew (its listeners and early-stopping hook are kept).
    individuals : sequence of Individual
        The evaluated individuals, with distinct ``(rank, generation)`` keys.
    own_rank : int
        The worker's rank.
    generation : int
        Its next generation; the individuals must not reach it (their keys would be bred again).

    Raises
    ------
    ConfigurationError
        If an item is no evaluated :class:`Individual`, or two share a key.
    """
    owner = "Propulator.population"
    items = list(individuals) if not isinstance(individuals, Individual) else None
    if items is None:
        fail(owner, "population", individuals, "a list of evaluated Individuals", "[ind1, ind2]")
    knowledge = Knowledge(Population(owner=own_rank), old.listeners, old.early)
    knowledge.callbacks = old.callbacks
    for i, ind in enumerate(items):
        if not isinstance(ind, Individual) or ind.loss is None:
            fail(owner, f"population[{i}]", ind, "an evaluated Individual (loss set)", "ind")
        if ind.key in knowledge.population:
            raise ConfigurationError(
                f"{owner}: population[{i}] has the (rank, generation) {ind.key} of an earlier "
                "item; give every individual a distinct ind.rank (worker) and ind.generation."
            )
        if ind.worker == own_rank and ind.generation >= generation:
            raise ConfigurationError(
                f"{owner}: population[{i}] has generation {ind.generation} of this rank "
                f"({own_rank}), which has bred only up to {generation - 1}; use a generation "
                "below it or another rank."
            )
        knowledge.merge(ind)
    return knowledge
