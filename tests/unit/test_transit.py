"""Emigrants lost in transit by a killed job are found from the logs (propulate.transit)."""

from __future__ import annotations

import random
import time

from propulate.checkpoint import CheckpointLog
from propulate.migration import Adopt, Place, RealMigration
from propulate.population import Individual, Population
from propulate.propagators import SelectMin
from propulate.search_space import SearchSpace
from propulate.transit import lost_in_transit
from propulate.wire import Kind

SPACE = SearchSpace({"x": (-1.0, 1.0)})
HOME, TARGET = 1, 0  # an emigrant leaves island 1 (rank 2) for island 0 (ranks 0 and 1)
TARGET_MEMBERS = (0, 1)


def individual(generation: int, active: bool, current: int, steps: int) -> Individual:
    ind = Individual({"x": generation / 10}, SPACE)
    ind.loss, ind.status = float(generation), "ok"
    ind.rank, ind.generation, ind.island = 2, generation, HOME
    ind.active, ind.current, ind.migration_steps = active, current, steps
    return ind


def write(folder, island: int, rank: int, records: list[Individual]) -> CheckpointLog:
    log = CheckpointLog(folder, SPACE, island, rank)
    log.open()  # a session record, as every job writes
    for ind in records:
        log.append(ind)
    log.close()
    return log


def test_a_departure_never_recorded_as_an_arrival_is_lost(tmp_path):
    # Rank 2 evaluated generations 0-2; 1 and 2 left for rank 1 of island 0; only 1 arrived.
    write(tmp_path, HOME, 2, [individual(g, True, 2, 0) for g in range(3)]
          + [individual(1, False, 1, 1), individual(2, False, 1, 1)])  # fmt: skip
    arrived = individual(1, True, 1, 1)
    write(tmp_path, TARGET, 1, [arrived])
    known = Population()
    known.add(arrived)
    lost = lost_in_transit(tmp_path, SPACE, TARGET, TARGET_MEMBERS, known, time.time())
    assert [(ind.key, ind.active, ind.current, ind.migration_steps) for ind in lost] == [
        ((2, 2), True, 1, 1)
    ]
    # The home island, and an island no emigrant was sent to, find nothing.
    assert lost_in_transit(tmp_path, SPACE, HOME, (2,), Population(), time.time()) == []
    assert lost_in_transit(tmp_path, SPACE, 5, (9,), Population(), time.time()) == []


def test_one_that_arrived_and_moved_on_is_not_lost(tmp_path):
    write(tmp_path, HOME, 2, [individual(0, True, 2, 0), individual(0, False, 0, 1)])
    moved_on = individual(0, False, 3, 2)  # arrived at rank 0 (steps 1), left again (steps 2)
    known = Population()
    known.add(moved_on)
    assert lost_in_transit(tmp_path, SPACE, TARGET, TARGET_MEMBERS, known, time.time()) == []


def test_departures_of_the_job_that_just_started_are_on_their_way(tmp_path):
    before = time.time()
    write(tmp_path, HOME, 2, [individual(0, True, 2, 0), individual(0, False, 0, 1)])
    # This job started before the sender's session: its departures still arrive as messages.
    assert lost_in_transit(tmp_path, SPACE, TARGET, TARGET_MEMBERS, Population(), before) == []


def test_an_emigrant_taken_in_twice_is_adopted_once():
    policy = RealMigration([[0, 1], [1, 0]], 1.0, SelectMin)
    place = Place(1, TARGET, [TARGET_MEMBERS, (2,)], random.Random(0))
    arrival = individual(0, True, 1, 1)
    known = Population()
    (adopt,) = policy.on_arrival(place, known, Kind.MIGRANT, arrival)
    assert isinstance(adopt, Adopt) and adopt.record
    known.add(arrival)
    assert policy.on_arrival(place, known, Kind.MIGRANT, individual(0, True, 1, 1)) == []
    assert policy.received == 1
