"""The file of unfinished evaluations (propulate.unfinished) and the agreement at start."""

from __future__ import annotations

import threading

import pytest

from propulate import Individual
from propulate.comm.agreement import agree
from propulate.comm.local import LocalNetwork
from propulate.errors import CheckpointError
from propulate.evaluation import Evaluation
from propulate.search_space import SearchSpace
from propulate.unfinished import Unfinished, unfinished_path

SPACE = SearchSpace({"x": (-5.0, 5.0), "n": (1, 10), "act": ("relu", "tanh")})


def individual(generation: int) -> Individual:
    ind = Individual._from_trusted({"x": 0.5 + generation, "n": 3, "act": "tanh"}, SPACE)
    ind.rank, ind.generation, ind.island = 2, generation, 1
    return ind


def test_entries_survive_a_new_process_until_they_end(tmp_path):
    store = Unfinished(tmp_path, SPACE, 1, 2)
    for generation in (4, 5, 6):
        store.begin(individual(generation))
    store.interrupt(individual(5), Evaluation(2.0, "interrupted", 3.5, 0.0, "SIGTERM", [4.0, 2.0]))
    store.end(individual(6))
    found = Unfinished(tmp_path, SPACE, 1, 2).load()  # as the next job reads it
    assert [u.individual.generation for u in found] == [4, 5]
    running, interrupted = found
    assert running.status == "running" and running.curve == []
    assert dict(running.individual) == {"x": 4.5, "n": 3, "act": "tanh"}
    assert interrupted.status == "interrupted" and interrupted.reason == "SIGTERM"
    assert interrupted.curve == [4.0, 2.0] and interrupted.duration == 3.5


def test_recorded_ones_are_forgotten(tmp_path):
    store = Unfinished(tmp_path, SPACE, 1, 2)
    store.begin(individual(4))
    store.begin(individual(5))
    again = Unfinished(tmp_path, SPACE, 1, 2)
    again.load()
    again.forget({(2, 4), (3, 5)})
    assert [u.individual.generation for u in Unfinished(tmp_path, SPACE, 1, 2).load()] == [5]


def test_a_line_torn_by_a_kill_is_ignored_and_the_file_stays_short(tmp_path):
    store = Unfinished(tmp_path, SPACE, 1, 2)
    store.begin(individual(4))
    with unfinished_path(tmp_path, 1, 2).open("ab") as stream:
        stream.write(b'{"generation": 5, "stat')
    assert [u.individual.generation for u in Unfinished(tmp_path, SPACE, 1, 2).load()] == [4]
    store = Unfinished(tmp_path, SPACE, 1, 2)
    store.load()
    for generation in range(5, 50):
        store.begin(individual(generation))
        store.end(individual(generation))
    store.end(individual(4))
    assert unfinished_path(tmp_path, 1, 2).stat().st_size == 0  # nothing in flight


@pytest.mark.parametrize(
    "content", ['{not json\n{"generation": 1}\n', '{"generation": 1}\n', "[]\n"]
)
def test_a_damaged_file_is_an_error_naming_it_and_the_fix(tmp_path, content):
    unfinished_path(tmp_path, 1, 2).write_text(content)
    with pytest.raises(CheckpointError, match=r"rank-2\.unfinished\.json.*Delete the file"):
        Unfinished(tmp_path, SPACE, 1, 2).load()


def test_agree_tells_every_rank_every_failure():
    network = LocalNetwork(3)
    results: dict[int, dict[int, str]] = {}

    def rank(r: int) -> None:
        results[r] = agree(network.transport(r), "broken" if r == 1 else None)

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == {r: {1: "broken"} for r in range(3)}
    assert agree(None, None) == {} and agree(None, "x") == {0: "x"}
