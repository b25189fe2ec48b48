"""The propagator contract and the lifecycle the loop drives.

A propagator turns ``parents`` individuals into ``offspring`` new ones: ``propagator(inds)`` is
the *ask* (``parents == -1`` means "any number"; selections take the whole population).
Propagators never evaluate, communicate or write files; randomness comes from the ``rng`` they
are given.

The lifecycle (all optional, with no-op defaults, so a Propulate 1.2 propagator that defines
only ``__call__`` keeps working):

* :meth:`Propagator.tell` receives every result the island learns: the child the loop just
  evaluated, a peer's result, an immigrant, and on a resume every result read back from the
  checkpoint; failed and pruned ones too, with their ``status``. The individual told is the
  object the population holds (do not modify it); the loop's own child is the very object
  the propagator returned from its last call (whenever it returned a new individual), so a
  strategy recognizes its own proposals by identity.
* :meth:`Propagator.get_state` and :meth:`Propagator.set_state` save and restore what a
  strategy has learned beyond the population, as plain JSON-able data. On a resume the loop
  first replays the checkpoint's results through ``tell`` and then calls ``set_state``, so a
  saved state overrides what the replay rebuilt.
* :meth:`Propagator.stages` lists the propagators nested in this one; the default ``tell``
  forwards to them, and the loop finds every stage's state and random generator through them.
* :attr:`Propagator.search_space` is the search space the propagator breeds in, if it knows it.
* A stage whose ``wants_pending`` is true is also told of the evaluations the island's other
  workers have *started*, with status ``"pending"`` and no loss, before their results arrive
  (the loop then sends a notice to the island's workers whenever it starts an evaluation); the
  result follows as a tell of an individual with the same ``key``.

The generic operators (:class:`Stochastic`, :class:`Conditional`, :class:`Compose`,
:class:`SelectMin`, :class:`SelectMax`, :class:`SelectUniform`, :class:`InitUniform`,
:class:`AvoidDuplicates`) live in :mod:`propulate.propagators.operators`, which builds on this
module; they are importable from here too, as in Propulate 1.2.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..population import Individual
from ..search_space import SearchSpace
from ..validation import check_int, check_rng

if TYPE_CHECKING:  # what __getattr__ (at the end) provides, for type checkers
    from .operators import (
        AvoidDuplicates,
        Compose,
        Conditional,
        InitUniform,
        Rebreed,
        SelectMax,
        SelectMin,
        SelectUniform,
        Stochastic,
    )

__all__ = [
    "Propagator",
    "Stochastic",
    "Conditional",
    "Compose",
    "AvoidDuplicates",
    "Rebreed",
    "SelectMin",
    "SelectMax",
    "SelectUniform",
    "InitUniform",
    "as_list",
    "call_stage",
    "walk",
    "listeners",
    "stateful_stages",
    "random_generators",
    "search_space_of",
]

Offspring = "list[Individual] | Individual"


def as_list(result: Sequence[Individual] | Individual) -> list[Individual]:
    """Normalize a propagator's result to a list."""
    return [result] if isinstance(result, Individual) else list(result)


_OURS: dict[type, bool] = {}  # by the stage's class: asked for every stage of every child


def _ours(stage: Any) -> bool:
    """Whether ``stage``'s ``__call__`` is one of Propulate's own (not a user's 1.2-style code)."""
    kind = type(stage)
    ours = _OURS.get(kind)
    if ours is None:
        call = next((vars(k)["__call__"] for k in kind.__mro__ if "__call__" in vars(k)), None)
        ours = _OURS[kind] = str(getattr(call, "__module__", "")).startswith("propulate.")
    return ours


def call_stage(
    stage: Any, inds: Sequence[Individual] | Individual
) -> list[Individual] | Individual:
    """Call ``stage`` on ``inds``, handing a user's stage what Propulate 1.2 handed it.

    Propulate's own stages get ``inds`` as it is: the loop's read-only, sorted view of the
    population costs O(1) to pass. A stage whose ``__call__`` is a user's (a plain function, a
    1.2-style subclass) gets a list it may sort, shuffle or change, as in 1.2; building it
    costs O(N), as 1.2's did on every call.

    Parameters
    ----------
    stage : callable
        The propagator (or stage of one) to call.
    inds : sequence of Individual, or Individual
        Its parents (an individual when the previous stage of a :class:`Compose` returned one).

    Returns
    -------
    list of Individual, or Individual
        What the stage returned.
    """
    if type(inds) is list or _ours(stage) or isinstance(inds, list | Individual):
        return stage(inds)  # type: ignore[no-any-return]  # any callable may be a stage
    return stage(list(inds))  # type: ignore[no-any-return]  # any callable may be a stage


