"""Individuals and the population a worker knows.

:class:`Individual` (defined in :mod:`propulate.individual`) is a dictionary-like view of one
candidate's hyperparameters plus the metadata of its evaluation. :class:`Population` stores the
individuals a worker knows and keeps the active ones sorted by loss, so selecting the best or
worst ``k`` costs O(k log N) whatever the population's size; propagators receive it through
:class:`ActiveView`, a read-only sequence.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import overload

from sortedcontainers import SortedKeyList

from .feasibility import violation
from .individual import Individual, Key, Status
from .search_space import Value

__all__ = ["Individual", "Population", "ActiveView", "Status", "select_best", "select_worst"]


def _generation(ind: Individual) -> int:
    return ind.generation


def _sort_key(ind: Individual) -> tuple[float, float, int, int]:
    # Feasible first (violation 0), the infeasible by violation, failed ones last (see
    # propulate.feasibility); without constraints this is the loss order of Propulate 1.2.
    loss = ind.loss
    if loss is not None and loss < _INF:  # evaluated, not failed (NaN compares False)
        constraints = ind.constraints
        violated = 0.0 if constraints is None else violation(constraints)
        return (violated, loss, ind.worker, ind.generation)
    return (_INF, _INF, ind.worker, ind.generation)


_INF = math.inf


class Population:
    """Every individual a worker knows, with the active ones sorted by loss.

    Adding, deactivating and selecting the ``k`` best or worst cost O(log N) or O(k log N): the
    work per evaluation does not grow with the population.

    Parameters
    ----------
    owner : int, optional
        This worker's rank. The active individuals whose ``current`` is the owner (those this
        worker is responsible for, e.g. the only ones it may send away as emigrants) are kept in
        a second sorted list, :attr:`owned`.
    """

    def __init__(self, owner: int | None = None) -> None:
        self.owner = owner
        self._by_key: dict[Key, Individual] = {}
        self.bred_on: dict[int, int] = {}  # island -> how many known individuals were bred there
        # Every known set of hyperparameters, and the first individual known to have it.
        self._values_known: dict[tuple[Value | None, ...], Individual] = {}
        self._active: SortedKeyList = SortedKeyList(key=_sort_key)
        self._owned: SortedKeyList = SortedKeyList(key=_sort_key)
        # Per breeding rank: its active individuals by loss and by generation (particle swarms
        # and Nelder-Mead ask for a worker's own best and latest individual). Built on the first
        # such question and maintained from then on: the other strategies never ask, and keeping
        # them cost two of the three sorted insertions per individual absorbed.
        self._by_rank = False
        self._rank_by_loss: dict[int, SortedKeyList] = {}
        self._rank_by_generation: dict[int, SortedKeyList] = {}

    def _index(self, ind: Individual) -> None:
        self._active.add(ind)
        if ind.current == self.owner:
            self._owned.add(ind)
        if self._by_rank:
            self._index_rank(ind)

    def _index_rank(self, ind: Individual) -> None:
        by_loss = self._rank_by_loss.get(ind.worker)
        if by_loss is None:
            by_loss = self._rank_by_loss[ind.worker] = SortedKeyList(key=_sort_key)
            self._rank_by_generation[ind.worker] = SortedKeyList(key=_generation)
        by_loss.add(ind)
        self._rank_by_generation[ind.worker].add(ind)

    def _unindex(self, ind: Individual) -> None:
        self._active.remove(ind)
        if ind.current == self.owner:
            self._owned.remove(ind)
        if self._by_rank:
            self._rank_by_loss[ind.worker].remove(ind)
            self._rank_by_generation[ind.worker].remove(ind)

    def _rank_indexes(self) -> tuple[dict[int, SortedKeyList], dict[int, SortedKeyList]]:
        """The per-rank indexes (by loss, by generation), built from the active ones if new."""
        if not self._by_rank:
            self._by_rank = True
            for ind in self._active:
                self._index_rank(ind)
        return self._rank_by_loss, self._rank_by_generation

    def add(self, ind: Individual) -> bool:
        """Add an evaluated individual; return ``False`` (and do nothing) if already known."""
        if ind.key in self._by_key:
            return False
        self._by_key[ind.key] = ind
        if ind.generation >= 0:  # an imported result (see warm_start) was not bred here
            self.bred_on[ind.island] = self.bred_on.get(ind.island, 0) + 1
        self._values_known.setdefault(ind.values_key(), ind)
        if ind.active:
            self._index(ind)
        return True

    def merge(self, ind: Individual) -> Individual:
        """Add ``ind``, or, if known, take over its migration state when it is newer.

        Migration state (``active``, ``current``, ``migration_steps``) only moves forward: a
        notice that arrives late (smaller ``migration_steps``) is ignored, so the order in which
        messages from different ranks arrive does not matter.

        Returns
        -------
        Individual
            The individual as stored.
        """
        known = self._by_key.get(ind.key)
        if known is None:
            self.add(ind)
            return ind
        if ind.migration_steps > known.migration_steps:
            self.move(ind.key, ind.active, ind.current, ind.migration_steps)
        return known

    def move(self, key: Key, active: bool, current: int, migration_steps: int) -> bool:
        """Set the migration state of a known individual; return whether it was known."""
        ind = self._by_key.get(key)
        if ind is None:
            return False
        if ind.active:
            self._unindex(ind)
        ind.active, ind.current, ind.migration_steps = active, current, migration_steps
        if active:
            self._index(ind)
        return True

    def get(self, key: Key) -> Individual | None:
        """The individual with ``key`` if known."""
        return self._by_key.get(key)

    def set_active(self, key: Key, active: bool) -> bool:
        """Activate or deactivate a known individual; return whether anything changed."""
        ind = self._by_key.get(key)
        if ind is None or ind.active == active:
            return False
        return self.move(key, active, ind.current, ind.migration_steps)

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[Individual]:
        return iter(self._by_key.values())

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    @property
    def active(self) -> ActiveView:
        """The active individuals, as the sequence propagators receive."""
        return ActiveView(self._active, self)

    @property
    def owned(self) -> ActiveView:
        """The active individuals this worker is responsible for (``current == owner``)."""
        return ActiveView(self._owned)

    def to_list(self) -> list[Individual]:
        """Every known individual in the order they became known."""
        return list(self._by_key.values())


class ActiveView(Sequence[Individual]):
    """Read-only sequence of the active individuals, sorted by loss (best first).

    Individuals that returned violated constraints (see :mod:`propulate.feasibility`) come
    after every feasible one, by violation; failed ones last.
    """

    __slots__ = ("_sorted", "_population")

    def __init__(
        self, sorted_individuals: SortedKeyList, population: Population | None = None
    ) -> None:
        self._sorted = sorted_individuals
        self._population = population

    def __len__(self) -> int:
        return len(self._sorted)

    def __iter__(self) -> Iterator[Individual]:
        return iter(self._sorted)

    def knows_values(self, ind: Individual) -> bool:
        """Whether an individual with ``ind``'s hyperparameters is known (active or not).

        O(1) on the view the Propulator passes; on a detached view, whether one of its own
        individuals has them (O(N)).
        """
        return self.find_values(ind) is not None

    def find_values(self, ind: Individual) -> Individual | None:
        """A known individual (active or not) with ``ind``'s hyperparameters, if any.

        O(1) on the view the Propulator passes (the first individual known with them); on a
        detached view, one of its own individuals (O(N)).
        """
        key = ind.values_key()
        if self._population is None:
            return next((other for other in self._sorted if other.values_key() == key), None)
        return self._population._values_known.get(key)

    def of_rank(self, rank: int) -> ActiveView:
        """The active individuals bred by ``rank``, sorted by loss (O(1) to get)."""
        if self._population is None:
            return ActiveView(
                SortedKeyList((i for i in self._sorted if i.worker == rank), _sort_key)
            )
        empty = SortedKeyList(key=_sort_key)
        return ActiveView(self._population._rank_indexes()[0].get(rank, empty))

    def latest_of(self, rank: int) -> Individual | None:
        """The active individual ``rank`` bred last (highest generation), if any."""
        if self._population is None:
            own = [i for i in self._sorted if i.worker == rank]
            return max(own, key=_generation) if own else None
        by_generation = self._population._rank_indexes()[1].get(rank)
        return by_generation[-1] if by_generation else None

    @overload
    def __getitem__(self, index: int) -> Individual: ...

    @overload
    def __getitem__(self, index: slice) -> list[Individual]: ...

    def __getitem__(self, index: int | slice) -> Individual | list[Individual]:
        return self._sorted[index]  # type: ignore[no-any-return]

    def best(self, k: int) -> list[Individual]:
        """The ``k`` individuals with the lowest loss (fewer if fewer exist)."""
        return self._sorted[:k]  # type: ignore[no-any-return]

    def worst(self, k: int) -> list[Individual]:
        """The ``k`` individuals with the highest loss, worst first."""
        if k <= 0:
            return []
        return self._sorted[-k:][::-1]  # type: ignore[no-any-return]


def select_best(inds: Sequence[Individual], k: int) -> list[Individual]:
    """The ``k`` lowest-loss individuals; O(k log N) on an :class:`ActiveView`."""
    if isinstance(inds, ActiveView):
        return inds.best(k)
    return sorted(inds, key=_sort_key)[:k]


def select_worst(inds: Sequence[Individual], k: int) -> list[Individual]:
    """The ``k`` highest-loss individuals, worst first; O(k log N) on an :class:`ActiveView`."""
    if isinstance(inds, ActiveView):
        return inds.worst(k)
    return sorted(inds, key=_sort_key, reverse=True)[:k]
