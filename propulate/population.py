"""Individuals and the population a worker knows.

:class:`Individual` (defined in :mod:`propulate.individual`) is a dictionary-like view of one
candidate's hyperparameters plus the metadata of its evaluation. :class:`Population` stores the
individuals a worker knows and keeps the active ones sorted by loss, so selecting the best or
worst ``k`` costs O(k log N) whatever the population's size; propagators receive it through
:class:`ActiveView`, a read-only sequence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from sortedcontainers import SortedKeyList, SortedList

from .columns import ROW_MASK, Columns, generation_code, sort_code
from .feasibility import violation
from .individual import Individual, Key, Status

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
    work per evaluation does not grow with the population. The individuals are stored as rows
    of columns (see :mod:`propulate.columns`), about 250 bytes each for 10 float
    hyperparameters; the :class:`Individual` objects handed out are views of their rows (an
    individual added becomes one), so changes to them, and migrations, show everywhere.

    Parameters
    ----------
    owner : int, optional
        This worker's rank. The active individuals whose ``current`` is the owner (those this
        worker is responsible for, e.g. the only ones it may send away as emigrants) are kept in
        a second sorted list, :attr:`owned`.
    """

    def __init__(self, owner: int | None = None) -> None:
        self.owner = owner
        self._columns: Columns | None = None  # made for the search space of the first individual
        self.bred_on: dict[int, int] = {}  # island -> how many known individuals were bred there
        # The active rows by (loss, worker, generation), as sort codes (plain ints, row in the
        # low bits): 56 bytes an individual where a tuple key and the object took 250.
        self._active = SortedList()
        self._owned = SortedList()
        # Per breeding rank: its active rows by loss and by generation (particle swarms and
        # Nelder-Mead ask for a worker's own best and latest individual). Built on the first
        # such question and maintained from then on: the other strategies never ask, and keeping
        # them cost two of the three sorted insertions per individual absorbed.
        self._by_rank = False
        self._rank_by_loss: dict[int, SortedList] = {}
        self._rank_by_generation: dict[int, SortedList] = {}

    def _index(self, code: int, worker: int, generation: int, current: int) -> None:
        self._active.add(code)
        if current == self.owner:
            self._owned.add(code)
        if self._by_rank:
            self._index_rank(code, worker, generation)

    def _index_rank(self, code: int, worker: int, generation: int) -> None:
        by_loss = self._rank_by_loss.get(worker)
        if by_loss is None:
            by_loss = self._rank_by_loss[worker] = SortedList()
            self._rank_by_generation[worker] = SortedList()
        by_loss.add(code)
        self._rank_by_generation[worker].add(generation_code(generation, code & ROW_MASK))

    def _unindex(self, row: int) -> None:
        columns = self._store()
        code = columns.sort_code(row)
        self._active.remove(code)
        if columns.field(row, "current") == self.owner:
            self._owned.remove(code)
        if self._by_rank:
            worker = columns.field(row, "worker")
            self._rank_by_loss[worker].remove(code)
            generation = columns.field(row, "generation")
            self._rank_by_generation[worker].remove(generation_code(generation, row))

    def _rank_indexes(self) -> tuple[dict[int, SortedList], dict[int, SortedList]]:
        """The per-rank indexes (by loss, by generation), built from the active ones if new."""
        if not self._by_rank:
            self._by_rank = True
            columns = self._columns
            for code in self._active:
                row = code & ROW_MASK
                assert columns is not None  # rows exist only with columns
                self._index_rank(
                    code, columns.field(row, "worker"), columns.field(row, "generation")
                )
        return self._rank_by_loss, self._rank_by_generation

    def _store(self) -> Columns:
        assert self._columns is not None, "no individual added yet"
        return self._columns

    def _row(self, key: Key) -> int:
        return -1 if self._columns is None else self._columns.row_of(key)

    def add(self, ind: Individual) -> bool:
        """Add an evaluated individual; return ``False`` (and do nothing) if already known."""
        if self._row(ind.key) >= 0:
            return False
        self._append(ind)
        return True

    def _append(self, ind: Individual) -> int:
        """Add an individual known to be new; return its row."""
        if self._columns is None:
            self._columns = Columns(ind.search_space)
        values_key = ind.values_key()
        loss, worker, generation, current = ind.loss, ind.worker, ind.generation, ind.current
        active = ind.active
        if generation >= 0:  # an imported result (see warm_start) was not bred here
            self.bred_on[ind.island] = self.bred_on.get(ind.island, 0) + 1
        columns = self._columns
        row = columns.append(ind)
        columns.add_values(values_key, row)
        if active:
            violated = violation(ind.constraints)
            code = sort_code(loss, worker, generation, row, violated)
            self._index(code, worker, generation, current)
        return row

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
        return self.merge_new(ind)[0]

    def merge_new(self, ind: Individual) -> tuple[Individual, bool]:
        """:meth:`merge`, also returning whether ``ind`` was new (one lookup of its key)."""
        key = ind.key
        row = self._row(key)
        if row < 0:
            row = self._append(ind)  # first: it makes the store of an empty population
            return self._store().view(row), True
        if ind.migration_steps > self._store().field(row, "migration_steps"):
            self.move(key, ind.active, ind.current, ind.migration_steps)
        return self._store().view(row), False

    def move(self, key: Key, active: bool, current: int, migration_steps: int) -> bool:
        """Set the migration state of a known individual; return whether it was known."""
        row = self._row(key)
        if row < 0:
            return False
        columns = self._store()
        if columns.is_active(row):
            self._unindex(row)
        columns.move(row, active, current, migration_steps)
        if active:
            worker, generation = columns.field(row, "worker"), columns.field(row, "generation")
            self._index(columns.sort_code(row), worker, generation, current)
        return True

    def get(self, key: Key) -> Individual | None:
        """The individual with ``key`` if known."""
        row = self._row(key)
        return None if row < 0 else self._store().view(row)

    def migration_steps(self, key: Key) -> int | None:
        """How often the individual with ``key`` migrated, ``None`` if unknown (no view made)."""
        row = self._row(key)
        return None if row < 0 else self._store().field(row, "migration_steps")

    def set_active(self, key: Key, active: bool) -> bool:
        """Activate or deactivate a known individual; return whether anything changed."""
        row = self._row(key)
        if row < 0:
            return False
        columns = self._store()
        if columns.is_active(row) == active:
            return False
        current, steps = columns.field(row, "current"), columns.field(row, "migration_steps")
        return self.move(key, active, current, steps)

    def __len__(self) -> int:
        return 0 if self._columns is None else len(self._columns)

    def __iter__(self) -> Iterator[Individual]:
        return iter(()) if self._columns is None else iter(self._columns)

    def __contains__(self, key: object) -> bool:
        if not (isinstance(key, tuple) and len(key) == 2):
            return False
        return self._row(key) >= 0  # type: ignore[arg-type]  # a pair, checked above

    def find_values(self, ind: Individual) -> Individual | None:
        """The first individual known with ``ind``'s hyperparameter values, if any (O(1))."""
        if self._columns is None:
            return None
        row = self._columns.find_values(ind.values_key())
        return None if row < 0 else self._columns.view(row)

    def _view(self, code: int) -> Individual:
        columns = self._columns  # not _store(): selection makes a dozen views per child
        assert columns is not None  # sort codes exist only for stored rows
        return columns.view(code & ROW_MASK)

    _generation_view = _view  # a generation code has the row in its low bits too

    @property
    def active(self) -> ActiveView:
        """The active individuals, as the sequence propagators receive."""
        return ActiveView(self._active, self, self._view)

    @property
    def owned(self) -> ActiveView:
        """The active individuals this worker is responsible for (``current == owner``)."""
        return ActiveView(self._owned, None, self._view)

    def to_list(self) -> list[Individual]:
        """Every known individual in the order they became known."""
        return list(self)


