"""The propagator contract and the generic operators: selection, random init, composition.

A propagator turns ``parents`` individuals into ``offspring`` new ones: ``propagator(inds)``.
``parents == -1`` means "any number" (selections take the whole population). Propagators never
evaluate, communicate or write files; randomness comes from the ``rng`` they are given.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from ..errors import ConfigurationError
from ..population import Individual, select_best, select_worst
from ..search_space import Limits, SearchSpace

__all__ = [
    "Propagator",
    "Stochastic",
    "Conditional",
    "Compose",
    "SelectMin",
    "SelectMax",
    "SelectUniform",
    "InitUniform",
    "as_list",
]

Offspring = "list[Individual] | Individual"


def as_list(result: list[Individual] | Individual) -> list[Individual]:
    """Normalize a propagator's result to a list."""
    return [result] if isinstance(result, Individual) else list(result)


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
    """

    def __init__(self, parents: int = 0, offspring: int = 0, rng: random.Random | None = None):
        if offspring == 0:
            raise ConfigurationError(
                f"{type(self).__name__}: offspring=0; a propagator must produce at least one "
                "individual (offspring >= 1, or -1 for 'as many as its stages give')."
            )
        if parents < -1:
            raise ConfigurationError(
                f"{type(self).__name__}: parents={parents}; use a count >= 0 or -1 for 'any'."
            )
        self.parents = parents
        self.offspring = offspring
        self.rng = rng if rng is not None else random.Random()

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Breed offspring from ``inds``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    def _check_parents(self, inds: Sequence[Individual]) -> None:
        if self.parents > 0 and len(inds) < self.parents:
            raise ConfigurationError(
                f"{type(self).__name__} needs {self.parents} parent(s); got {len(inds)}. Put a "
                "selection with enough offspring in front of it, or guard it with "
                "Conditional(pop_size, ...)."
            )


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
        if not 0.0 <= probability <= 1.0:
            raise ConfigurationError(
                f"{type(self).__name__}: probability={probability} is outside [0, 1]."
            )
        self.probability = probability

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
        if pop_size < 1:
            raise ConfigurationError(f"Conditional: pop_size={pop_size} must be at least 1.")
        self.pop_size = pop_size
        self.true_prop = true_prop
        self.false_prop = false_prop

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Apply ``true_prop`` if ``len(inds) >= pop_size``, else ``false_prop``."""
        chosen = self.true_prop if len(inds) >= self.pop_size else self.false_prop
        return chosen(inds)


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
        """Run every stage in order."""
        result: Sequence[Individual] = inds
        for propagator in self.propagators:
            result = as_list(propagator(result))
        return list(result)


def _compatible(offspring: int, parents: int) -> bool:
    return parents == -1 or offspring == -1 or offspring == parents


class _Select(Propagator):
    def __init__(self, offspring: int, rng: random.Random | None = None):
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
        super().__init__(parents, 1, probability, rng)
        self.space = SearchSpace.of(limits)

    def __call__(self, inds: Sequence[Individual] = ()) -> Individual:
        """Return a new random individual, or the parent unchanged."""
        if self.parents > 0 and len(inds) > 0 and not self.applies():
            return inds[0]
        return Individual._from_trusted(self.space.sample(self.rng), self.space)


class AvoidDuplicates(Propagator):
    """Breed again, up to ``tries`` times, while the child repeats known hyperparameters.

    Genetic operators often hand a parent on unchanged (no crossover, no mutation drawn, or two
    identical parents), and evaluating the same hyperparameters twice is wasted training. This
    wrapper calls ``propagator`` again while its (first) child equals an individual of the
    population it was given, and after ``tries`` attempts returns the last child anyway (a
    small discrete search space may be exhausted). Wrap only stateless propagators: a stateful
    one (particle swarms, CMA-ES, Nelder-Mead) would count every discarded attempt.

    Parameters
    ----------
    propagator : Propagator
        The propagator to call.
    tries : int
        The most calls per child.
    """

    def __init__(self, propagator: Propagator, tries: int = 10) -> None:
        super().__init__(propagator.parents, propagator.offspring, propagator.rng)
        if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
            raise ConfigurationError(f"AvoidDuplicates: tries={tries!r}; give an integer >= 1.")
        self.propagator = propagator
        self.tries = tries

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Call the wrapped propagator until its first child is new to ``inds`` (or give up)."""
        known = _known_values(inds)
        for _ in range(self.tries):
            offspring = self.propagator(inds)
            if isinstance(offspring, list) and not offspring:
                break  # nothing to check; the Propulator reports the empty result
            first = offspring[0] if isinstance(offspring, list) else offspring
            if not known(first):
                break
        return offspring


def _known_values(inds: Sequence[Individual]) -> Callable[[Individual], bool]:
    """A membership test for hyperparameters among ``inds`` (O(1) per test)."""
    knows = getattr(inds, "knows_values", None)
    if callable(knows):
        return knows  # type: ignore[no-any-return]  # the population's own index
    seen = {ind.values_key() for ind in inds}
    return lambda ind: ind.values_key() in seen
