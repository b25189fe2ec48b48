"""A custom propagator: differential evolution's mutation, and a breeding pipeline around it."""

from __future__ import annotations

import random
from collections.abc import Sequence

from propulate import Individual, SearchSpace
from propulate.errors import ConfigurationError
from propulate.propagators import (
    Compose,
    Conditional,
    InitUniform,
    IntervalMutationNormal,
    Propagator,
    SelectMin,
    SelectUniform,
    Stochastic,
)


class DifferentialMutation(Stochastic):
    """Child = a + factor * (b - c), per numeric hyperparameter, from three parents a, b, c.

    The arithmetic happens in unit coordinates (0 at a dimension's lower bound, 1 at its upper
    bound, logarithmic for log-scaled ones), so every kind of range is handled alike, and
    ``from_unit`` clips the result into the bounds and gives it the right type. Categorical
    hyperparameters are taken from ``a``.

    Parameters
    ----------
    limits : dict or SearchSpace
        The search space.
    factor : float
        The differential weight, in (0, 2].
    probability : float
        The probability of mutating at all; otherwise ``a`` passes through.
    rng : random.Random, optional
        The random number generator.
    """

    def __init__(self, limits, factor=0.8, probability=1.0, rng=None):
        super().__init__(parents=3, offspring=1, probability=probability, rng=rng)
        if not 0.0 < factor <= 2.0:
            raise ConfigurationError(
                f"DifferentialMutation: factor={factor!r} is outside (0, 2]; 0.5 to 1 is typical."
            )
        # Named `space`: the Propulator finds the search space of a pipeline through it.
        self.space = SearchSpace.of(limits)
        self.factor = factor

    def __call__(self, inds: Sequence[Individual]) -> Individual:
        """Breed one child from the first three individuals of ``inds``."""
        self._check_parents(inds)  # a clear ConfigurationError with fewer than three
        a, b, c = inds[0], inds[1], inds[2]
        if not self.applies():
            return a  # passing a parent through is fine: the loop copies it
        child = a.copy()  # never change the parents: other code holds them
        for dim in self.space:
            if dim.is_numeric:
                unit = dim.to_unit(a[dim.name]) + self.factor * (
                    dim.to_unit(b[dim.name]) - dim.to_unit(c[dim.name])
                )
                child[dim.name] = dim.from_unit(unit)
        return child


def make_propagator(limits, pop_size: int, rng: random.Random) -> Propagator:
    """Random individuals until ``pop_size`` are known, then DE mutation among the best."""
    breed = Compose(
        [
            SelectMin(pop_size),  # the pop_size best active individuals ...
            SelectUniform(3, rng=rng),  # ... three of them at random, as a, b and c
            DifferentialMutation(limits, factor=0.7, rng=rng),
            IntervalMutationNormal(limits, sigma_factor=0.02, probability=0.3, rng=rng),
        ]
    )
    return Conditional(pop_size, breed, InitUniform(limits, rng=rng))
