"""Seeds and warm starts in the real loop, over in-memory ranks (see propulate.testing.local)."""

from __future__ import annotations

import io
import logging
import random

import pytest

from propulate import Islands, Propulator
from propulate.checkpoint import log_files, read_log
from propulate.cli import write_csv
from propulate.errors import CheckpointError, ConfigurationError
from propulate.results import load_results
from propulate.results.summaries import format_summary, summarize_results
from propulate.testing.local import LocalIsland
from propulate.utils import get_default_propagator
from propulate.warm_start import IMPORTED_KEY

LIMITS = {"x": (-5.0, 5.0), "y": (-5.0, 5.0), "n": (1, 8), "act": ("relu", "tanh")}
OPTIMUM = {"x": 1.0, "y": -2.0, "n": 3, "act": "tanh"}


def loss(params):
    return (
        (params["x"] - 1) ** 2
        + (params["y"] + 2) ** 2
        + abs(params["n"] - 3)
        + (params["act"] != "tanh")
    )


def some_seeds(count, seed=0):
    rng = random.Random(seed)
    return [
        {"x": round(rng.uniform(-5, 5), 3), "y": round(rng.uniform(-5, 5), 3),
         "n": rng.randint(1, 8), "act": rng.choice(["relu", "tanh"])}
        for _ in range(count)
    ]  # fmt: skip


def island(ranks, path, generations, seed=0, **kwargs):
    propagators = [
        get_default_propagator(4, LIMITS, rng=random.Random(100 * seed + r)) for r in range(ranks)
    ]
    return LocalIsland(loss, propagators, path, generations=generations, seed=seed, **kwargs)


