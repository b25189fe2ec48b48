"""Migration policies are pure: they return decisions and leave the population alone."""

from __future__ import annotations

import random

import pytest

from propulate import Individual
from propulate.errors import ConfigurationError
from propulate.migration import Adopt, Emigrate, Place, Pollination, RealMigration, Relocate
from propulate.population import Population, Status
from propulate.propagators import SelectMax, SelectMin
from propulate.wire import Kind

LIMITS = {"x": (0.0, 10.0)}
TWO_ISLANDS = [[0, 2], [1, 0]]


def population(owner: int, losses: list[float]) -> Population:
    known = Population(owner=owner)
    for generation, loss in enumerate(losses):
        ind = Individual({"x": loss}, LIMITS, generation=generation, rank=owner)
        ind.loss, ind.status, ind.island, ind.current = loss, Status.OK, owner // 2, owner
        known.add(ind)
    return known


def snapshot(known: Population) -> list[tuple]:
    return [(i.key, i.active, i.current, i.migration_steps) for i in known]


PLACE = Place(rank=0, island=0, islands=[range(0, 2), range(2, 4)], rng=random.Random(0))


def test_real_migration_decides_emigrants_without_moving_them():
    known = population(0, [5.0, 1.0, 3.0, 2.0])
    before = snapshot(known)
    policy = RealMigration(TWO_ISLANDS, 1.0, SelectMin)
    decisions = policy.after_generation(PLACE, known)
    assert snapshot(known) == before  # nothing changed: the loop carries decisions out
    relocations = [d for d in decisions if isinstance(d, Relocate)]
    emigrations = [d for d in decisions if isinstance(d, Emigrate)]
    assert [d.key for d in relocations] == [(0, 1), (0, 3)]  # the two best it owns
    assert all(not d.active and d.migration_steps == 1 for d in relocations)
    assert all(e.island == 1 and e.kind == Kind.MIGRANT and e.owner in (2, 3) for e in emigrations)
    assert [(r.current, r.migration_steps) for r in relocations] == [
        (e.owner, e.migration_steps) for e in emigrations
    ]
    assert policy.sent == 2


def test_several_target_islands_never_get_the_same_emigrant():
    known = population(0, [5.0, 1.0, 3.0, 2.0, 4.0])
    place = Place(0, 0, [range(0, 1), range(1, 2), range(2, 3)], random.Random(1))
    policy = RealMigration([[0, 2, 2], [0, 0, 0], [0, 0, 0]], 1.0, SelectMin)
    decisions = policy.after_generation(place, known)
    sent = {(d.island, d.ind.key) for d in decisions if isinstance(d, Emigrate)}
    assert sent == {(1, (0, 1)), (1, (0, 3)), (2, (0, 2)), (2, (0, 4))}


def test_an_immigrant_is_adopted_and_recorded_by_its_owner_only():
    policy = RealMigration(TWO_ISLANDS, 0.5, SelectMin)
    arrival = population(3, [1.0]).to_list()[0]
    arrival.current = 0
    assert policy.on_arrival(PLACE, Population(owner=0), Kind.MIGRANT, arrival) == [
        Adopt(arrival, record=True)
    ]
    arrival.current = 1
    assert policy.on_arrival(PLACE, Population(owner=0), Kind.MIGRANT, arrival) == [
        Adopt(arrival, record=False)
    ]
    assert policy.received == 1


def test_each_copy_taken_in_replaces_one_individual_of_its_owner():
    known = population(0, [5.0, 1.0, 3.0])
    before = snapshot(known)
    policy = Pollination(TWO_ISLANDS, 0.0, SelectMin, SelectMax)
    arrival = population(2, [0.5]).to_list()[0]
    arrival.current = 0
    decisions = policy.on_arrival(PLACE, known, Kind.POLLEN, arrival)
    assert snapshot(known) == before
    assert decisions == [Relocate((0, 0), False, 0, 1), Adopt(arrival, record=True)]
    assert (policy.received, policy.replaced, policy.debt) == (1, 1, 0)
    # A copy of an individual already known arrives as nothing and replaces nothing.
    assert policy.on_arrival(PLACE, known, Kind.POLLEN, known.to_list()[1]) == []


def test_a_copy_taken_in_with_nothing_owned_is_paid_for_later():
    policy = Pollination(TWO_ISLANDS, 0.0, SelectMin, SelectMax)
    arrival = population(2, [0.5]).to_list()[0]
    arrival.current = 0
    assert policy.on_arrival(PLACE, Population(owner=0), Kind.POLLEN, arrival) == [
        Adopt(arrival, record=True)
    ]
    assert policy.debt == 1
    known = population(0, [2.0, 7.0])
    assert policy.after_generation(PLACE, known) == [Relocate((0, 1), False, 0, 1)]
    assert (policy.debt, policy.replaced) == (0, 1)


def test_pollen_leaving_after_a_replacement_is_chosen_among_the_rest():
    known = population(0, [1.0, 2.0])
    policy = Pollination([[0, 2], [0, 0]], 1.0, SelectMax, SelectMax)
    policy.debt = 1  # the worst, (0, 1), is replaced first ...
    decisions = policy.after_generation(PLACE, known)
    assert decisions[0] == Relocate((0, 1), False, 0, 1)
    # ... so with one left, two copies cannot leave.
    assert [d for d in decisions if isinstance(d, Emigrate)] == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RealMigration([[0, 1], [1]], 0.5, SelectMin), "square matrix"),
        (lambda: RealMigration([[1]], 0.5, SelectMin), r"topology\[0\]\[0\]=1 must be 0"),
        (lambda: RealMigration([[0]], 1.5, SelectMin), "probability=1.5"),
        (lambda: Pollination([[0]], 0.5, SelectMin, "worst"), "immigration_propagator"),
    ],
)
def test_policies_validate_their_arguments(make, message):
    with pytest.raises(ConfigurationError, match=message):
        make()


def test_every_copy_of_an_individual_names_the_same_owner():
    # Copies of one individual reach an island from several senders, in any order: with one
    # owner, only it takes the individual in (and replaces one of its own), once.
    owners = set()
    for rank, seed in [(0, 0), (1, 1), (0, 2), (1, 3)]:
        known = population(rank, [1.0, 2.0])
        best = known.active[0]
        policy = Pollination([[0, 1], [0, 0]], 1.0, SelectMin, SelectMax)
        place = Place(rank, 0, [range(0, 2), range(2, 8)], random.Random(seed))
        (copy,) = [d for d in policy.after_generation(place, known) if isinstance(d, Emigrate)]
        assert copy.ind.key == best.key
        owners.add((best.key, copy.owner))
    assert len({owner for key, owner in owners if key == (0, 0)}) == 1
    assert all(owner in range(2, 8) for _, owner in owners)


def test_a_copy_of_an_individual_bred_on_the_island_is_not_taken_in():
    # Its breeder's result may still be on the way: the copy must not replace anybody.
    policy = Pollination(TWO_ISLANDS, 0.0, SelectMin, SelectMax)
    known = population(0, [5.0, 1.0])
    home = population(1, [0.5]).to_list()[0]
    home.island, home.current = 0, 0
    assert policy.on_arrival(PLACE, known, Kind.POLLEN, home) == []
    assert (policy.received, policy.replaced) == (0, 0)
