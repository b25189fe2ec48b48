"""Compact storage of a population: its individuals as rows of growable NumPy columns.

A :class:`Columns` store keeps every known individual in about 200 bytes (10-d, plain float
space) instead of the ~1,200 an :class:`~propulate.individual.Individual` object with its
dictionaries and arrays takes: the encoded positions in 2-d float arrays, the metadata in
structured arrays (both in chunks of 4,096 rows), and what few individuals have (a velocity,
several losses, extra ``_`` keys, optional attributes such as ``error``) in dictionaries by row.
Users and propagators still get :class:`~propulate.individual.Individual` objects: light views
made on demand (and shared while anyone holds them) whose attribute and value changes write
through to the row.

Two indexes keep lookups O(1): ``(worker, generation)`` to row (per worker, a dense array by
generation) and the hash of the hyperparameter values to the first row known with them (open
addressing in NumPy arrays, every hit checked against the row's values).
"""

from __future__ import annotations

import struct
import weakref
from array import array
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from .feasibility import violation
from .individual import Individual, Key
from .search_space import SearchSpace, Value

__all__ = ["Columns", "sort_code", "ROW_MASK"]

#: The low 32 bits of a sort code are the row.
ROW_MASK = 0xFFFF_FFFF
_OFFSET = 1 << 31  # worker and generation are stored as int32: shift them to be non-negative
_FLIP = 0x7FFF_FFFF_FFFF_FFFF
_PACK = struct.Struct("<d")
_UNPACK = struct.Struct("<q")

# The metadata of a row. Flags: bit 0 active, bit 1 no loss (None), bit 2 no island rank.
_META = np.dtype(
    [
        ("loss", "<f8"),
        ("evaltime", "<f8"),
        ("evalperiod", "<f8"),
        ("generation", "<i4"),
        ("worker", "<i4"),
        ("island", "<i4"),
        ("current", "<i4"),
        ("migration_steps", "<i4"),
        ("island_rank", "<i4"),
        ("status", "<u1"),
        ("flags", "<u1"),
    ]
)
_ACTIVE, _NO_LOSS, _NO_ISLAND_RANK = 1, 2, 4
_SCALARS: tuple[str, ...] = ("loss", "evaltime", "evalperiod", "generation", "worker", "island")
_SCALARS += ("current", "migration_steps", "_island_rank", "status", "active")
_FIELDS: tuple[str, ...] = _META.names or ()
_SPARSE = ("velocity", "losses", "constraints")  # kept by row only where not None
_INFINITY = float("inf")
_SLOTS = frozenset(Individual.__slots__)
_RECENT = 256  # views kept alive after their last use (see Columns._recent)
_SHIFT = 12
_CHUNK = 1 << _SHIFT  # rows per chunk: 4,096 (a 10-d chunk takes 550 KB)
_INDEX = _CHUNK - 1
_SPARSE_GAP = 1 << 16  # a generation this far past a worker's array is kept in a dict
_GROWTH = 1.25  # capacity grows by a quarter: amortized O(1) appends, at most 25 % unused


def sort_code(
    loss: float | None, worker: int, generation: int, row: int, violated: float = 0.0
) -> int:
    """One int ordering rows as ``(violated, loss, worker, generation)``, the row in its low bits.

    A missing, NaN or infinite loss (a failed evaluation) sorts after every other row, as
    ``(inf, inf)``; a feasible row (``violated`` 0, see :mod:`propulate.feasibility`) before
    every infeasible one. Plain ints sort fast and take 48 bytes (56 for an infeasible row), a
    tuple of four numbers about 180.
    """
    if loss is None or loss != loss or loss == _INFINITY:
        loss = violated = _INFINITY
    bits = _UNPACK.unpack(_PACK.pack(loss + 0.0))[0]  # inline: this runs once per result
    if bits < 0:
        bits ^= _FLIP
    code = (
        (bits + (1 << 63)) << 96
        | (worker + _OFFSET) << 64
        | (generation + _OFFSET) << 32
        | row  # fmt: skip
    )
    if violated > 0.0:  # above every feasible code, in the order of the violation
        code |= (_float_bits(violated) + 1) << 160
    return code


def _float_bits(value: float) -> int:
    """The float's bits as a signed int, negatives flipped: orders like the floats (-0.0 == 0.0)."""
    bits = _UNPACK.unpack(_PACK.pack(value + 0.0))[0]
    return bits ^ _FLIP if bits < 0 else bits  # type: ignore[no-any-return]


