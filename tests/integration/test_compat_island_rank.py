"""Individual.rank is the rank within the island (1.2); Individual.worker the rank in the run."""

from __future__ import annotations

from propulate.records import decode_individual, encode_individual

from .test_islands_local import run_islands


def test_rank_is_the_island_rank_and_keys_stay_unique(tmp_path):
    plan, workers = run_islands(tmp_path, (2, 3), pollination=False, generations=8)
    first = plan.displs
    everyone = {}
    for worker in workers:
        for ind in worker.population:
            assert ind.rank == ind.worker - first[ind.island], ind
            assert ind.key == (ind.worker, ind.generation)
            everyone.setdefault(ind.key, ind)
    assert len(everyone) == 5 * 8  # (worker, generation) never collides across islands
    assert {ind.rank for ind in everyone.values() if ind.island == 1} == {0, 1, 2}
    immigrants = [i for w in workers for i in w.population if i.island != w.island_idx]
    assert immigrants  # migration happened: an island rank is kept by individuals that move
    # Records (checkpoint and messages) keep the island rank.
    ind = next(i for i in everyone.values() if i.island == 1 and i.rank == 2)
    back = decode_individual(encode_individual(ind), ind.search_space)
    assert (back.rank, back.worker, back.key) == (2, 4, ind.key)


def test_the_island_rank_survives_a_resume(tmp_path):
    run_islands(tmp_path, (2, 3), pollination=False, generations=4)
    plan, workers = run_islands(tmp_path, (2, 3), pollination=False, generations=4)
    for worker in workers:
        assert len(worker.population) >= 4
        for ind in worker.population:
            assert ind.rank == ind.worker - plan.displs[ind.island]


def test_setting_rank_sets_worker_as_for_an_individual_made_by_hand():
    from propulate import Individual

    ind = Individual({"x": 0.5}, {"x": (0.0, 1.0)}, generation=3, rank=2)
    assert (ind.rank, ind.worker, ind.key) == (2, 2, (2, 3))
    ind.rank = 5
    assert ind.key == (5, 3)
