"""The generic operators: probability, choice, sequence, selection, random start, no repeats.

They build on the contract of :mod:`propulate.propagators.base` and work in any search space:
:class:`Stochastic` (an operator applied with a probability), :class:`Conditional` (one
propagator until the population is large enough, another after), :class:`Compose` (stages one
after the other), :class:`SelectMin`, :class:`SelectMax` and :class:`SelectUniform`,
:class:`InitUniform` (a uniformly random individual) and :class:`AvoidDuplicates` (breed again
while the child repeats known hyperparameters). Each is importable from
:mod:`propulate.propagators` and, as in Propulate 1.2, from :mod:`propulate.propagators.base`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigurationError
from ..population import Individual, select_best, select_worst
from ..search_space import Limits, SearchSpace
from ..validation import check_int, check_probability
from .base import Propagator, _ours, as_list, call_stage, listeners

__all__ = [
    "Stochastic",
    "Conditional",
    "Compose",
    "AvoidDuplicates",
    "Rebreed",
    "SelectMin",
    "SelectMax",
    "SelectUniform",
    "InitUniform",
]


class Stochastic(Propagator):
    """A propagator applied with a probability; otherwise its parents pass through unchanged.

    Parameters
    ----------
    parents, offspring, rng
        As for :class:`Propagator`.
    probability : float
        The probability of applying the operator, in [0, 1].
    """

    def __init__(
        self,
        parents: int = 0,
        offspring: int = 0,
        probability: float = 1.0,
        rng: random.Random | None = None,
    ):
        super().__init__(parents, offspring, rng)
        self.probability = check_probability(type(self).__name__, "probability", probability)

    def applies(self) -> bool:
        """Draw whether the operator is applied this time."""
        return self.probability >= 1.0 or self.rng.random() < self.probability


class Conditional(Propagator):
    """Use ``true_prop`` once the population holds ``pop_size`` individuals, else ``false_prop``.

    Parameters
    ----------
    pop_size : int
        The population size from which on ``true_prop`` is used.
    true_prop, false_prop : Propagator
        The propagators to choose between.
    parents, offspring : int
        As for :class:`Propagator`; -1 by default (decided by the chosen propagator).
    """

    def __init__(
        self,
        pop_size: int,
        true_prop: Propagator,
        false_prop: Propagator,
        parents: int = -1,
        offspring: int = -1,
    ):
        super().__init__(parents, offspring)
        self.pop_size = check_int("Conditional", "pop_size", pop_size, 1, example=8)
        self.true_prop = true_prop
        self.false_prop = false_prop

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Apply ``true_prop`` if ``len(inds) >= pop_size``, else ``false_prop``."""
        chosen = self.true_prop if len(inds) >= self.pop_size else self.false_prop
        return call_stage(chosen, inds)

    def stages(self) -> Sequence[Propagator]:
        """``true_prop`` and ``false_prop``."""
        return (self.true_prop, self.false_prop)