def generation_code(generation: int, row: int) -> int:
    """One int that orders rows by generation, with the row in its low bits."""
    return (generation + _OFFSET) << 32 | row


class _Stored(Individual):
    """An :class:`Individual` that is a row of a :class:`Columns` store: changes write through.

    Same memory layout as :class:`Individual` (no slots of its own), so an individual added to
    a population becomes one in place and whoever holds it sees later migrations.
    """

    __slots__ = ()
    _store: Columns
    _row: int

    def __getattr__(self, name: str) -> Any:
        # Called only for a slot not set yet: a new view reads what is asked from its row
        # (selection: the loss), and keeps it; set slots are read as fast as any Individual's.
        if name not in _LAZY:
            raise AttributeError(name)
        value = self._store.read(self._row, name)
        object.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in _WRITTEN:
            self._store.write(self._row, name, value)
        elif name not in _SLOTS:  # optional metadata (``error``, ``curve``): kept with the row
            self._store.attributes[self._row] = self.__dict__

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        self._store.sync_values(self._row, self)

    def _assign(self, values: dict[str, Value]) -> None:
        super()._assign(values)
        self._store.sync_values(self._row, self)

    def _write_position(self, position: np.ndarray) -> None:
        Individual.position.fset(self, position)  # type: ignore[attr-defined]
        self._store.sync_values(self._row, self)

    position = property(
        Individual.position.fget,  # type: ignore[attr-defined]  # mypy: a property is no overload
        _write_position,
    )

    @property
    def extras(self) -> dict[str, Any]:
        """The extra keys that start with ``_`` and their values (the stored dictionary)."""
        return self._store.extras.setdefault(self._row, self._extras)

    def detached(self) -> Individual:
        """A plain :class:`Individual` with the same data, tied to no store."""
        ind = Individual.__new__(Individual)
        for name in _COPIED:
            try:
                value = getattr(self, name)
            except AttributeError:
                continue
            object.__setattr__(ind, name, value)
        ind._extras = dict(self._extras)
        state = getattr(self, "__dict__", None)
        if state:
            ind.__dict__.update(state)
        return ind

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Pickle (and copy) as a plain Individual: never the whole store along with it.
        reduced = self.detached().__reduce_ex__(2)
        return (_new_individual, (), *reduced[2:])


def _new_individual() -> Individual:
    """An empty :class:`Individual` that unpickling fills (see ``_Stored.__reduce_ex__``)."""
    return Individual.__new__(Individual)


_WRITTEN = frozenset((*_SCALARS, *_SPARSE))
_LAZY = frozenset((*_WRITTEN, "_values", "_position", "_extras"))
_SLOT = {name: Individual.__dict__[name] for name in Individual.__slots__ if name != "__dict__"}
_COPIED = tuple(s for s in Individual.__slots__ if s not in ("_store", "_row", "__dict__"))
_COPIED = tuple(s for s in _COPIED if s not in ("__weakref__", "_extras"))


