"""Genetic operators: mutations and crossovers.

Operators never modify their parents: they copy, then change the copy. Values are set through the
search space, so children always lie inside the limits with the right types; numeric moves are
made in unit coordinates, so reversed or log-scaled bounds need no special case.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from ..errors import ConfigurationError
from ..population import Individual
from ..search_space import Dimension, Limits, SearchSpace, Value
from ..validation import check_int, check_number, check_probability
from .operators import Stochastic

__all__ = [
    "PointMutation",
    "RandomPointMutation",
    "IntervalMutationNormal",
    "CrossoverUniform",
    "CrossoverMultiple",
    "CrossoverSigmoid",
]


def _first(propagator: Stochastic, inds: Sequence[Individual] | Individual) -> Individual:
    """The one parent of a mutation, given alone or first in a sequence (clear error if none)."""
    if isinstance(inds, Individual):
        return inds
    propagator._check_parents(inds)
    return inds[0]


def _resample(dimension: Dimension, current: Value, rng: random.Random) -> Value:
    """A new random value of ``dimension`` that differs from ``current`` where possible."""
    if dimension.kind == "categorical" and len(dimension.choices) > 1:
        return rng.choice([c for c in dimension.choices if c != current])
    if dimension.is_grid and dimension.count > 1:
        index = rng.randrange(dimension.count - 1)
        skip = dimension.grid_index(current)  # type: ignore[arg-type]  # numeric dimension
        return dimension.grid_value(index + 1 if index >= skip else index)
    if dimension.kind == "int" and dimension.high > dimension.low and not dimension.log:
        value = rng.randint(int(dimension.low), int(dimension.high) - 1)
        return value + 1 if value >= current else value  # type: ignore[operator]
    if dimension.high > dimension.low:
        # Log-scaled ranges: redraw until the value changes. Rejection keeps the log-uniform
        # distribution (conditioned on "different"); every value in the range has positive
        # probability, so this ends after a couple of draws even for (1, 3, "log").
        for _ in range(1000):
            drawn = dimension.sample(rng)
            if drawn != current:
                return drawn
    return dimension.sample(rng)


class PointMutation(Stochastic):
    """Set ``points`` randomly chosen hyperparameters to new random values.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space.
    points : int
        How many hyperparameters to change; at most the number of hyperparameters.
    probability : float
        The probability of mutating at all.
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self,
        limits: Limits | SearchSpace,
        points: int = 1,
        probability: float = 1.0,
        rng: random.Random | None = None,
    ):
        super().__init__(1, 1, probability, rng)
        self.space = SearchSpace.of(limits)
        count = len(self.space)
        note = f"the search space has {count} hyperparameter(s)"
        self.points = check_int(
            type(self).__name__, "points", points, 1, count, example=1, note=note
        )

    def __call__(self, ind: Sequence[Individual] | Individual) -> Individual:  # type: ignore[override]  # 1.2 signature takes one individual
        """Return a mutated copy of the parent (or the parent, when not applied)."""
        parent = _first(self, ind)
        if not self.applies():
            return parent
        return self._mutate(parent, self.points)

    def _mutate(self, parent: Individual, points: int) -> Individual:
        child = parent.copy()
        if self.space.conditional:
            # Only active parameters mutate; a changed choice may (de)activate others, which
            # ``complete`` drops or draws anew, so the child never misses an active value.
            values = child.values_dict()
            active = [d for d in self.space.dimensions if d.name in values]
            for dimension in self.rng.sample(active, min(points, len(active))):
                if dimension.name in values:  # not deactivated by an earlier point
                    values[dimension.name] = _resample(dimension, values[dimension.name], self.rng)
            child._assign(self.space.complete(values, self.rng))
            return child
        child.update(
            {
                dimension.name: _resample(dimension, child[dimension.name], self.rng)
                for dimension in self.rng.sample(self.space.dimensions, points)
            }
        )
        return child


class RandomPointMutation(PointMutation):
    """Set a random number (between ``min_points`` and ``max_points``) of hyperparameters anew.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space.
    min_points, max_points : int
        The range of the number of hyperparameters to change.
    probability : float
        The probability of mutating at all.
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self,
        limits: Limits | SearchSpace,
        min_points: int = 1,
        max_points: int = 1,
        probability: float = 1.0,
        rng: random.Random | None = None,
    ):
        count = len(SearchSpace.of(limits))
        note = f"the search space has {count} hyperparameter(s)"
        owner = "RandomPointMutation"
        min_points = check_int(owner, "min_points", min_points, 1, count, example=1, note=note)
        super().__init__(limits, min_points, probability, rng)
        self.min_points = min_points
        self.max_points = check_int(
            owner, "max_points", max_points, min_points, count, example=count,
            note=f"{note}; at least min_points={min_points}",
        )  # fmt: skip

    def __call__(self, ind: Sequence[Individual] | Individual) -> Individual:  # type: ignore[override]  # 1.2 signature
        """Return a copy with a random number of hyperparameters resampled."""
        parent = _first(self, ind)
        if not self.applies():
            return parent
        return self._mutate(parent, self.rng.randint(self.min_points, self.max_points))


class IntervalMutationNormal(Stochastic):
    """Move ``points`` numeric hyperparameters by Gaussian noise, clipped into their range.

    The standard deviation is ``sigma_factor`` times the width of the range (in unit
    coordinates, so on a log scale for log-scaled ranges).

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space; it needs at least one numeric hyperparameter.
    sigma_factor : float
        The standard deviation relative to the range's width.
    points : int
        How many numeric hyperparameters to move.
    probability : float
        The probability of mutating at all.
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self,
        limits: Limits | SearchSpace,
        sigma_factor: float = 0.1,
        points: int = 1,
        probability: float = 1.0,
        rng: random.Random | None = None,
    ):
        super().__init__(1, 1, probability, rng)
        self.space = SearchSpace.of(limits)
        self.numeric = [d for d in self.space if d.is_numeric]
        owner, count = "IntervalMutationNormal", len(self.numeric)
        note = f"the search space has {count} numeric hyperparameter(s)"
        self.points = check_int(owner, "points", points, 1, count, example=1, note=note)
        self.sigma_factor = check_number(
            owner, "sigma_factor", sigma_factor, 0, low_open=True, example=0.1
        )

    def __call__(self, ind: Sequence[Individual] | Individual) -> Individual:  # type: ignore[override]  # 1.2 signature
        """Return a copy with ``points`` numeric values moved by Gaussian noise."""
        parent = _first(self, ind)
        if not self.applies():
            return parent
        child = parent.copy()
        numeric = self.numeric
        if self.space.conditional:
            numeric = [d for d in numeric if d.name in parent]
        changes = {}
        for dimension in self.rng.sample(numeric, min(self.points, len(numeric))):
            unit = dimension.to_unit(child[dimension.name])  # type: ignore[arg-type]
            changes[dimension.name] = dimension.from_unit(
                unit + self.rng.gauss(0.0, self.sigma_factor)
            )
        child.update(changes)
        return child