class Propagator:
    """Base class of every propagator.

    Parameters
    ----------
    parents : int
        How many individuals the propagator takes; -1 for any number.
    offspring : int
        How many individuals it returns; must be positive (-1 allowed for pass-through
        containers whose count depends on their stages).
    rng : random.Random, optional
        The random number generator; a fresh one if omitted.

    Notes
    -----
    See the module documentation for the lifecycle (:meth:`tell`, :meth:`get_state`,
    :meth:`set_state`, :meth:`stages`, :attr:`search_space`). A strategy that learns from
    results overrides :meth:`tell`; a container overrides :meth:`stages`.
    """

    #: Whether :meth:`tell` also wants the evaluations other workers have started (status
    #: ``"pending"``); the loop then announces its own evaluations to its island.
    wants_pending: bool = False

    def __init__(self, parents: int = 0, offspring: int = 0, rng: random.Random | None = None):
        owner = type(self).__name__
        self.parents = check_int(
            owner, "parents", parents, 0, also=(-1,), example=2, note="-1: any number"
        )
        note = "a propagator produces at least one individual; -1: as many as its stages give"
        self.offspring = check_int(
            owner, "offspring", offspring, 1, also=(-1,), example=1, note=note
        )
        rng = check_rng(owner, "rng", rng)
        self.rng = rng if rng is not None else random.Random()

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Breed offspring from ``inds`` (the *ask*)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    # ----- the lifecycle ----------------------------------------------------------------------
    def tell(self, ind: Individual) -> None:
        """Learn the outcome of one evaluation the island knows of.

        The default forwards it to every stage (:meth:`stages`).

        Parameters
        ----------
        ind : Individual
            The evaluated individual as the population holds it, with its ``loss`` and
            ``status`` (``"ok"``, ``"failed"`` or ``"pruned"``); read it, do not change it. An
            individual that repeats a known one and was therefore not evaluated (see
            :class:`AvoidDuplicates`) is told with the known result and ``rank == -1``.
        """
        for stage in self.stages():
            stage.tell(ind)

    def stages(self) -> Sequence[Propagator]:
        """The propagators nested in this one (none by default)."""
        return ()

    def get_state(self) -> dict[str, Any]:
        """What the propagator learned beyond the population, as plain JSON-able data."""
        return {}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`get_state`'s output (nothing by default)."""

    @property
    def search_space(self) -> SearchSpace | None:
        """The search space the propagator breeds in, or None if it does not know one.

        Found in the propagator's ``space`` (a :class:`~propulate.SearchSpace`) or ``limits``
        attribute, else in its stages.
        """
        attributes = getattr(self, "__dict__", {})
        space = attributes.get("space")
        if isinstance(space, SearchSpace):
            return space
        limits = attributes.get("limits")
        if isinstance(limits, Mapping) and limits:
            return SearchSpace.of(limits)
        for stage in self.stages():
            found = stage.search_space
            if found is not None:
                return found
        return None

    def _check_parents(self, inds: Sequence[Individual]) -> None:
        if self.parents > 0 and len(inds) < self.parents:
            raise ConfigurationError(
                f"{type(self).__name__} needs {self.parents} parent(s); got {len(inds)}. Put a "
                "selection with enough offspring in front of it, or guard it with "
                "Conditional(pop_size, ...)."
            )


# ----- walking a propagator tree ------------------------------------------------------------------
def walk(propagator: Any) -> Iterator[Any]:
    """``propagator`` and every stage nested in it, depth first, each once.

    Anything callable may be a propagator; only :class:`Propagator` objects have stages.
    """
    seen: set[int] = set()
    stack = [propagator]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, Propagator):
            stack.extend(reversed(list(item.stages())))


def _overrides(item: Any, method: str) -> bool:
    """Whether ``item``'s class defines ``method`` other than :class:`Propagator`'s default."""
    implementation = getattr(type(item), method, None)
    if implementation is None:
        return False
    return implementation is not getattr(Propagator, method, None)


def listeners(propagator: Any) -> list[Any]:
    """The stages whose ``tell`` does something, each once, outermost first.

    A stage that overrides ``tell`` is responsible for its own stages, so the walk does not
    descend into it. Telling these directly is what telling ``propagator`` does, without a
    call through every container on the way: the default genetic propagator has none, so the
    loop pays nothing for results it does not need to hand on.
    """
    found = []
    seen: set[int] = set()
    stack = [propagator]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if _overrides(item, "tell"):
            found.append(item)
        elif isinstance(item, Propagator):
            stack.extend(reversed(list(item.stages())))
    return found


def random_generators(propagator: Any, *more: random.Random) -> list[random.Random]:
    """The distinct ``random.Random`` objects of ``more`` and of every stage, in a fixed order.

    The stages' ``rng`` attributes, found depth first after ``more`` (e.g. the loop's own).
    """
    found: dict[int, random.Random] = {id(rng): rng for rng in more}
    for stage in walk(propagator):
        candidate = getattr(stage, "rng", None)
        if isinstance(candidate, random.Random):
            found.setdefault(id(candidate), candidate)
    return list(found.values())


def search_space_of(propagator: Any) -> SearchSpace | None:
    """The search space ``propagator`` was built with, if it tells (``None`` otherwise).

    A :class:`Propagator` tells its :attr:`~Propagator.search_space` (its own or a stage's); a
    propagator of another kind, its ``limits`` attribute.
    """
    if isinstance(propagator, Propagator):
        return propagator.search_space
    limits = getattr(propagator, "limits", None)
    if isinstance(limits, dict) and limits:
        return SearchSpace.of(limits)
    return None


def stateful_stages(propagator: Any) -> list[Any]:
    """The stages (``propagator`` included) that keep a state of their own, depth first.

    Those whose class overrides :meth:`Propagator.get_state`, or, for objects that are no
    :class:`Propagator`, that have callable ``get_state`` and ``set_state``.
    """
    found = []
    for item in walk(propagator):
        if isinstance(item, Propagator):
            if _overrides(item, "get_state"):
                found.append(item)
        elif callable(getattr(item, "get_state", None)) and callable(
            getattr(item, "set_state", None)
        ):
            found.append(item)
    return found


# ----- Propulate 1.2's import path of the generic operators --------------------------------------
def __getattr__(name: str) -> Any:
    """The generic operators of ``__all__``, from :mod:`propulate.propagators.operators`.

    Imported when first asked for, not at the top: ``operators`` builds on this module, so
    importing it here at load time would make the two modules import each other.
    """
    if name in __all__:  # only the operators are missing from this module's namespace
        from . import operators

        value = getattr(operators, name)
        globals()[name] = value  # later look-ups find it directly
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