class Columns:
    """Every known individual of one search space as a row of growable arrays.

    Parameters
    ----------
    space : SearchSpace
        The search space of the individuals; one of another space is kept as an object.
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.size = 0
        dimensions = space.dimensions
        plain = not space.conditional and all(
            d.kind == "float" and not d.is_grid for d in dimensions
        )
        self._bounds = (
            ([float(d.low) for d in dimensions], [float(d.high) for d in dimensions])
            if plain
            else None
        )
        # Rows in chunks of _CHUNK (the last one grows up to that): growing never copies or
        # frees more than a chunk, which the allocator would keep resident.
        self._positions: list[np.ndarray] = []
        self._meta: list[np.ndarray] = []
        self._fields: list[dict[str, np.ndarray]] = []  # per chunk, one array per field
        self._capacity = 0
        self.statuses: list[str] = []  # status strings by code
        self._status_codes: dict[str, int] = {}
        self.velocity: dict[int, Any] = {}
        self.losses: dict[int, tuple[float, ...]] = {}
        self.constraints: dict[int, tuple[float, ...]] = {}
        self.extras: dict[int, dict[str, Any]] = {}
        self.attributes: dict[int, dict[str, Any]] = {}  # optional metadata (``error``...)
        self.foreign: dict[int, Individual] = {}  # rows of another search space: the object
        # (worker, generation) -> row: per worker, rows by generation >= 0 and by -1 - generation.
        self._rows: dict[int, tuple[array[int], array[int]]] = {}
        self._sparse_rows: dict[Key, int] = {}  # generations far from any seen before
        # Values hash -> the first row known with those values (open addressing, load <= 1/2).
        # array.array, not NumPy: as compact, and reading one item costs a tenth.
        self._hashes = array("q", bytes(8 * 64))
        self._hash_rows = array("i", [-1]) * 64
        self._hashed = 0
        # Row -> weak reference to its live view: one view per row while anyone holds it, so a
        # migration seen through one is seen through all. Dead references are swept when they
        # have doubled (cheaper than a WeakValueDictionary's callback on every view's end).
        self._views: dict[int, weakref.ref[Individual]] = {}
        self._sweep_at = 1024
        # The views made last, held a while: selection asks for the same best few again and
        # again, and finds them here instead of making them anew (a constant few hundred KB).
        self._recent: deque[Individual] = deque(maxlen=_RECENT)

    # ----- adding ---------------------------------------------------------------------------
    def append(self, ind: Individual) -> int:
        """Store ``ind`` as a new row; it becomes a view of that row (or is kept if foreign)."""
        row = self.size
        if row == self._capacity:
            self._grow()
        chunk, index = row >> _SHIFT, row & _INDEX
        positions = self._positions[chunk]
        own = ind.search_space is self.space or ind.search_space == self.space
        if own:
            position = ind._position
            if position is None and self._bounds is not None:
                # Plain floats encode as themselves: skip building an array to copy it here.
                values = ind._values
                positions[index] = list(map(values.__getitem__, self.space.names))
            else:
                positions[index] = ind.position
        else:
            positions[index] = np.nan
            self.foreign[row] = ind
        self._meta[chunk][index] = self._meta_of(ind)
        self.size = row + 1
        for name in _SPARSE:
            value = getattr(ind, name)
            if value is not None:
                getattr(self, name)[row] = value
        if ind._extras:
            self.extras[row] = ind._extras
        state = getattr(ind, "__dict__", None)
        if state:
            self.attributes[row] = state
        self._set_row(ind.worker, ind.generation, row)
        if own and type(ind) is Individual:
            # The caller's object becomes the row's view: whoever holds it sees later changes.
            object.__setattr__(ind, "_store", self)
            object.__setattr__(ind, "_row", row)
            ind.__class__ = _Stored
            self._remember(row, ind)
        return row

    def _meta_of(self, ind: Individual) -> tuple[Any, ...]:
        loss, island_rank = ind.loss, ind._island_rank
        flags = (_ACTIVE if ind.active else 0) | (_NO_LOSS if loss is None else 0)
        flags |= _NO_ISLAND_RANK if island_rank is None else 0
        return (
            float("nan") if loss is None else loss,
            ind.evaltime,
            ind.evalperiod,
            ind.generation,
            ind.worker,
            ind.island,
            ind.current,
            ind.migration_steps,
            -1 if island_rank is None else island_rank,
            self._status_code(ind.status),
            flags,
        )

    def _status_code(self, status: str) -> int:
        code = self._status_codes.get(status)
        if code is None:
            code = self._status_codes[status] = len(self.statuses)
            self.statuses.append(status)
        return code

    def _grow(self) -> None:
        last = len(self._meta[-1]) if self._meta else _CHUNK
        if last == _CHUNK:  # a new chunk
            self._positions.append(np.empty((0, self.space.encoded_size)))
            self._meta.append(np.empty(0, dtype=_META))
            self._fields.append({})
            last = 0
        filled = self.size - (len(self._meta) - 1) * _CHUNK
        length = min(_CHUNK, int(last * _GROWTH) + 64)
        positions = np.empty((length, self.space.encoded_size))
        positions[:filled] = self._positions[-1][:filled]
        meta = np.empty(length, dtype=_META)
        meta[:filled] = self._meta[-1][:filled]
        self._positions[-1], self._meta[-1] = positions, meta
        self._fields[-1] = {name: meta[name] for name in _FIELDS}
        self._capacity += length - last

    def position_of(self, row: int) -> np.ndarray:
        """The stored position of ``row`` (the array itself, not a copy)."""
        return self._positions[row >> _SHIFT][row & _INDEX]  # type: ignore[no-any-return]

    def _field(self, name: str, row: int) -> Any:
        return self._fields[row >> _SHIFT][name][row & _INDEX]

    def _record(self, row: int) -> np.ndarray:
        index = row & _INDEX
        return self._meta[row >> _SHIFT][index : index + 1]

    # ----- reading --------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.size

    def view(self, row: int) -> Individual:
        """The individual of ``row``: the live view if anyone holds one, else a new one."""
        ind = self._live(row)
        if ind is not None:
            return ind
        foreign = self.foreign.get(row)
        if foreign is not None:
            return foreign
        ind = _Stored.__new__(_Stored)
        slot = _SLOT
        slot["_space"].__set__(ind, self.space)
        slot["_key"].__set__(ind, None)
        slot["_store"].__set__(ind, self)
        slot["_row"].__set__(ind, row)
        state = self.attributes.get(row)
        if state is not None:
            object.__setattr__(ind, "__dict__", state)
        self._remember(row, ind)
        self._recent.append(ind)
        return ind

    def _live(self, row: int) -> Individual | None:
        ref = self._views.get(row)
        return None if ref is None else ref()

    def _remember(self, row: int, ind: Individual) -> None:
        views = self._views
        views[row] = weakref.ref(ind)
        if len(views) >= self._sweep_at:
            for dead in [row for row, ref in views.items() if ref() is None]:
                del views[dead]
            self._sweep_at = max(1024, 2 * len(views))

    def __iter__(self) -> Iterator[Individual]:
        return (self.view(row) for row in range(self.size))

    def decode(self, row: int) -> dict[str, Value]:
        """The hyperparameter values of ``row`` (as :meth:`SearchSpace.decode` gives them)."""
        if self._bounds is None:
            return self.space.decode(self.position_of(row))
        # Plain float ranges: clip as Dimension.clip does (a NaN falls back to the lower bound),
        # in plain Python: NumPy's calls cost more than they save on one row of a few numbers.
        return {
            name: low if value != value else (low if value < low else min(value, high))
            for name, value, low, high in zip(
                self.space.names, self.position_of(row).tolist(), *self._bounds, strict=True
            )
        }

    def read(self, row: int, name: str) -> Any:
        """One attribute of ``row`` as its :class:`Individual` has it (a view reads it)."""
        if name in _SPARSE:
            return getattr(self, name).get(row)
        if name == "_values":
            return self.decode(row)
        if name == "_position":
            position = self.position_of(row).copy()
            position.flags.writeable = False
            return position
        if name == "_extras":
            return self.extras.get(row) or {}
        if name == "loss":
            return None if self._flags(row) & _NO_LOSS else self._field("loss", row).item()
        if name == "active":
            return bool(self._flags(row) & _ACTIVE)
        if name == "_island_rank":
            flags = self._flags(row)
            return None if flags & _NO_ISLAND_RANK else self._field("island_rank", row).item()
        if name == "status":
            return self.statuses[self._field("status", row)]
        return self._field(name, row).item()

    def _flags(self, row: int) -> int:
        return int(self._field("flags", row))

    def field(self, row: int, name: str) -> Any:
        """One metadata field of ``row`` as a Python value (no view made)."""
        return self._field(name, row).item()

    def is_active(self, row: int) -> bool:
        """Whether ``row`` is active."""
        return bool(self._flags(row) & _ACTIVE)

    def sort_code(self, row: int) -> int:
        """The row's :func:`sort_code` from its stored loss, worker and generation."""
        loss, _, _, generation, worker, *_, flags = self._record(row)[0].item()
        violated = violation(self.constraints.get(row))
        return sort_code(None if flags & _NO_LOSS else loss, worker, generation, row, violated)

    # ----- writing --------------------------------------------------------------------------
    def write(self, row: int, name: str, value: Any) -> None:
        """Write one attribute of ``row`` (a view's attribute was set)."""
        if name in _SPARSE:
            column = getattr(self, name)
            if value is None:
                column.pop(row, None)
            else:
                column[row] = value
            return
        record = self._record(row)
        if name == "loss":
            record["loss"] = float("nan") if value is None else value
            self._flag(record, _NO_LOSS, value is None)
        elif name == "active":
            self._flag(record, _ACTIVE, bool(value))
        elif name == "_island_rank":
            record["island_rank"] = -1 if value is None else value
            self._flag(record, _NO_ISLAND_RANK, value is None)
        elif name == "status":
            record["status"] = self._status_code(value)
        else:
            record[name] = value

    @staticmethod
    def _flag(record: np.ndarray, flag: int, on: bool) -> None:
        flags = int(record["flags"][0])
        record["flags"] = flags | flag if on else flags & ~flag

    def move(self, row: int, active: bool, current: int, migration_steps: int) -> None:
        """Set the migration state of ``row`` (and of its live view or object, if any)."""
        ind = self._live(row) or self.foreign.get(row)
        if ind is not None:  # its slots (a view's cache) follow; the row is written below
            _SLOT["active"].__set__(ind, active)
            _SLOT["current"].__set__(ind, current)
            _SLOT["migration_steps"].__set__(ind, migration_steps)
        record = self._record(row)
        record["current"] = current
        record["migration_steps"] = migration_steps
        self._flag(record, _ACTIVE, active)

    def sync_values(self, row: int, ind: Individual) -> None:
        """A view's hyperparameters or extra keys changed: write them back to the row."""
        if ind._extras:
            self.extras[row] = ind._extras
        self.position_of(row)[:] = ind.position

    # ----- (worker, generation) -> row ------------------------------------------------------
    def row_of(self, key: Key) -> int:
        """The row of the individual with ``key``, -1 if none."""
        rows = self._rows.get(key[0])
        if rows is None:
            return -1
        generation = key[1]
        column, index = (rows[0], generation) if generation >= 0 else (rows[1], -1 - generation)
        row = column[index] if index < len(column) else -1
        return row if row >= 0 or not self._sparse_rows else self._sparse_rows.get(key, -1)

    def _set_row(self, worker: int, generation: int, row: int) -> None:
        rows = self._rows.get(worker)
        if rows is None:
            rows = self._rows[worker] = (array("i", [-1]) * 16, array("i"))
        side, index = (0, generation) if generation >= 0 else (1, -1 - generation)
        column = rows[side]
        if index >= 2 * len(column) + _SPARSE_GAP:
            # Far beyond the generations seen: a dense array up to it would waste memory.
            self._sparse_rows[(worker, generation)] = row
            return
        if index >= len(column):
            # Generations of a worker are dense (0, 1, 2...): grow the array to hold index.
            column.extend(
                array("i", [-1]) * (max(index + 1, int(len(column) * _GROWTH) + 16) - len(column))
            )
        column[index] = row

    # ----- hyperparameter values -> first row -----------------------------------------------
    def values_key(self, row: int) -> tuple[Value | None, ...]:
        """The :meth:`Individual.values_key` of ``row``."""
        known = self._live(row) or self.foreign.get(row)
        if known is not None:  # its key is likely made already
            return known.values_key()
        values = self.decode(row)
        return tuple(values.get(name) for name in self.space.names)

    def find_values(self, key: tuple[Value | None, ...]) -> int:
        """The first row known with values ``key``, -1 if none."""
        return self._find(key, hash(key))

    def _find(self, key: tuple[Value | None, ...], code: int) -> int:
        mask = len(self._hashes) - 1
        slot = code & mask
        hashes, rows = self._hashes, self._hash_rows
        while True:
            row = rows[slot]
            if row < 0:
                return -1
            if hashes[slot] == code and self.values_key(row) == key:
                return row
            slot = (slot + 1) & mask

    def add_values(self, key: tuple[Value | None, ...], row: int) -> None:
        """Remember ``row`` under values ``key`` unless a row with them is known."""
        code = hash(key)  # once: a tuple's hash is not cached
        if self._find(key, code) >= 0:
            return
        if 2 * (self._hashed + 1) > len(self._hashes):
            self._rehash(2 * len(self._hashes))
        self._insert(code, row)
        self._hashed += 1

    def _insert(self, code: int, row: int) -> None:
        mask = len(self._hashes) - 1
        slot = code & mask
        while self._hash_rows[slot] >= 0:
            slot = (slot + 1) & mask
        self._hashes[slot] = code
        self._hash_rows[slot] = row

    def _rehash(self, capacity: int) -> None:
        entries = [(c, r) for c, r in zip(self._hashes, self._hash_rows, strict=True) if r >= 0]
        self._hashes = array("q", bytes(8 * capacity))
        self._hash_rows = array("i", [-1]) * capacity
        for code, row in entries:
            self._insert(code, row)
