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
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import PropulateError
from ..population import ActiveView, Individual, Population, Status
from ..propagators.base import Propagator, listeners, random_generators, stateful_stages
from ..search_space import Limits, SearchSpace

__all__ = [
    "MIXED_LIMITS",
    "FLOAT_LIMITS",
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

# Every kind of dimension: int, float, reversed float, log float, log int, two categoricals.
MIXED_LIMITS: dict[str, tuple[Any, ...]] = {
    "layers": (1, 6),
    "dropout": (0.0, 0.5),
    "lr": (0.01, 0.0001),
    "decay": (1e-6, 1e-2, "log"),
    "width": (4, 512, "log"),
    "act": ("relu", "tanh", "elu"),
    "opt": ("sgd", "adam"),
}

# Continuous dimensions only (particle swarms, CMA-ES, Nelder-Mead), one of them reversed.
FLOAT_LIMITS: dict[str, tuple[Any, ...]] = {
    "a": (-5.12, 5.12),
    "b": (-2.0, 3.0),
    "c": (1.0, -1.0),
    "d": (0.0, 100.0),
}

PropagatorFactory = Callable[[Limits, random.Random], Propagator]
PopulationFactory = Callable[[Limits, Sequence[float]], list[Individual]]

# How many individuals the checks hand a propagator that takes any number (parents == -1).
DEFAULT_SIZE = 12
_RANKS = 4
_TYPES = {"int": int, "float": float, "categorical": str}


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
        ind.current = ind.rank
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
    assert list(child) == list(space.names), f"{prefix}names {list(child)} != {space.names}"
    for d in space:
        value = child[d.name]
        assert type(value) is _TYPES[d.kind], (
            f"{prefix}{d.name}={value!r} is a {type(value).__name__}, expected {d.kind}"
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


def _snapshot(ind: Individual) -> tuple[Any, ...]:
    velocity = None if ind.velocity is None else np.array(ind.velocity, copy=True)
    return (
        dict(ind),
        np.array(ind.position, copy=True),
        velocity,
        ind.loss,
        ind.rank,
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


# ----- the lifecycle ----------------------------------------------------------------------------
_STATUS_CYCLE = (Status.OK, Status.OK, Status.FAILED, Status.OK, Status.PRUNED)


def _tell(propagator: Propagator, ind: Individual) -> None:
    """Tell a result the way the loop does: to every stage that learns."""
    for listener in listeners(propagator):
        listener.tell(ind)


_OWN_RANK = 1  # the rank of the worker the battery plays (particle swarms in it use rank 1)


def _evaluate(child: Individual, generation: int, rng: random.Random) -> None:
    """Stamp a child as the loop does after evaluating it; some fail, some are pruned."""
    status = _STATUS_CYCLE[generation % len(_STATUS_CYCLE)]
    child.rank, child.generation, child.island = _OWN_RANK, 1000 + generation, 0
    child.current = _OWN_RANK
    child.status = status
    child.loss = math.inf if status == Status.FAILED else rng.uniform(-10.0, 10.0)
    child.evaltime, child.evalperiod = 1_800_000_000.0 + generation, 0.1


class _Island:
    """A minimal stand-in for the loop: one worker breeding, told results from three others.

    Each round the worker asks for a child, evaluates it (the very object, when it is new) and
    tells it; a result of another worker arrives every round, and every third round a repeat of
    a known individual is told with ``rank == -1`` as :class:`AvoidDuplicates` does.
    """

    def __init__(self, limits: Limits, make_population: PopulationFactory, seed: int) -> None:
        self.rng = random.Random(seed)
        everybody = make_population(limits, _random_losses(4 * 60, seed))
        self.others = [ind for ind in everybody if ind.rank != _OWN_RANK]
        self.population = Population()
        self.told: list[Individual] = []
        self.generation = 0

    def start(self, propagator: Propagator) -> _Island:
        """Tell the results the worker knows before its first call (as many as it needs)."""
        for ind in self.others[: _size_for(propagator)]:
            self._learn(propagator, ind)
        return self

    def round(self, propagator: Propagator, calls: int) -> list[dict[str, Any]]:
        children = []
        for _ in range(calls):
            template = breed(propagator, self.population.active)[0]
            children.append(dict(template))
            fresh = template.status == Status.PENDING and template.key not in self.population
            child = template if fresh else template.copy()
            _evaluate(child, self.generation, self.rng)
            self.generation += 1
            self._learn(propagator, child)
            other = self.others[(self.generation - 1) % len(self.others)]
            if other.key not in self.population:
                self._learn(propagator, other)
            if self.generation % 3 == 0 and len(self.population):
                known = self.population.active[0] if len(self.population.active) else child
                repeat = Individual._from_trusted(known.values_dict(), known.search_space)
                repeat.loss, repeat.status = known.loss, known.status
                _tell(propagator, repeat)
                self.told.append(repeat)
        return children

    def _learn(self, propagator: Propagator, ind: Individual) -> None:
        self.population.add(ind)
        before = _snapshot(ind)
        _tell(propagator, ind)
        self.told.append(ind)
        assert _same_snapshot(_snapshot(ind), before), (
            f"{type(propagator).__name__}.tell changed the individual it was told: {before} -> "
            f"{_snapshot(ind)}"
        )


def check_tell(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
    rounds: int = 40,
) -> None:
    """Told every kind of result, a propagator keeps breeding valid children.

    Its own children, other workers' results, failed and pruned ones, and repeats are told the
    way the loop tells them; ``tell`` must not change the individual it is told.
    """
    for seed in (0, 1):
        propagator = factory(limits, random.Random(seed))
        island = _Island(limits, make_population, seed).start(propagator)
        try:
            island.round(propagator, rounds)
        except AssertionError:
            raise
        except Exception as error:
            raise AssertionError(
                f"{type(propagator).__name__} failed while being told results: {error!r}"
            ) from error
        for ind in island.population:
            assert_valid_child(ind, limits, f"seed {seed}")


def check_state_round_trip(
    factory: PropagatorFactory,
    limits: Limits = MIXED_LIMITS,
    make_population: PopulationFactory = make_population,
    before: int = 30,
    after: int = 15,
) -> None:
    """``get_state`` is plain JSON, and a resumed propagator continues the same search.

    A propagator runs ``before`` rounds; a new one from the same factory is told the same
    results in the same order (the loop's replay of the checkpoint), then gets the first one's
    random generator state and ``get_state()`` through a JSON round trip; both must then breed
    the same children for ``after`` more rounds.
    """
    original = factory(limits, random.Random(11))
    island = _Island(limits, make_population, 11).start(original)
    island.round(original, before)
    name = type(original).__name__
    try:
        text = json.dumps(_states(original), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise AssertionError(f"{name}.get_state() is not plain JSON: {error}") from error
    resumed = factory(limits, random.Random(0))
    for ind in island.told:
        _tell(resumed, ind)
    for rng, state in zip(
        random_generators(resumed),
        [rng.getstate() for rng in random_generators(original)],
        strict=True,
    ):
        rng.setstate(state)
    for stage, state in zip(stateful_stages(resumed), json.loads(text), strict=True):
        stage.set_state(state)
    copy = _Island(limits, make_population, 11)
    copy.population, copy.told, copy.generation = _copy(island.population), [], island.generation
    copy.rng.setstate(island.rng.getstate())
    expected = island.round(original, after)
    got = copy.round(resumed, after)
    for call, (a, b) in enumerate(zip(expected, got, strict=True)):
        assert a == b, (
            f"{name}: call {call} after restoring the state differs from the original run:\n"
            f"{a}\n{b}"
        )


def _states(propagator: Propagator) -> list[Any]:
    return [stage.get_state() for stage in stateful_stages(propagator)]


def _copy(population: Population) -> Population:
    copy = Population()
    for ind in population:
        copy.add(ind)
    return copy


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
