"""Seeds (known configurations) and warm-start imports, without a run: checks and conversions."""

from __future__ import annotations

import io
import math
import random

import pytest

from propulate.cli import write_csv
from propulate.errors import ConfigurationError
from propulate.objectives import Objectives
from propulate.results.loading import _record
from propulate.search_space import SearchSpace
from propulate.seeding import Seeds, check_configuration, worker_order
from propulate.warm_start import IMPORTED_KEY, WarmStart, convert, read_results

LIMITS = {"lr": (1e-4, 1e-1, "log"), "layers": (1, 8), "act": ("relu", "tanh"), "bs": (16, 32, 64)}


@pytest.fixture
def space():
    return SearchSpace(LIMITS)


def good(space):
    return {"lr": 1e-3, "layers": 2, "act": "tanh", "bs": 32}


def test_a_good_configuration_is_returned_in_the_space_types(space):
    config = good(space)
    config["lr"] = 1e-3
    config["layers"] = 2.0  # a whole number given as a float is that int
    values = check_configuration("Propulator", "seeds[0]", config, space)
    assert values["layers"] == 2 and isinstance(values["layers"], int)
    assert values["lr"] == 1e-3 and values["act"] == "tanh"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("lr", 0.5, ["seeds[1]['lr']=0.5", "'lr'", "0.0001", "e.g. seeds[1]['lr']="]),
        ("layers", 2.5, ["seeds[1]['layers']=2.5", "int", "from 1 to 8", "e.g."]),
        ("layers", 9, ["seeds[1]['layers']=9", "from 1 to 8", "widen the limits"]),
        ("act", "gelu", ["seeds[1]['act']='gelu'", "choices ['relu', 'tanh']", "e.g."]),
        ("lr", "fast", ["seeds[1]['lr']='fast'", "'lr'"]),
        ("bs", 48, ["seeds[1]['bs']=48", "with values [16, 32, 64]"]),
    ],
)
def test_a_bad_value_names_configuration_parameter_value_and_fix(space, name, value, words):
    seeds = [good(space), {**good(space), name: value}]
    with pytest.raises(ConfigurationError) as caught:
        Seeds.checked("Propulator", seeds, space)
    message = str(caught.value)
    assert message.startswith("Propulator: ")
    for word in words:
        assert word in message, (word, message)
    assert "in seeds[1]={" in message  # the whole configuration


def test_missing_or_unknown_names_are_named(space):
    config = {k: v for k, v in good(space).items() if k != "layers"}
    config["depth"] = 3
    expected = r"seeds\[0\].*missing \['layers'\], unknown \['depth'\]"
    with pytest.raises(ConfigurationError, match=expected):
        Seeds.checked("Islands", [config], space)


@pytest.mark.parametrize("seeds", [{"lr": 1e-3}, "lr=1e-3", 5, [5]])
def test_seeds_must_be_a_list_of_dicts(space, seeds):
    with pytest.raises(ConfigurationError, match="seeds"):
        Seeds.checked("Propulator", seeds, space)


def test_a_repeated_seed_is_refused(space):
    with pytest.raises(ConfigurationError, match=r"seeds\[1\] repeats seeds\[0\]"):
        Seeds.checked("Propulator", [good(space), dict(good(space))], space)


def test_worker_order_takes_one_worker_of_each_island_in_turn():
    assert worker_order([4]) == [0, 1, 2, 3]
    assert worker_order([3, 1]) == [0, 3, 1, 2]
    assert worker_order([2, 2, 2]) == [0, 2, 4, 1, 3, 5]


@pytest.mark.parametrize("sizes", [(1,), (2,), (4,), (3, 1), (2, 2, 3)])
def test_every_seed_goes_to_exactly_one_worker_and_seed_0_is_first(space, sizes):
    rng = random.Random(0)
    configs = []
    while len(configs) < 11:
        values = space.sample(rng)
        if values not in configs:
            configs.append(values)
    seeds = Seeds.checked("Propulator", configs, space)
    seen = []
    for worker in range(sum(sizes)):
        share = seeds.assign(worker, sizes)
        for generation in range(share + 2):
            child = seeds.source("propagator", generation, space)
            if generation >= share:
                assert child == "propagator"  # past its share: the propagator breeds
            else:
                seen.append((worker, generation, child([]).values_dict()))
    assert sorted(configs.index(v) for _, _, v in seen) == list(range(len(configs)))
    assert (0, 0, configs[0]) in seen  # the first seed: the first evaluation of worker 0
    shares = [sum(1 for w, _, _ in seen if w == worker) for worker in range(sum(sizes))]
    assert max(shares) - min(shares) <= 1  # spread evenly over the workers


# ----- warm start: conversion of earlier results -------------------------------------------------
def records_of(space, count=6):
    rng = random.Random(1)
    records = []
    for i in range(count):
        params = space.sample(rng)
        records.append(
            {
                "island": 0, "rank": i % 2, "generation": i // 2, "status": "ok",
                "loss": float(i), "start": 10.0 + i, "end": 11.0 + i, "duration": 1.0,
                "active": True, "migration_steps": 0, "params": params, "extras": {},
                "curve": None, "error": None,
            }
        )  # fmt: skip
    records[-1]["status"], records[-1]["loss"] = "failed", math.inf
    return records


def test_csv_export_round_trips_through_the_import(space, tmp_path):
    records = records_of(space)
    stream = io.StringIO()
    write_csv(records, stream)
    path = tmp_path / "old.csv"
    path.write_text(stream.getvalue())
    individuals, skipped = convert(read_results(path), space, "old.csv")
    assert skipped == []
    assert [ind.values_dict() for ind in individuals] == [r["params"] for r in records]
    assert [ind.loss for ind in individuals] == [r["loss"] for r in records]
    assert [ind.status for ind in individuals][-1] == "failed"
    assert all(ind.extras == {IMPORTED_KEY: "old.csv"} for ind in individuals)
    # The imported individuals, exported again, show where they came from.
    again = [_record(ind, Objectives()) for ind in individuals]
    assert all(r["extras"][IMPORTED_KEY] == "old.csv" for r in again)


def test_rows_outside_the_new_limits_are_skipped_and_reported(space):
    records = records_of(space)
    records[2]["params"] = {**records[2]["params"], "layers": 12}
    records[4]["status"] = "interrupted"
    individuals, skipped = convert(records, space, "old")
    assert len(individuals) == len(records) - 2
    assert skipped[0].startswith("row 2: layers=12 outside the new limits")
    assert skipped[1] == "row 4: status 'interrupted'"


def test_other_names_are_refused_with_the_difference(space):
    records = records_of(space)
    for record in records:
        record["params"] = {**record["params"], "momentum": 0.9}
    with pytest.raises(ConfigurationError, match=r"unknown \['momentum'\]"):
        convert(records, space, "old")


def test_a_missing_source_or_a_bad_argument_says_what_to_give(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        read_results(tmp_path / "nothing")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigurationError, match="propulate export"):
        read_results(bad)
    with pytest.raises(ConfigurationError, match=r"warm_start=5 must be a path"):
        WarmStart("Propulator", 5)
    with pytest.raises(ConfigurationError, match=r"warm_start\[1\]=3"):
        WarmStart("Propulator", ["a", 3])
