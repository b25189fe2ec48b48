"""The propagator contract battery: checks every propagator must pass.

Each ``check_*`` function takes a *factory* ``factory(limits, rng) -> Propagator`` and the limits
to build it with, and fails with an ``AssertionError`` naming what went wrong. They are plain
functions, so a test suite (yours too) imports and runs them::

    from propulate.testing import FLOAT_LIMITS, run_battery

    def test_my_propagator():
        run_battery(lambda limits, rng: MyPropagator(limits, rng=rng), FLOAT_LIMITS)

What the contract says (see propulate/propagators/base.py): ``propagator(inds)`` gets a sequence
of evaluated individuals (usually a population's :class:`~propulate.population.ActiveView`, not
necessarily a list), must not change it or its members, and returns one
:class:`~propulate.Individual` or a list of them, inside the limits with the right types. The
loop only uses the first child. Individuals arrive from other ranks at any time, so a propagator
must cope with any population: losses of +inf (failed evaluations) or -inf, ties, too few
individuals (a clear :class:`~propulate.errors.ConfigurationError`, never an ``IndexError``).

The lifecycle (see :mod:`propulate.propagators.base`): the loop tells a propagator every result
its island learns, its own children as the very objects it returned; :func:`check_tell` feeds
it every kind of result that way, and :func:`check_state_round_trip` checks that
``get_state`` is plain JSON and that a new propagator, told the same results and given that
state, continues exactly where the first one was (what a resumed run relies on).

Propagators that need more than the defaults give (e.g. a particle swarm that looks for its own
rank's individuals) pass their own ``make_population``: any callable
``make_population(limits, losses) -> list[Individual]`` returning evaluated individuals.

This module holds the checks of what one call returns and runs the battery; the helpers they
share are in :mod:`propulate.testing.populations` and the lifecycle checks in
:mod:`propulate.testing.lifecycle`. Every name is importable from here, as it always was, and
from :mod:`propulate.testing`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import PropulateError
from ..search_space import Limits
from .lifecycle import check_state_round_trip, check_tell
from .populations import (
    CONDITIONAL_LIMITS,
    FLOAT_LIMITS,
    KINDS_LIMITS,
    MIXED_LIMITS,
    PopulationFactory,
    PropagatorFactory,
    _random_losses,
    _same_snapshot,
    _size_for,
    _snapshot,
    as_active_view,
    assert_valid_child,
    breed,
    make_population,
)
from .populations import DEFAULT_SIZE as DEFAULT_SIZE  # parents=-1 propagators get this many

__all__ = [
    "MIXED_LIMITS",
    "FLOAT_LIMITS",
    "KINDS_LIMITS",
    "CONDITIONAL_LIMITS",
    "PropagatorFactory",
    "PopulationFactory",
    "make_population",
    "as_active_view",
    "breed",
    "assert_valid_child",
    "check_children_valid",
    "check_arity",
    "check_reproducible",
    "check_extreme_losses",
    "check_parents_unchanged",
    "check_tell",
    "check_state_round_trip",
    "ALL_CHECKS",
    "run_battery",
]


def check_children_valid(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
    calls: int = 30,
    seeds: Sequence[int] = (0, 1, 2),
) -> None:
    """Children lie inside the limits with the right types, from a list and an active view."""
    for seed in seeds:
        propagator = factory(limits, random.Random(seed))
        inds = make_population(limits, _random_losses(_size_for(propagator), seed))
        for container in (list, as_active_view):
            given = container(inds)
            for call in range(calls):
                for child in breed(propagator, given):
                    assert_valid_child(child, limits, f"seed {seed}, call {call}")


def check_arity(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
) -> None:
    """Declared counts are sane and respected; too few individuals give a clear error.

    With exactly ``parents`` individuals (``DEFAULT_SIZE`` for "any") the propagator returns
    ``offspring`` children (when it declares a count). With fewer, it either still returns valid
    children or raises a :class:`~propulate.errors.PropulateError` (a ``ConfigurationError``)
    with a message; any other exception (``IndexError``, ``ZeroDivisionError``...) fails.
    """
    propagator = factory(limits, random.Random(0))
    name = type(propagator).__name__
    assert isinstance(propagator.parents, int) and propagator.parents >= -1, (
        f"{name}.parents = {propagator.parents!r}"
    )
    assert isinstance(propagator.offspring, int) and propagator.offspring not in (0,), (
        f"{name}.offspring = {propagator.offspring!r}"
    )
    size = _size_for(propagator)
    inds = make_population(limits, _random_losses(size, 1))
    for _ in range(10):
        children = breed(propagator, as_active_view(inds))
        if propagator.offspring > 0:
            assert len(children) == propagator.offspring, (
                f"{name} declares {propagator.offspring} offspring, returned {len(children)}"
            )
    fewer = range(propagator.parents) if propagator.parents > 0 else range(2)
    for n in fewer:
        few = make_population(limits, _random_losses(n, 2))
        for _ in range(5):
            try:
                children = breed(propagator, as_active_view(few))
            except PropulateError as error:
                assert len(str(error)) > 20, f"{name} with {n} individual(s): terse {error!r}"
                break
            except Exception as error:  # any other exception breaks the contract
                raise AssertionError(
                    f"{name} with {n} individual(s) raised {error!r}; expected children or a "
                    "ConfigurationError saying how many it needs"
                ) from error
            for child in children:
                assert_valid_child(child, limits, f"{name} with {n} individual(s)")


def check_reproducible(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
    calls: int = 20,
) -> None:
    """The same seed and the same population give the same children, call after call."""

    def run(seed: int) -> list[list[dict[str, Any]]]:
        propagator = factory(limits, random.Random(seed))
        inds = make_population(limits, _random_losses(_size_for(propagator), 3))
        view = as_active_view(inds)
        return [[dict(child) for child in breed(propagator, view)] for _ in range(calls)]

    first, second = run(7), run(7)
    for call, (a, b) in enumerate(zip(first, second, strict=True)):
        assert a == b, f"call {call}: same seed, different children:\n{a}\n{b}"


def check_extreme_losses(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
    calls: int = 20,
) -> None:
    """Populations with +inf and -inf losses and ties still give valid children."""
    probe = factory(limits, random.Random(0))
    size = max(_size_for(probe), 2)
    inf = math.inf
    patterns = {
        "mixed infinities": [inf, -inf, 1.0, inf, 1.0, -inf, 0.5, 1.0],
        "all +inf": [inf] * 8,
        "all -inf": [-inf] * 8,
        "all tied": [3.0] * 8,
        "one finite": [inf] * 7 + [2.0],
    }
    for label, pattern in patterns.items():
        losses = (pattern * (size // len(pattern) + 1))[:size]
        inds = make_population(limits, losses)
        for container in (list, as_active_view):
            propagator = factory(limits, random.Random(0))
            given = container(inds)
            for call in range(calls):
                try:
                    children = breed(propagator, given)
                except Exception as error:  # report which population broke it
                    raise AssertionError(
                        f"{type(propagator).__name__} failed on losses {label}: {error!r}"
                    ) from error
                for child in children:
                    assert_valid_child(child, limits, f"losses {label}, call {call}")


def check_parents_unchanged(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
    calls: int = 30,
) -> None:
    """Breeding changes neither the sequence it was given nor any individual in it.

    A child may *be* one of the parents (a pass-through): the loop copies it before use. But
    the loop then sets rank, generation and loss on the copy; if the propagator kept a reference
    into the population and changed it, the population would silently change under everyone.
    """
    for seed in (0, 1):
        propagator = factory(limits, random.Random(seed))
        inds = make_population(limits, _random_losses(_size_for(propagator), seed))
        before = [_snapshot(ind) for ind in inds]
        order = list(inds)
        given_list = list(inds)
        view = as_active_view(inds)
        view_order = list(view)
        for _ in range(calls):
            for given in (given_list, view):
                for child in breed(propagator, given):
                    # What the loop does with the first child: copy, then stamp metadata.
                    stamped = child.copy()
                    stamped.rank, stamped.generation, stamped.loss = 99, 99, -1.0
        name = type(propagator).__name__
        assert given_list == order and all(
            a is b for a, b in zip(given_list, order, strict=True)
        ), f"{name} changed the list it was given"
        assert list(view) == view_order, f"{name} changed the population's order"
        for i, (ind, snapshot) in enumerate(zip(inds, before, strict=True)):
            assert _same_snapshot(_snapshot(ind), snapshot), (
                f"{name} changed parent {i}: {snapshot} -> {_snapshot(ind)}"
            )


ALL_CHECKS: tuple[Callable[..., None], ...] = (
    check_children_valid,
    check_arity,
    check_reproducible,
    check_extreme_losses,
    check_parents_unchanged,
    check_tell,
    check_state_round_trip,
)


def run_battery(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
) -> None:
    """Run every check of the battery."""
    for check in ALL_CHECKS:
        check(factory, limits, make_population)
