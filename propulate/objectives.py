"""Several objectives: their declaration, and turning what ``loss_fn`` returns into a vector.

A loss function may return one number (as always), a tuple or list of numbers, or a dict of
numbers by objective name. The objectives are declared once, with the ``objectives`` keyword of
:class:`~propulate.Propulator` and :class:`~propulate.Islands`::

    objectives=["accuracy", "latency"]                          # both minimized
    objectives={"accuracy": "maximize", "latency": "minimize"}
    objectives=[Objective("accuracy", "maximize"), "latency"]

Without a declaration, a tuple or list minimizes every one of its values (named
``objective_0``, ``objective_1``...). Every value is stored in *minimization sign* (a maximized
objective negated) in :attr:`Individual.losses <propulate.population.Individual>`;
:attr:`Individual.loss` stays one float, as in Propulate 1.2: the first objective in
minimization sign. The first objective is also the one early stopping watches (the value a
generator yields, or the first of the values it yields), so declare it first.

A dict result may carry constraint values under the reserved key ``"constraints"`` (a value
``<= 0`` is satisfied; see :mod:`propulate.feasibility`), beside the objectives by name or, with
nothing declared, beside ``"loss"`` (one number or a tuple)::

    return {"loss": error, "constraints": [memory_gb - 8.0]}

They are stored as :attr:`Individual.constraints <propulate.population.Individual>`.

An evaluation whose result does not match the declaration (a wrong number of values, a dict
with other names, a value that is not a finite number) is recorded as *failed*, with a message
that says what was returned and what was declared.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError
from .feasibility import CONSTRAINTS_KEY, constraint_values

__all__ = ["Objective", "Objectives", "ObjectiveMismatch", "MINIMIZE", "MAXIMIZE"]

MINIMIZE = "minimize"
MAXIMIZE = "maximize"
_DIRECTIONS = (MINIMIZE, MAXIMIZE)
_EXAMPLE = '{"accuracy": "maximize", "latency": "minimize"}'
_LOSS_KEY = "loss"  # a dict result's value when no objective has this name

log = logging.getLogger("propulate.propulator")  # where a run's start-up warnings go


class ObjectiveMismatch(ValueError):
    """What ``loss_fn`` returned does not fit the declared objectives (the evaluation fails)."""


@dataclass(frozen=True)
class Objective:
    """One objective: its name and whether it is minimized or maximized.

    Parameters
    ----------
    name : str
        The name shown in summaries and used as export column.
    direction : str
        ``"minimize"`` (default) or ``"maximize"``.
    """

    name: str
    direction: str = MINIMIZE

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(
                f"Objective: name={self.name!r} must be a non-empty string; e.g. "
                'Objective("accuracy", "maximize").'
            )
        if self.direction not in _DIRECTIONS:
            raise ConfigurationError(
                f"Objective({self.name!r}): direction={self.direction!r} must be 'minimize' or "
                f"'maximize'; e.g. Objective({self.name!r}, 'maximize')."
            )

    @property
    def sign(self) -> float:
        """The factor that turns the value into one to minimize (1.0, or -1.0 to maximize)."""
        return 1.0 if self.direction == MINIMIZE else -1.0


class _Scored(float):
    """The first objective in minimization sign, carrying the whole vector for the loop.

    ``losses`` is ``None`` for one undeclared objective returned with constraints only.
    """

    losses: tuple[float, ...] | None
    constraints: tuple[float, ...] | None = None


class Objectives:
    """The declared objectives of a run (or none: then a tuple minimizes every value).

    Parameters
    ----------
    declared : sequence of Objective, or None
        The objectives, in order; ``None`` when nothing was declared.

    Notes
    -----
    Build it with :meth:`parse`, which accepts what users write.
    """

    def __init__(self, declared: Sequence[Objective] | None = None) -> None:
        self.declared = None if declared is None else tuple(declared)
        self._count: int | None = None if self.declared is None else len(self.declared)
        self._first_only: list[str] = []  # strategies to warn about at the first vector

    # ----- declaration ------------------------------------------------------------------------
    @classmethod
    def parse(cls, owner: str, value: Any) -> Objectives:
        """The objectives ``value`` declares (the ``objectives`` keyword), checked.

        Parameters
        ----------
        owner : str
            The class whose keyword it is (for the error message).
        value : None, str, Objective, sequence or mapping
            ``None`` (nothing declared), a name or :class:`Objective`, a list of names and
            :class:`Objective` objects (names alone are minimized), or a dict of name to
            direction.

        Returns
        -------
        Objectives
            The declaration.

        Raises
        ------
        ConfigurationError
            If ``value`` is none of these, a direction is unknown, or a name repeats.
        """
        if value is None or isinstance(value, Objectives):
            return value if isinstance(value, Objectives) else cls(None)
        items: list[Objective] = []
        if isinstance(value, str | Objective):
            value = [value]
        if isinstance(value, Mapping):
            for name, direction in value.items():
                if direction not in _DIRECTIONS:
                    raise ConfigurationError(
                        f"{owner}: objectives[{name!r}]={direction!r} must be 'minimize' or "
                        f"'maximize'; e.g. objectives={_EXAMPLE}."
                    )
                items.append(Objective(str(name), direction))
        elif isinstance(value, Iterable):
            for item in value:
                if isinstance(item, Objective):
                    items.append(item)
                elif isinstance(item, str) and item:
                    items.append(Objective(item))
                else:
                    raise ConfigurationError(
                        f"{owner}: objectives holds {item!r}; each objective must be a name or "
                        f"an Objective(name, direction); e.g. objectives={_EXAMPLE}."
                    )
        else:
            raise ConfigurationError(
                f"{owner}: objectives={value!r} must be a list of names, a dict of name to "
                f"'minimize'/'maximize', or None; e.g. objectives={_EXAMPLE}."
            )
        names = [o.name for o in items]
        if CONSTRAINTS_KEY in names:
            raise ConfigurationError(
                f"{owner}: objectives={value!r} names an objective {CONSTRAINTS_KEY!r}, the "
                "reserved key of a dict result for constraint values; rename the objective."
            )
        if not items or len(set(names)) != len(names):
            raise ConfigurationError(
                f"{owner}: objectives={value!r} must name at least one objective, each once; "
                f"e.g. objectives={_EXAMPLE}."
            )
        return cls(items)

    @classmethod
    def from_header(cls, stored: Any) -> Objectives:
        """The declaration stored in a checkpoint header (see :meth:`to_header`)."""
        if not isinstance(stored, list) or not stored:
            return cls(None)
        return cls([Objective(str(o["name"]), str(o["direction"])) for o in stored])

    def to_header(self) -> list[dict[str, str]] | None:
        """The declaration as plain JSON values, for a checkpoint header."""
        if self.declared is None:
            return None
        return [{"name": o.name, "direction": o.direction} for o in self.declared]

    # ----- reading -------------------------------------------------------------------------
    @property
    def is_declared(self) -> bool:
        """Whether the objectives were declared."""
        return self.declared is not None

    def names(self, count: int) -> list[str]:
        """The names of ``count`` objectives (``objective_<i>`` where none were declared)."""
        if self.declared is not None and len(self.declared) == count:
            return [o.name for o in self.declared]
        return [f"objective_{i}" for i in range(count)]

    def signs(self, count: int) -> list[float]:
        """The signs turning minimization-sign values into the user's values (and back)."""
        if self.declared is not None and len(self.declared) == count:
            return [o.sign for o in self.declared]
        return [1.0] * count

    def value_format(self) -> Callable[[float], str] | None:
        """How the console shows a loss: as the first declared objective, in the user's sign.

        ``None`` when nothing was declared (the console then says ``"loss 0.123"``); with
        ``objectives={"accuracy": "maximize"}``, a loss of -0.972 shows as ``"accuracy 0.972"``.
        The progress line's best and the per-epoch lines use it. Intermediate values are losses
        too: a generator's values are turned into them like its result, and values given to
        :func:`~propulate.report_intermediate` are taken as such (the Lightning callback
        negates a metric it is told to maximize).
        """
        if self.declared is None:
            return None
        first = self.declared[0]

        def show(value: float) -> str:
            if not math.isfinite(value):
                return f"{first.name} n/a"
            return f"{first.name} {first.sign * value:.6g}"

        return show

    def user_values(self, losses: Sequence[float]) -> list[float]:
        """The values as the loss function returned them (maximized objectives un-negated)."""
        return [s * v for s, v in zip(self.signs(len(losses)), losses, strict=True)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Objectives) and self.declared == other.declared

    __hash__ = None  # type: ignore[assignment]  # compared by value, mutable count

    def __repr__(self) -> str:
        return f"Objectives({list(self.declared) if self.declared is not None else None})"

    # ----- strategies that optimize one objective -------------------------------------------------
    def warn_first_only(self, propagator: Any, loud: bool = True) -> None:
        """Warn once that a strategy of ``propagator`` optimizes the first objective only.

        Particle swarms, CMA-ES and Nelder-Mead (the stages with ``first_objective_only``)
        rank by :attr:`Individual.loss`, the first objective in minimization sign. With several
        declared objectives the warning comes now (at the start of a run); with an undeclared
        tuple, when the first result shows several values.

        Parameters
        ----------
        propagator : Propagator
            The run's propagator (its nested stages are searched).
        loud : bool
            Whether this rank warns (one rank is enough).
        """
        from .propagators.base import walk  # deferred: the propagators import this module

        names = sorted({type(stage).__name__ for stage in walk(propagator)
                        if getattr(stage, "first_objective_only", False)})  # fmt: skip
        self._first_only = names if loud else []
        if self._first_only and self._count is not None and self._count > 1:
            self._warn_first_only(self._count)

    def _warn_first_only(self, count: int) -> None:
        names = self.names(count)
        first = "" if self.declared is None else f" ({self.declared[0].direction}d)"
        strategies = " and ".join(self._first_only)
        log.warning(
            "%s optimize%s the first objective only, %r%s; the others (%s) are recorded but "
            "do not guide it. To search over every objective use the default propagator "
            "(Pareto selection) or TPE; to optimize another objective, declare it first.",
            strategies, "" if len(self._first_only) > 1 else "s", names[0], first,
            ", ".join(repr(n) for n in names[1:]),
        )  # fmt: skip
        self._first_only = []  # once

    # ----- converting results ------------------------------------------------------------------
    def score(self, result: Any) -> Any:
        """What ``loss_fn`` returned, as the loop records it.

        A plain number with nothing declared is returned unchanged (the single-objective path
        of Propulate 1.2). Anything else becomes a float (the first objective in minimization
        sign) that carries the vector of every objective in minimization sign as ``losses``.

        Raises
        ------
        ObjectiveMismatch
            If ``result`` does not fit the declaration.
        """
        declared = self.declared
        if isinstance(result, Mapping) and CONSTRAINTS_KEY in result:
            return self._with_constraints(result)
        if getattr(result, "ndim", 0) == 1 and callable(getattr(result, "tolist", None)):
            result = result.tolist()  # a numpy array (or tensor) of values
        if declared is None and not isinstance(result, Sequence | Mapping):
            return result  # one number, nothing declared: unchanged (non-numbers fail later)
        if isinstance(result, Mapping):
            values = self._from_mapping(result)
        elif isinstance(result, Sequence) and not isinstance(result, str | bytes):
            values = [self._number(i, v) for i, v in enumerate(result)]
        else:
            values = [self._number(0, result)]
        count = len(values)
        if declared is not None and count != len(declared):
            names = ", ".join(o.name for o in declared)
            raise ObjectiveMismatch(
                f"loss_fn returned {count} value(s) ({result!r}), but {len(declared)} objective(s) "
                f"are declared ({names}): return one value per objective, in that order, or a "
                "dict by name."
            )
        if declared is None:
            if count == 0:
                raise ObjectiveMismatch("loss_fn returned an empty sequence; return numbers.")
            if self._count is None:
                self._count = count
                if self._first_only and count > 1:
                    self._warn_first_only(count)
            elif count != self._count:
                raise ObjectiveMismatch(
                    f"loss_fn returned {count} values ({result!r}) after returning {self._count}"
                    " before: return the same number of objectives every time."
                )
        losses = tuple(s * v for s, v in zip(self.signs(count), values, strict=True))
        scored = _Scored(losses[0])
        scored.losses = losses
        return scored

    def _with_constraints(self, result: Mapping[Any, Any]) -> _Scored:
        """A dict result with constraint values: the rest scored as usual, the values kept."""
        try:
            constraints = constraint_values(result[CONSTRAINTS_KEY], _real)
        except ValueError as error:
            raise ObjectiveMismatch(str(error)) from None
        rest = {k: v for k, v in result.items() if k != CONSTRAINTS_KEY}
        names = [] if self.declared is None else [o.name for o in self.declared]
        if _LOSS_KEY in rest and _LOSS_KEY not in names:
            if len(rest) > 1:
                fix = (
                    f'give either "loss" or the declared objectives by name ({names!r}), not both'
                    if names
                    else 'with no objectives declared, give "loss" (a number or a tuple) only, '
                    "or declare the objectives"
                )
                raise ObjectiveMismatch(
                    f"loss_fn returned a dict with keys {list(result)!r}: beside "
                    f'"constraints", {fix}.'
                )
            inner = self.score(rest[_LOSS_KEY])
        elif not rest:
            raise ObjectiveMismatch(
                f"loss_fn returned only constraints ({result!r}): return the loss too, e.g. "
                '{"loss": error, "constraints": [memory_gb - 8.0]}.'
            )
        else:
            inner = self.score(rest)
        value = _real(inner)
        if value is None:
            raise ObjectiveMismatch(
                f'objective "loss": loss_fn returned {rest[_LOSS_KEY]!r}, which is not a number.'
            )
        scored = _Scored(value)
        scored.losses = losses_of(inner)
        scored.constraints = constraints
        return scored

    def _from_mapping(self, result: Mapping[Any, Any]) -> list[float]:
        if self.declared is None:
            raise ObjectiveMismatch(
                f"loss_fn returned a dict ({result!r}) but no objectives are declared: pass e.g. "
                f"objectives={list(result)!r} (minimized) or objectives={_EXAMPLE} to the "
                'Propulator, or return a tuple (or {"loss": ..., "constraints": [...]}).'
            )
        names = [o.name for o in self.declared]
        missing = [n for n in names if n not in result]
        unknown = [k for k in result if k not in names]
        if missing or unknown:
            raise ObjectiveMismatch(
                f"loss_fn returned a dict with keys {list(result)!r}, but the declared objectives "
                f"are {names!r} (missing {missing!r}, unknown {unknown!r}): return one value per "
                "declared objective."
            )
        return [self._number(name, result[name]) for name in names]

    @staticmethod
    def _number(where: Any, value: Any) -> float:
        number = _real(value)
        if number is None or not math.isfinite(number):
            raise ObjectiveMismatch(
                f"objective {where!r}: loss_fn returned {value!r}, which is not a finite number."
            )
        return number

    def wrap(self, loss_fn: Callable[..., Any]) -> Callable[..., Any]:
        """``loss_fn`` with its results (and a generator's yielded values) passed to :meth:`score`.

        Parameters
        ----------
        loss_fn : callable
            The user's loss function (or generator function).

        Returns
        -------
        callable
            A function with the same arguments.
        """

        def scored(*args: Any) -> Any:
            result = loss_fn(*args)
            if isinstance(result, Generator):
                return self._scored_generator(result)
            return self.score(result)

        scored.__wrapped__ = loss_fn  # type: ignore[attr-defined]  # for introspection
        return scored

    def _scored_generator(self, inner: Generator[Any, Any, Any]) -> Generator[Any, None, None]:
        try:
            for value in inner:
                yield self.score(value)
        finally:
            inner.close()  # closing the wrapper (early stopping) closes the user's generator


def _real(value: Any) -> float | None:
    """``value`` as a float if it is a real number (Python, numpy or a 0-d tensor)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _real(item())
        except (TypeError, ValueError, RuntimeError):
            return None
    return None


def losses_of(result: Any) -> tuple[float, ...] | None:
    """The vector a scored result carries (``None`` for a plain number)."""
    return getattr(result, "losses", None)


def constraints_of(result: Any) -> tuple[float, ...] | None:
    """The constraint values a scored result carries (``None`` when it returned none)."""
    return getattr(result, "constraints", None)
