"""The lifecycle checks: a propagator told every kind of result, and resumed from its state.

The loop tells a propagator every result its island learns, its own children as the very objects
it returned (see :mod:`propulate.propagators.base`).
:func:`~propulate.testing.battery.check_tell` plays one worker of an island that way;
:func:`~propulate.testing.battery.check_state_round_trip` checks that ``get_state`` is plain JSON
and that a new propagator, told the same results and given that state, continues exactly where
the first one was (what a resumed run relies on). Both are part of
:func:`~propulate.testing.battery.run_battery`.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

from ..population import Individual, Population, Status
from ..propagators.base import Propagator, listeners, random_generators, stateful_stages
from ..search_space import Limits
from .populations import (
    MIXED_LIMITS,
    PopulationFactory,
    PropagatorFactory,
    _random_losses,
    _same_snapshot,
    _size_for,
    _snapshot,
    assert_valid_child,
    breed,
    make_population,
)

__all__ = ["check_tell", "check_state_round_trip"]

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
        self.others = [ind for ind in everybody if ind.worker != _OWN_RANK]
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
