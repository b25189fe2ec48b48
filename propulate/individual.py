"""One candidate: a dictionary-like view of its hyperparameters plus its evaluation's metadata.

:class:`Individual` keeps the values by name and their encoded position (see
:class:`~propulate.search_space.SearchSpace`) consistent; :class:`Status` names what became of its
evaluation. Both are importable from :mod:`propulate.population` too, where they always were.
"""

from __future__ import annotations

import math
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any

import numpy as np

from .search_space import Limits, SearchSpace, Value

__all__ = ["Individual", "Status", "Key"]


class Status:
    """What became of an individual's evaluation (plain strings, stored in checkpoints)."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"
    PRUNED = "pruned"
    INTERRUPTED = "interrupted"  # stopped when the run ended; resumed by the next one


#: An evaluated individual's identity in a run, ``(worker, generation)``.
Key = tuple[int, int]
_METADATA = (
    "loss",
    "generation",
    "worker",
    "island",
    "active",
    "evaltime",
    "evalperiod",
    "status",
    "migration_steps",
    "current",
    "losses",
    "constraints",
)


class Individual(Mapping[str, Value]):
    """One candidate: its hyperparameter values and the metadata of its evaluation.

    Parameters
    ----------
    position : Mapping[str, int | float | str] or numpy.ndarray
        The values by name, or their encoded position (ints and floats one slot each, a
        categorical one-hot over its choices, in the order of ``limits``).
    limits : Mapping[str, tuple] or SearchSpace
        The search space.
    velocity : numpy.ndarray, optional
        A velocity for particle-swarm propagators.
    generation : int
        The generation (evaluation count of its worker) it was bred in; -1 if unknown.
    rank : int
        The rank of the worker that bred it (see :attr:`rank`); -1 if unknown.

    Attributes
    ----------
    worker : int
        The rank in the whole run of the worker that bred it, -1 if unknown; with
        ``generation`` it makes the :attr:`key`.
    loss : float or None
        The loss, ``None`` until evaluated; ``inf`` when the evaluation failed. With several
        objectives (see :mod:`propulate.objectives`), the first objective in minimization sign
        (a maximized objective negated).
    losses : tuple of float or None
        Every objective in minimization sign, in declaration order, when the loss function
        returned several values or objectives were declared; ``None`` otherwise, until
        evaluated, and when the evaluation failed.
    constraints : tuple of float or None
        The constraint values the loss function returned with its result (a value ``<= 0`` is
        satisfied; see :mod:`propulate.feasibility`); ``None`` when it returned none. Every
        ranking puts the feasible individuals first.
    status : str
        One of :class:`Status`'s values.
    island : int
        The island it was bred on.
    active : bool
        Whether it takes part in breeding on its island (``False`` after emigrating or being
        replaced by a pollinator).
    current : int
        The rank currently responsible for it (migration bookkeeping).
    evaltime : float
        Unix time at which its evaluation finished (``inf`` until evaluated).
    evalperiod : float
        Duration of its evaluation in seconds.
    migration_steps : int
        How often it migrated.

    Notes
    -----
    ``position`` is read-only: set values by name (``ind["lr"] = 0.01``) or assign a new array
    to ``ind.position``; both keep values and position consistent.

    Keys that start with ``_`` (``ind["_s"] = 3``, as in Propulate 1.2) hold extra data beside
    the hyperparameters: they are not part of the position, of :meth:`values_key` or of the
    search space, are kept in the checkpoint and appear in results and exports. As in 1.2,
    ``len`` and iteration count the hyperparameters only, while ``in``, :meth:`keys`,
    :meth:`items`, :meth:`values` and :attr:`mapping` include the extra keys. A child bred from
    an individual starts without them.
    """

    __slots__ = (
        "_space",
        "_values",
        "_extras",
        "_position",
        "_key",
        "velocity",
        "_island_rank",
        *_METADATA,
        "__dict__",
        # A row of a population's column store (see propulate.columns), once added to one.
        "_store",
        "_row",
        "__weakref__",
    )
    _island_rank: int | None  # the rank within the island, when it differs from ``worker``
    worker: int

    def __init__(
        self,
        position: Mapping[str, Value] | np.ndarray,
        limits: Limits | SearchSpace,
        velocity: np.ndarray | None = None,
        generation: int = -1,
        rank: int = -1,
    ) -> None:
        self._space = SearchSpace.of(limits)
        self._extras: dict[str, Any] = {}
        if isinstance(position, np.ndarray):
            self.position = position
        else:
            self._set_values(position)
        self.velocity = velocity
        self.generation = generation
        self.rank = rank
        self.loss: float | None = None
        self.losses: tuple[float, ...] | None = None
        self.constraints: tuple[float, ...] | None = None
        self.status = Status.PENDING
        self.island = -1
        self.active = True
        self.current = -1
        self.evaltime = math.inf
        self.evalperiod = 0.0
        self.migration_steps = 0

    @classmethod
    def _from_trusted(cls, values: dict[str, Value], space: SearchSpace) -> Individual:
        """Build from values known to be valid (no validation; used on the hot path)."""
        ind = cls.__new__(cls)
        ind._space = space
        ind._values = values
        ind._extras = {}
        ind._position = None  # encoded lazily
        ind._key = None  # values_key, made on first use
        ind.velocity = None
        ind.generation = ind.worker = ind.island = ind.current = -1
        ind._island_rank = None
        ind.loss = ind.losses = ind.constraints = None
        ind.status = Status.PENDING
        ind.active = True
        ind.evaltime = math.inf
        ind.evalperiod = 0.0
        ind.migration_steps = 0
        return ind

    def _set_values(self, values: Mapping[str, Any]) -> None:
        space = self._space
        self._extras = {k: v for k, v in values.items() if _is_extra(k)}
        if space.conditional:
            # An inactive parameter has no value: None or NaN (an empty cell) stand for none.
            values = {k: v for k, v in values.items() if not _is_empty(v)}
        active = space.active(values) if space.conditional else set(space.names)
        missing = active - set(values)
        extra = set(values) - set(space.names) - set(self._extras)
        if missing or extra:
            raise KeyError(
                f"values do not match the search space: missing {sorted(missing)}, "
                f"unknown {sorted(extra)}."
            )
        # The values of inactive parameters are dropped: they have no effect.
        self._values = {
            name: space.coerce(name, values[name]) for name in space.names if name in active
        }
        self._position: np.ndarray | None = None
        self._key: tuple[Value | None, ...] | None = None

    # ----- the encoded position -------------------------------------------------------------
    @property
    def position(self) -> np.ndarray:
        """The encoded position (read-only array)."""
        position = self._position
        if position is None:
            position = self._space.encode(self._values)
            position.flags.writeable = False
            self._position = position
        return position

    @position.setter
    def position(self, position: np.ndarray) -> None:
        self._values = self._space.decode(position)
        self._key = None
        # Keep the caller's continuous values (the decode clipped ints); copy so we own it.
        position = np.array(position, dtype=float)
        position.flags.writeable = False
        self._position = position

    @property
    def limits(self) -> dict[str, tuple[Any, ...]]:
        """The limits dictionary of the search space."""
        return self._space.limits

    @property
    def search_space(self) -> SearchSpace:
        """The search space the individual lives in."""
        return self._space

    @property
    def types(self) -> dict[str, type]:
        """The Python type of each hyperparameter."""
        return {d.name: d.value_type for d in self._space}

    @property
    def key(self) -> Key:
        """``(worker, generation)``: unique for every evaluated individual of a run."""
        return (self.worker, self.generation)

    @property
    def rank(self) -> int:
        """The rank within its island of the worker that bred it, as in Propulate 1.2.

        Equal to :attr:`worker` (the rank in the whole run) with one island. Setting it sets
        both (an individual made by hand, or one that stands for another).
        """
        island_rank = self._island_rank
        return self.worker if island_rank is None else island_rank

    @rank.setter
    def rank(self, rank: int) -> None:
        self.worker = rank
        self._island_rank = None

    # ----- mapping interface ----------------------------------------------------------------
    def __getitem__(self, name: str) -> Value:
        try:
            return self._values[name]  # the hot path: a loss reads every hyperparameter
        except KeyError:
            if _is_extra(name):
                return self._extras[name]  # type: ignore[no-any-return]  # any data a user keeps
            space = self._space
            if space.conditional and name in space.by_name:
                raise KeyError(f"{space.conditions.explain(name, self._values)}") from None
            raise

    def __setitem__(self, name: str, value: Any) -> None:
        if _is_extra(name):
            self._extras[name] = value
            return
        space = self._space
        if space.conditional:
            self._set_conditional(name, space.coerce(name, value))
            return
        self._change_values({name: value})

    def _set_conditional(self, name: str, value: Value) -> None:
        """Set a value of a conditional space: parameters it (de)activates follow."""
        conditions = self._space.conditions
        if name not in conditions.active(self._values):
            raise KeyError(
                f"{conditions.explain(name, self._values)}: it has no value to set. Set the "
                f"parameter(s) it depends on first."
            )
        values = {**self._values, name: value}
        if conditions.active(values) != set(values):
            # A parameter that becomes active takes the value its slot holds (the placeholder
            # of the search space, or its last value): set it afterwards to choose another.
            held = dict(zip(self._space.names, _slots(self._space, self.position), strict=True))
            values = conditions.prune({**held, **values})
        self._assign(values)

    def _assign(self, values: dict[str, Value]) -> None:
        """Replace the hyperparameter values by ``values`` (trusted: complete and valid)."""
        self._values = values
        self._key = None
        self._position = None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values or name in self._extras

    def __delitem__(self, name: str) -> None:
        if not _is_extra(name):
            raise KeyError(
                f"{name!r}: only extra keys starting with '_' can be deleted; a hyperparameter "
                "always has a value (set another one instead)."
            )
        del self._extras[name]

    def keys(self) -> KeysView[str]:  # type: ignore[override]  # 1.2: the extra keys too
        """The hyperparameter names followed by the extra ``_`` keys (as in Propulate 1.2)."""
        return (self.mapping if self._extras else self._values).keys()

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]  # 1.2: extras too
        """The hyperparameters and the extra ``_`` keys with their values."""
        return (self.mapping if self._extras else self._values).items()

    def values(self) -> ValuesView[Any]:  # type: ignore[override]  # 1.2: extras too
        """The hyperparameter values followed by those of the extra ``_`` keys."""
        return (self.mapping if self._extras else self._values).values()

    @property
    def mapping(self) -> dict[str, Any]:
        """A plain dictionary of the hyperparameters and the extra ``_`` keys (a copy)."""
        return {**self._values, **self._extras}

    @property
    def extras(self) -> dict[str, Any]:
        """The extra keys that start with ``_`` and their values (the stored dictionary)."""
        return self._extras

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set several values at once, like :meth:`dict.update`."""
        changes = dict(*args, **kwargs)
        if self._space.conditional or type(self) is not Individual or any(map(_is_extra, changes)):
            for name, value in changes.items():
                self[name] = value
            return
        self._change_values(changes)

    def _change_values(self, changes: Mapping[str, Any]) -> None:
        """Set hyperparameters of an unconditional space in order, copying the position once.

        Breeding sets several values of a child at a time; a value refused stops there, with
        the ones before it set.
        """
        space = self._space
        values, position = self._values, self._position
        if position is not None:
            position = position.copy()
        try:
            for name, value in changes.items():
                value = space.coerce(name, value)
                values[name] = value
                if position is not None:
                    space.write_slot(position, space[name], value)
        finally:
            self._key = None
            if position is not None:
                position.flags.writeable = False
                self._position = position

    def values_dict(self) -> dict[str, Value]:
        """A plain dictionary copy of the hyperparameter values."""
        return dict(self._values)

    def values_key(self) -> tuple[Value | None, ...]:
        """The hyperparameter values in search-space order: equal for equal hyperparameters.

        An inactive conditional parameter is ``None``.
        """
        key = self._key
        if key is None:  # the values change only through the methods that reset it
            values = self._values
            # An inactive parameter is None: equal hyperparameters have equal keys.
            key = self._key = tuple(map(values.get, self._space.names))
        return key

    # ----- comparison and display -----------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Individual):
            return NotImplemented
        return (
            self._values == other._values
            and self._extras == other._extras
            and self._space == other._space
            and all(_same(getattr(self, a), getattr(other, a)) for a in _METADATA)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable mapping: not hashable

    def equals(self, other: object) -> bool:
        """Whether ``other`` has the same hyperparameter values and loss (metadata ignored)."""
        return (
            isinstance(other, Individual)
            and self._values == other._values
            and _same(self.loss, other.loss)
        )

    def copy(self) -> Individual:
        """A copy with the same values and position and fresh metadata (for breeding)."""
        child = Individual._from_trusted(dict(self._values), self._space)
        # Share the read-only position: it may be continuous (a particle between grid points)
        # and re-encoding the values would lose that. Updates replace it, never write into it.
        child._position = self._position
        if self.velocity is not None:
            child.velocity = self.velocity.copy()
        return child

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={_short(v)}" for k, v in self.mapping.items())
        loss = "not evaluated" if self.loss is None else f"loss={self.loss:.6g}"
        if self.losses is not None and len(self.losses) > 1:
            loss = "losses=(" + ", ".join(f"{v:.6g}" for v in self.losses) + ")"
        state = "" if self.active else ", inactive"
        status = "" if self.status in (Status.OK, Status.PENDING) else f", {self.status}"
        return (
            f"Individual({values} | {loss}, island={self.island}, rank={self.rank}, "
            f"generation={self.generation}{status}{state})"
        )


def _is_extra(name: object) -> bool:
    """Whether ``name`` is an extra key (1.2's ``_``-prefixed keys), never a hyperparameter."""
    return isinstance(name, str) and name.startswith("_")


def _is_empty(value: Any) -> bool:
    """Whether ``value`` stands for "no value" (None, NaN, an empty string: an empty cell)."""
    return value is None or (isinstance(value, float) and value != value) or value == ""


def _slots(space: SearchSpace, position: np.ndarray) -> list[Value]:
    """The value every slot of ``position`` holds, active or not."""
    return [space.read_slot(position, d) for d in space.dimensions]


def _short(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)