class Compose(Propagator):
    """Apply propagators one after the other, each to the offspring of the previous one.

    Parameters
    ----------
    propagators : list of Propagator
        The stages; each stage's offspring count must fit the next stage's parents.

    Raises
    ------
    ConfigurationError
        If a stage produces a number of offspring the next stage cannot take.
    """

    def __init__(self, propagators: list[Propagator]):
        if not propagators:
            raise ConfigurationError("Compose needs at least one propagator.")
        for first, second in zip(propagators, propagators[1:], strict=False):
            if not _compatible(first.offspring, second.parents):
                raise ConfigurationError(
                    f"Compose: {type(first).__name__} produces {first.offspring} offspring but "
                    f"{type(second).__name__} takes {second.parents} parent(s); make the counts "
                    "match (a stage with parents=-1 takes any number)."
                )
        super().__init__(propagators[0].parents, propagators[-1].offspring)
        self.propagators = list(propagators)

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Run every stage in order.

        Propulate's own stages get a list; a user's stage gets what the stage before it
        returned, an individual or a list, as in Propulate 1.2 (see :func:`call_stage`).
        """
        result: Sequence[Individual] | Individual = inds
        for propagator in self.propagators:
            if isinstance(result, Individual) and _ours(propagator):
                result = [result]
            result = call_stage(propagator, result)
        return as_list(result)

    def stages(self) -> Sequence[Propagator]:
        """The stages, in order."""
        return tuple(self.propagators)


def _compatible(offspring: int, parents: int) -> bool:
    return parents == -1 or offspring == -1 or offspring == parents


class _Select(Propagator):
    def __init__(self, offspring: int, rng: random.Random | None = None):
        offspring = check_int(type(self).__name__, "offspring", offspring, 1, example=2)
        super().__init__(parents=-1, offspring=offspring, rng=rng)

    def _check_enough(self, inds: Sequence[Individual]) -> None:
        if len(inds) < self.offspring:
            raise ConfigurationError(
                f"{type(self).__name__}({self.offspring}) got only {len(inds)} individual(s); "
                f"guard it with Conditional(pop_size>={self.offspring}, ...)."
            )


class SelectMin(_Select):
    """Select the ``offspring`` individuals with the lowest loss.

    Parameters
    ----------
    offspring : int
        How many to select.
    """

    def __init__(self, offspring: int):
        super().__init__(offspring)

    def __call__(self, inds: Sequence[Individual]) -> list[Individual]:
        """Return the best ``offspring`` individuals, best first."""
        self._check_enough(inds)
        return select_best(inds, self.offspring)


class SelectMax(_Select):
    """Select the ``offspring`` individuals with the highest loss.

    Parameters
    ----------
    offspring : int
        How many to select.
    """

    def __init__(self, offspring: int):
        super().__init__(offspring)

    def __call__(self, inds: Sequence[Individual]) -> list[Individual]:
        """Return the worst ``offspring`` individuals, worst first."""
        self._check_enough(inds)
        return select_worst(inds, self.offspring)


class SelectUniform(_Select):
    """Select ``offspring`` distinct individuals uniformly at random.

    Parameters
    ----------
    offspring : int
        How many to select.
    rng : random.Random, optional
        The random number generator.
    """

    def __call__(self, inds: Sequence[Individual]) -> list[Individual]:
        """Return ``offspring`` distinct random individuals."""
        self._check_enough(inds)
        return [inds[i] for i in self.rng.sample(range(len(inds)), self.offspring)]


class InitUniform(Stochastic):
    """Draw a new individual uniformly from the search space.

    With ``parents=0`` it always creates a new individual. With ``parents=1`` it replaces its
    parent by a new random individual with ``probability`` and passes it through otherwise.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space.
    parents : int
        0 or 1.
    probability : float
        The probability of replacing the parent (``parents=1``).
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self,
        limits: Limits | SearchSpace,
        parents: int = 0,
        probability: float = 1.0,
        rng: random.Random | None = None,
    ):
        parents = check_int("InitUniform", "parents", parents, 0, 1, example=0)
        super().__init__(parents, 1, probability, rng)
        self.space = SearchSpace.of(limits)

    def __call__(self, inds: Sequence[Individual] = ()) -> Individual:
        """Return a new random individual, or the parent unchanged."""
        if self.parents > 0 and len(inds) > 0 and not self.applies():
            return inds[0]
        return Individual._from_trusted(self.space.sample(self.rng), self.space)


