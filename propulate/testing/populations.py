"""What the battery's checks share: search spaces, populations, breeding and valid children.

A check builds evaluated individuals with :func:`~propulate.testing.battery.make_population`
(or a ``make_population`` of its own with the same signature), hands them to a propagator as the
loop does (:func:`~propulate.testing.battery.as_active_view`), calls it through
:func:`~propulate.testing.battery.breed` and checks each child with
:func:`~propulate.testing.battery.assert_valid_child`. Everything here is importable from
:mod:`propulate.testing` and :mod:`propulate.testing.battery` too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..parameters import Bool, Float, Int, Ordinal
from ..population import ActiveView, Individual, Population, Status
from ..propagators.base import Propagator
from ..search_space import Limits, SearchSpace

__all__ = [
    "MIXED_LIMITS",
    "FLOAT_LIMITS",
    "KINDS_LIMITS",
    "CONDITIONAL_LIMITS",
    "PropagatorFactory",
    "PopulationFactory",
    "DEFAULT_SIZE",
    "make_population",
    "as_active_view",
    "breed",
    "assert_valid_child",
]

#: Every kind of dimension (int, float, reversed float, log float, log int, two categoricals).
MIXED_LIMITS: dict[str, tuple[Any, ...]] = {
    "layers": (1, 6),
    "dropout": (0.0, 0.5),
    "lr": (0.01, 0.0001),
    "decay": (1e-6, 1e-2, "log"),
    "width": (4, 512, "log"),
    "act": ("relu", "tanh", "elu"),
    "opt": ("sgd", "adam"),
}

#: Continuous dimensions only (particle swarms, CMA-ES, Nelder-Mead), one of them reversed.
FLOAT_LIMITS: dict[str, tuple[Any, ...]] = {
    "a": (-5.12, 5.12),
    "b": (-2.0, 3.0),
    "c": (1.0, -1.0),
    "d": (0.0, 100.0),
}

#: The kinds beyond 1.2's ranges and categoricals (value sets, the shorthand and the spec, one
#: of two values; stepped ranges, booleans and pinned values), next to an int and a float range.
KINDS_LIMITS: dict[str, Any] = {
    "batch": (16, 32, 64, 128),
    "ratio": (0.1, 0.25, 0.5),
    "pair": Ordinal([3, 7]),
    "width": Int(8, 64, step=8),
    "dropout": Float(0.0, 0.5, step=0.1),
    "bias": (True, False),
    "shuffle": Bool(),
    "act": ("relu", "relu"),
    "scale": (0.5, 0.5),
    "layers": (1, 4),
    "lr": (1e-4, 1e-2, "log"),
}

#: Conditional parameters (see propulate.conditions), momentum only for two optimizers, a
#: boolean only for one, a stepped float nested below that boolean, a value set for another.
CONDITIONAL_LIMITS: dict[str, Any] = {
    "opt": ("sgd", "adam", "rmsprop"),
    "lr": (1e-4, 1e-1, "log"),
    "momentum": Float(0.0, 0.99, when={"opt": ("sgd", "rmsprop")}),
    "nesterov": Bool(when={"opt": "sgd"}),
    "dampening": Float(0.0, 0.5, step=0.1, when={"nesterov": False}),
    "beta2": Ordinal([0.9, 0.99, 0.999], when={"opt": "adam"}),
    "layers": (1, 4),
}

PropagatorFactory = Callable[[Limits, random.Random], Propagator]
PopulationFactory = Callable[[Limits, Sequence[float]], list[Individual]]

#: How many individuals the checks hand a propagator that takes any number (parents == -1).
DEFAULT_SIZE = 12
_RANKS = 4


def make_population(limits: Limits, losses: Sequence[float], seed: int = 0) -> list[Individual]:
    """Evaluated individuals as the loop makes them: one per loss, spread over four ranks.

    Individual ``i`` has rank ``i % 4``, generation ``i // 4``, island 0 and status OK.
    """
    space = SearchSpace.of(limits)
    rng = random.Random(seed)
    population = []
    for i, loss in enumerate(losses):
        ind = Individual(space.sample(rng), space, generation=i // _RANKS, rank=i % _RANKS)
        ind.loss = loss
        ind.island = 0
        ind.current = ind.worker
        ind.status = Status.FAILED if loss == math.inf else Status.OK
        ind.evaltime = 1_700_000_000.0 + i
        ind.evalperiod = 0.1
        population.append(ind)
    return population


def as_active_view(inds: Sequence[Individual]) -> ActiveView:
    """The individuals as the loop hands them to a propagator: a population's active view."""
    population = Population()
    for ind in inds:
        population.add(ind)
    assert len(population.active) == len(inds), "make_population gave duplicate (rank, generation)"
    return population.active


def breed(propagator: Propagator, inds: Sequence[Individual]) -> list[Individual]:
    """Call the propagator and return its children as a list, checking the return type."""
    result = propagator(inds)
    name = type(propagator).__name__
    if isinstance(result, Individual):
        return [result]
    assert isinstance(result, list), f"{name} returned {type(result).__name__}, not a list"
    assert result, f"{name} returned no individual"
    for child in result:
        assert isinstance(child, Individual), f"{name} returned a {type(child).__name__}"
    return result


def assert_valid_child(child: Individual, limits: Limits, where: str = "") -> None:
    """A child lies in the search space, every value of the right type, position consistent."""
    space = SearchSpace.of(limits)
    prefix = f"{where}: " if where else ""
    assert isinstance(child, Individual), f"{prefix}{child!r} is not an Individual"
    assert child.search_space == space, f"{prefix}child lives in another search space"
    active = [name for name in space.names if name in space.active(child)]
    assert list(child) == active, f"{prefix}names {list(child)} != the active ones {active}"
    for d in space:
        if d.name not in active:
            continue
        value = child[d.name]
        assert type(value) is d.value_type, (
            f"{prefix}{d.name}={value!r} is a {type(value).__name__}, expected "
            f"{d.value_type.__name__}"
        )
        assert d.contains(value), f"{prefix}{d.name}={value!r} is outside {space.limits[d.name]}"
    position = child.position
    assert position.shape == (space.encoded_size,), f"{prefix}position shape {position.shape}"
    assert np.all(np.isfinite(position)), f"{prefix}position {position} is not finite"
    assert space.decode(position) == dict(child), (
        f"{prefix}position {position} decodes to {space.decode(position)}, values are {dict(child)}"
    )


def _random_losses(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-10.0, 10.0) for _ in range(n)]


def _size_for(propagator: Propagator) -> int:
    return propagator.parents if propagator.parents > 0 else DEFAULT_SIZE


def _snapshot(ind: Individual) -> tuple[Any, ...]:
    velocity = None if ind.velocity is None else np.array(ind.velocity, copy=True)
    return (
        dict(ind),
        np.array(ind.position, copy=True),
        velocity,
        ind.loss,
        ind.worker,
        ind.generation,
        ind.island,
        ind.active,
        ind.status,
        ind.current,
        ind.evaltime,
        ind.evalperiod,
        ind.migration_steps,
    )


def _same_snapshot(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)):
                return False
            if not np.array_equal(x, y):
                return False
        elif x != y and not (x != x and y != y):  # NaN equals NaN here
            return False
    return True