def logged(path):
    """Every record of the checkpoint folder, as (rank, generation, values, extras)."""
    found = []
    for file in log_files(path):
        for ind in read_log(file)[1]:
            found.append((ind.worker, ind.generation, ind.values_dict(), dict(ind.extras)))
    return found


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_a_seeded_optimum_is_the_first_evaluation(tmp_path, ranks):
    evaluated = []

    def counting(params):
        evaluated.append(params.values_dict())
        return loss(params)

    seeds = [OPTIMUM, *some_seeds(3)]
    propagators = [get_default_propagator(4, LIMITS, rng=random.Random(r)) for r in range(ranks)]
    with LocalIsland(counting, propagators, tmp_path, generations=4, seeds=seeds) as local:
        local.run()
        best = local.propulators[0].best(1)[0]
    assert evaluated[0] == OPTIMUM  # evaluation 1
    assert best.values_dict() == OPTIMUM and best.loss == 0.0
    assert (best.worker, best.generation) == (0, 0)


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_seeds_are_spread_over_the_ranks_each_once_before_any_bred_child(tmp_path, ranks):
    seeds = some_seeds(7)
    with island(ranks, tmp_path, 9, seeds=seeds) as local:
        local.run()
    records = logged(tmp_path)
    for i, config in enumerate(seeds):
        holders = [(w, g) for w, g, values, _ in records if values == config]
        assert holders == [(i % ranks, i // ranks)], (i, holders)  # once, where assigned
    for worker in range(ranks):
        share = len(seeds[worker::ranks])
        own = sorted((g, v) for w, g, v, _ in records if w == worker)
        assert [v for _, v in own[:share]] == seeds[worker::ranks]  # its seeds come first


def test_each_seed_is_evaluated_once_across_kills_and_resumes(tmp_path):
    seeds = some_seeds(9, seed=3)
    ranks = 2
    for kill_after in (3, 4, 5):
        with island(ranks, tmp_path, 8, seed=kill_after, seeds=seeds) as local:
            for _ in range(kill_after):  # a few steps, then gone without the shutdown
                for rank in range(ranks):
                    local.step(rank)
            for propulator in local.propulators:
                propulator._abort()
    with island(ranks, tmp_path, 8, seed=9, seeds=seeds) as local:
        local.run()
    records = logged(tmp_path)
    for config in seeds:
        assert sum(values == config for _, _, values, _ in records) == 1
    assert len(records) == len({(w, g) for w, g, _, _ in records}) == 2 * 8


def test_a_resume_with_other_seeds_is_refused(tmp_path):
    with island(2, tmp_path, 3, seeds=some_seeds(3)) as local:
        local.run()
    with island(2, tmp_path, 6, seeds=some_seeds(4)) as local, pytest.raises(CheckpointError):
        local.run()


def test_a_bad_seed_fails_in_the_constructor(tmp_path):
    with pytest.raises(ConfigurationError, match=r"seeds\[1\]\['n'\]=0"):
        island(2, tmp_path, 3, seeds=[OPTIMUM, {**OPTIMUM, "n": 0}])
    assert not list(tmp_path.iterdir())  # nothing written


def earlier_run(path, generations=12, ranks=2):
    with island(ranks, path, generations, seed=7) as local:
        local.run()
    return load_results(path)


@pytest.mark.parametrize("kind", ["checkpoint", "csv"])
def test_imported_results_join_the_population_without_being_evaluated(tmp_path, kind):
    old = earlier_run(tmp_path / "old")
    source = tmp_path / "old"
    if kind == "csv":
        stream = io.StringIO()
        write_csv(old, stream)
        source = tmp_path / "old.csv"
        source.write_text(stream.getvalue())
    evaluated = []

    def counting(params):
        evaluated.append(params.values_dict())
        return loss(params)

    told = []

    class Listening:  # a stage that learns: told of every result, imported ones too
        def __init__(self, propagator):
            self.propagator = propagator

        def __call__(self, inds):
            return self.propagator(inds)

        def tell(self, ind):
            told.append(ind.key)

    ranks, generations = 2, 3
    propagators = [
        Listening(get_default_propagator(4, LIMITS, rng=random.Random(r))) for r in range(ranks)
    ]
    for propagator in propagators:
        propagator.limits = LIMITS
    with LocalIsland(counting, propagators, tmp_path / "new", generations=generations,
                     warm_start=source) as local:  # fmt: skip
        local.run()
        population = local.propulators[1].population
    assert len(evaluated) == ranks * generations  # nothing imported was evaluated again
    imported = [ind for ind in population if IMPORTED_KEY in ind.extras]
    assert sorted(ind.values_dict().items() for ind in imported) == sorted(
        r["params"].items() for r in old
    )
    assert all(ind.extras[IMPORTED_KEY] == source.name for ind in imported)
    assert all(ind.generation < 0 for ind in imported)
    assert {ind.key for ind in imported} <= set(told)  # the propagator learned of them
    new = load_results(tmp_path / "new")
    assert sum(IMPORTED_KEY in r["extras"] for r in new) == len(old)  # recorded once
    summary = summarize_results(new, top_n=len(new))
    assert (summary.imported, summary.evaluations) == (len(old), ranks * generations)
    assert len(summary.best) > summary.evaluations  # the imported ones rank among the best
    assert "imported" in format_summary(summary)
    # A resume finds them in the checkpoint and imports nothing again.
    with island(ranks, tmp_path / "new", 2 * generations, warm_start=source) as local:
        local.run()
    again = load_results(tmp_path / "new")
    assert sum(IMPORTED_KEY in r["extras"] for r in again) == len(old)
    records = logged(tmp_path / "new")  # the logs themselves: no record written twice
    assert sum(IMPORTED_KEY in extras for _, _, _, extras in records) == len(old)
    assert len(again) == len(old) + 2 * ranks * generations


def test_the_imported_best_is_the_best_until_beaten(tmp_path):
    old = earlier_run(tmp_path / "old")
    with island(2, tmp_path / "new", 1, warm_start=tmp_path / "old") as local:
        local.run()
        best = local.propulators[0].best(1)[0]
    old_best = min(r["loss"] for r in old)
    assert best.loss <= old_best


def test_a_source_of_another_space_is_refused_before_anything_is_evaluated(tmp_path):
    propagators = [get_default_propagator(4, {"a": (0.0, 1.0)}, rng=random.Random(0))]
    with LocalIsland(lambda p: p["a"], propagators, tmp_path / "old", generations=2) as local:
        local.run()
    with island(1, tmp_path / "new", 2, warm_start=tmp_path / "old") as local:
        with pytest.raises(ConfigurationError, match=r"missing .*unknown \['a'\]"):
            local.run()


def test_islands_check_seeds_before_splitting_communicators():
    with pytest.raises(ConfigurationError, match=r"Islands: seeds\[0\]\['x'\]=9"):
        Islands(loss, get_default_propagator(4, LIMITS), world=object(), generations=2,
                seeds=[{**OPTIMUM, "x": 9.0}])  # fmt: skip
    assert Propulator  # the same keyword on the Propulator is covered above


def test_seeds_added_on_a_resume_are_evaluated_once_after_what_was_bred(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="propulate.seeding")
    seeds = [OPTIMUM, *some_seeds(3, seed=5)]
    with island(2, tmp_path, 3) as local:  # a run without seeds breeds generations 0-2
        local.run()
    for kill_after in (1, 2):  # resumes with seeds, killed with seeds in flight or recorded
        with island(2, tmp_path, 9, seed=kill_after, seeds=seeds) as local:
            for _ in range(kill_after):
                for rank in range(2):
                    local.step(rank)
            for propulator in local.propulators:
                propulator._abort()
    for seed in (7, 8):  # to the end, then once more: nothing left to evaluate
        with island(2, tmp_path, 9 + seed - 7, seed=seed, seeds=seeds) as local:
            local.run()
    records = logged(tmp_path)
    for config in seeds:
        assert sum(values == config for _, _, values, _ in records) == 1
    for worker in range(2):  # each worker's share right after its three bred generations
        own = [v for _, v in sorted((g, v) for w, g, v, _ in records if w == worker)]
        assert own[3:5] == seeds[worker::2]
    assert len(records) == len({(w, g) for w, g, _, _ in records}) == 2 * 10
    assert "evaluated first, from generation 3 on" in caplog.text


def test_conditional_seeds_and_a_warm_start_from_a_conditional_run(tmp_path):
    import propulate

    limits = {"opt": ("sgd", "adam"), "lr": (1e-4, 1e-1),
              "momentum": propulate.Float(0.0, 0.99, when={"opt": "sgd"})}  # fmt: skip

    def lossy(params):
        return params["lr"] + params.get("momentum", 0.0)

    def make(path, **kwargs):
        propagators = [get_default_propagator(4, limits, rng=random.Random(r)) for r in range(2)]
        return LocalIsland(lossy, propagators, path, generations=3, **kwargs)

    with pytest.raises(ConfigurationError, match=r"inactive for these values \['momentum'\]"):
        make(tmp_path / "x", seeds=[{"opt": "adam", "lr": 1e-3, "momentum": 0.5}])
    seeds = [{"opt": "adam", "lr": 1e-3}, {"opt": "sgd", "lr": 1e-2, "momentum": 0.9}]
    with make(tmp_path / "old", seeds=seeds) as local:
        local.run()
    assert [r[2] for r in sorted(logged(tmp_path / "old"))[:1]] == [seeds[0]]
    stream = io.StringIO()
    write_csv(load_results(tmp_path / "old"), stream)
    (tmp_path / "old.csv").write_text(stream.getvalue())
    for source in (tmp_path / "old", tmp_path / "old.csv"):
        with make(tmp_path / f"new-{source.name}", warm_start=source) as local:
            local.run()
            imported = [i for i in local.propulators[0].population if IMPORTED_KEY in i.extras]
        assert sorted(map(str, (i.values_dict() for i in imported))) == sorted(
            str(r["params"]) for r in load_results(tmp_path / "old")
        )