class Rebreed(Propagator):
    """Base of the wrappers that call a propagator again while its first child is rejected.

    Subclasses say what is rejected (:meth:`rejecter`), what a learning propagator is told of
    a rejected proposal (:meth:`result_of`) and what happens after ``tries`` rejections
    (:meth:`exhausted`); the loop is this class's.

    Parameters
    ----------
    propagator : Propagator
        The propagator to call.
    tries : int
        The most calls per child.
    owner : str
        The subclass's name, for error messages.
    """

    def __init__(self, propagator: Propagator, tries: int, owner: str) -> None:
        super().__init__(propagator.parents, propagator.offspring, propagator.rng)
        self.propagator = propagator
        self.tries = check_int(owner, "tries", tries, 1, example=10)
        self._learns: bool | None = None  # whether the wrapped propagator learns from tell

    def rejecter(self, inds: Sequence[Individual]) -> Callable[[Individual], Any]:
        """A function of a child: ``None`` if it is accepted, else why it is rejected."""
        raise NotImplementedError

    def result_of(self, child: Individual, reason: Any) -> Individual | None:
        """What a learning propagator is told of its rejected proposal (``None``: nothing)."""
        raise NotImplementedError

    def exhausted(
        self, offspring: list[Individual] | Individual, first: Individual, reason: Any
    ) -> list[Individual] | Individual:
        """The result after ``tries`` rejections (by default the last offspring)."""
        return offspring

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Call the wrapped propagator until its first child is accepted (or give up)."""
        reject = self.rejecter(inds)
        if self._learns is None:
            self._learns = bool(listeners(self.propagator))
        learns = self._learns
        for attempt in range(self.tries):
            offspring = call_stage(self.propagator, inds)
            if isinstance(offspring, list) and not offspring:
                return offspring  # nothing to check; the Propulator reports the empty result
            first = offspring[0] if isinstance(offspring, list) else offspring
            reason = reject(first)
            if reason is None:
                return offspring
            if attempt == self.tries - 1:
                return self.exhausted(offspring, first, reason)
            # Only a fresh proposal is told: a parent passed through unchanged (an evaluated
            # member of the population) must not be relabelled. Relabelling one broke the
            # population's index at 8 ranks with migration.
            if learns and first.loss is None:
                result = self.result_of(first, reason)
                if result is not None:
                    self.propagator.tell(result)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    def stages(self) -> Sequence[Propagator]:
        """The wrapped propagator."""
        return (self.propagator,)


class AvoidDuplicates(Rebreed):
    """Breed again, up to ``tries`` times, while the child repeats known hyperparameters.

    Genetic operators often hand a parent on unchanged (no crossover, no mutation drawn, or two
    identical parents), and evaluating the same hyperparameters twice is wasted training. This
    wrapper calls ``propagator`` again while its (first) child equals an individual of the
    population it was given, and after ``tries`` attempts returns the last child anyway (a
    small discrete search space may be exhausted).

    A stateful ``propagator`` (one that learns through :meth:`~Propagator.tell`, such as
    CMA-ES, Nelder-Mead or TPE) is told the known result of every repeat it proposed before it
    is asked again, exactly as if the repeat had been evaluated: its bookkeeping stays exact
    and it moves on instead of proposing the same point again. The repeat is told with
    ``rank == -1`` and the known individual's ``loss`` and ``status``.

    Parameters
    ----------
    propagator : Propagator
        The propagator to call.
    tries : int
        The most calls per child.
    """

    def __init__(self, propagator: Propagator, tries: int = 10) -> None:
        super().__init__(propagator, tries, "AvoidDuplicates")

    def rejecter(self, inds: Sequence[Individual]) -> Callable[[Individual], Any]:
        """A child is rejected by the known individual with its hyperparameters."""
        return _known_values(inds)

    def result_of(self, child: Individual, reason: Any) -> Individual | None:
        """The repeat with the known individual's result (nothing if it is that individual)."""
        return None if child is reason else _repeat_of(child, reason)


def _repeat_of(child: Individual, known: Individual) -> Individual:
    """``child`` given the result of the known individual it repeats (it is not evaluated)."""
    child.loss = known.loss
    child.status = known.status
    child.rank = child.generation = -1
    return child


def _known_values(inds: Sequence[Individual]) -> Callable[[Individual], Individual | None]:
    """A lookup of an individual with the same hyperparameters among ``inds`` (O(1) per call)."""
    find = getattr(inds, "find_values", None)
    if callable(find):
        return find  # type: ignore[no-any-return]  # the population's own index
    seen: dict[tuple[Any, ...], Individual] = {}
    for ind in inds:
        seen.setdefault(ind.values_key(), ind)
    return lambda ind: seen.get(ind.values_key())