def _same(item: Any) -> Any:
    return item


class ActiveView(Sequence[Individual]):
    """Read-only sequence of the active individuals, sorted by loss (best first).

    Individuals that returned violated constraints (see :mod:`propulate.feasibility`) come
    after every feasible one, by violation; failed ones last.
    """

    __slots__ = ("_sorted", "_population", "_resolve")

    def __init__(
        self,
        sorted_items: SortedList | SortedKeyList,
        population: Population | None = None,
        resolve: Callable[[Any], Individual] = _same,
    ) -> None:
        self._sorted = sorted_items
        self._population = population
        self._resolve = resolve  # a sorted item -> its individual (a population's: a row's view)

    def __len__(self) -> int:
        return len(self._sorted)

    def __iter__(self) -> Iterator[Individual]:
        return map(self._resolve, self._sorted)

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
        if self._population is None:
            key = ind.values_key()
            return next((other for other in self if other.values_key() == key), None)
        return self._population.find_values(ind)

    def of_rank(self, rank: int) -> ActiveView:
        """The active individuals bred by ``rank``, sorted by loss (O(1) to get)."""
        population = self._population
        if population is None:
            return ActiveView(SortedKeyList((i for i in self if i.worker == rank), _sort_key))
        by_loss = population._rank_indexes()[0].get(rank)
        return ActiveView(SortedList() if by_loss is None else by_loss, None, population._view)

    def latest_of(self, rank: int) -> Individual | None:
        """The active individual ``rank`` bred last (highest generation), if any."""
        population = self._population
        if population is None:
            own = [i for i in self if i.worker == rank]
            return max(own, key=_generation) if own else None
        by_generation = population._rank_indexes()[1].get(rank)
        return population._generation_view(by_generation[-1]) if by_generation else None

    @overload
    def __getitem__(self, index: int) -> Individual: ...

    @overload
    def __getitem__(self, index: slice) -> list[Individual]: ...

    def __getitem__(self, index: int | slice) -> Individual | list[Individual]:
        if isinstance(index, slice):
            return list(map(self._resolve, self._sorted[index]))
        return self._resolve(self._sorted[index])

    def best(self, k: int) -> list[Individual]:
        """The ``k`` individuals with the lowest loss (fewer if fewer exist)."""
        return list(map(self._resolve, self._sorted[:k]))

    def worst(self, k: int) -> list[Individual]:
        """The ``k`` individuals with the highest loss, worst first."""
        if k <= 0:
            return []
        return list(map(self._resolve, self._sorted[-k:][::-1]))


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