class CrossoverUniform(Stochastic):
    """Two parents, one child: each value comes from the first parent with a fixed probability.

    Parameters
    ----------
    relative_parent_contribution : float
        The probability that a value comes from the first parent.
    probability : float
        The probability of crossing over at all (else the first parent passes through).
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self,
        relative_parent_contribution: float = 0.5,
        probability: float = 1.0,
        rng: random.Random | None = None,
    ):
        super().__init__(2, 1, probability, rng)
        self.relative_parent_contribution = check_probability(
            "CrossoverUniform", "relative_parent_contribution", relative_parent_contribution, 0.5
        )

    def __call__(self, inds: Sequence[Individual]) -> Individual:  # type: ignore[override]  # one child
        """Return the child."""
        self._check_parents(inds)
        if not self.applies():
            return inds[0]
        first, second = inds[0], inds[1]
        share = self.relative_parent_contribution
        return _crossed(
            first, lambda: second if self.rng.random() >= share else first, inds, self.rng
        )


class CrossoverMultiple(Stochastic):
    """Any number of parents, one child: each value comes from a parent chosen at random.

    Parameters
    ----------
    parents : int
        The number of parents (-1 for any number).
    probability : float
        The probability of crossing over at all (else the first parent passes through).
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self, parents: int = -1, probability: float = 1.0, rng: random.Random | None = None
    ):
        super().__init__(parents, 1, probability, rng)

    def __call__(self, inds: Sequence[Individual]) -> Individual:  # type: ignore[override]  # one child
        """Return the child."""
        self._check_parents(inds)
        if not inds:
            raise ConfigurationError("CrossoverMultiple needs at least one parent.")
        if not self.applies():
            return inds[0]
        return _crossed(inds[0], lambda: self.rng.choice(inds), inds, self.rng)


class CrossoverSigmoid(Stochastic):
    """Two parents, one child: the better parent is more likely to pass on each value.

    The probability of taking a value from the first parent is the logistic function of the
    loss difference, ``1 / (1 + exp((loss_1 - loss_2) / temperature))``.

    Parameters
    ----------
    temperature : float
        How strongly the loss difference matters; larger is more uniform.
    probability : float
        The probability of crossing over at all (else the first parent passes through).
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(
        self, temperature: float = 1.0, probability: float = 1.0, rng: random.Random | None = None
    ):
        super().__init__(2, 1, probability, rng)
        self.temperature = check_number(
            "CrossoverSigmoid", "temperature", temperature, 0, low_open=True, example=1.0
        )

    def __call__(self, inds: Sequence[Individual]) -> Individual:  # type: ignore[override]  # one child
        """Return the child."""
        self._check_parents(inds)
        if not self.applies():
            return inds[0]
        first, second = inds[0], inds[1]
        share = _first_parent_share(first.loss, second.loss, self.temperature)
        return _crossed(
            first, lambda: second if self.rng.random() >= share else first, inds, self.rng
        )


def _crossed(
    first: Individual,
    donor: Callable[[], Individual],
    parents: Sequence[Individual],
    rng: random.Random,
) -> Individual:
    """A copy of ``first`` whose every value comes from the parent ``donor()`` draws for it.

    In a conditional space a value comes from the drawn parent only where it is active there;
    a parameter the child's choices activate takes a parent's value, else a fresh draw, and an
    inactive one is dropped (see :meth:`~propulate.search_space.SearchSpace.complete`).
    """
    child = first.copy()
    space = first.search_space
    if not space.conditional:
        changes = {}
        for name in child:
            parent = donor()
            if parent is not first:
                changes[name] = parent[name]
        child.update(changes)
        return child
    values = child.values_dict()
    for name in first:
        parent = donor()
        if name in parent:
            values[name] = parent[name]
    child._assign(space.complete(values, rng, parents))
    return child


def _first_parent_share(loss_1: float | None, loss_2: float | None, temperature: float) -> float:
    a = math.inf if loss_1 is None else loss_1
    b = math.inf if loss_2 is None else loss_2
    # Equal losses (both +inf or both -inf included: their difference is NaN) and NaN give no
    # preference; -inf against +inf falls through to the clamped exponent below.
    if a == b or a != a or b != b:
        return 0.5
    exponent = (a - b) / temperature
    if exponent > 700:
        return 0.0
    if exponent < -700:
        return 1.0
    return 1.0 / (1.0 + math.exp(exponent))
