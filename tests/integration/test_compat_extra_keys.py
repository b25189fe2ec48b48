"""1.2's ``_``-prefixed keys: beside the hyperparameters, in the checkpoint and the results."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pytest

from propulate import Individual
from propulate.cli import write_csv
from propulate.records import decode_individual, encode_individual
from propulate.results import load_dataframe, load_results
from propulate.search_space import SearchSpace

from .local_run import run_local

LIMITS = {"x": (0.0, 1.0), "n": (1, 4), "c": ("a", "b")}


def make() -> Individual:
    return Individual({"x": 0.5, "n": 2, "c": "b"}, LIMITS)


def test_extra_keys_sit_beside_the_hyperparameters() -> None:
    ind = make()
    position, key = ind.position.copy(), ind.values_key()
    ind["_s"] = [1, 0.2, 3]
    assert ind["_s"] == [1, 0.2, 3]
    assert np.array_equal(ind.position, position)
    assert ind.values_key() == key
    assert len(ind) == 3 and list(ind) == ["x", "n", "c"]  # 1.2: len and iter: parameters
    assert "_s" in ind and "_s" in ind.keys() and "_s" in ind.mapping
    assert dict(ind.items())["_s"] == [1, 0.2, 3]
    del ind["_s"]
    assert "_s" not in ind and "_s" not in ind.keys() and "_s" not in ind.mapping
    with pytest.raises(KeyError, match="only extra keys"):
        del ind["x"]


def test_extra_keys_in_the_constructor_and_not_inherited() -> None:
    ind = Individual({"x": 0.5, "n": 2, "c": "b", "_tag": "seed"}, LIMITS)
    assert ind["_tag"] == "seed" and ind.values_dict() == {"x": 0.5, "n": 2, "c": "b"}
    assert "_tag" not in ind.copy()
    with pytest.raises(KeyError, match="unknown"):
        Individual({"x": 0.5, "n": 2, "c": "b", "tag": 1}, LIMITS)


def test_extra_keys_round_trip_through_a_record() -> None:
    ind = make()
    ind.loss, ind.status = 1.5, "ok"
    ind["_s"] = {"a": [1, 2]}
    ind["_n"] = np.float64(2.5)
    back = decode_individual(encode_individual(ind), SearchSpace(LIMITS))
    assert back.extras == {"_s": {"a": [1, 2]}, "_n": 2.5}
    assert back.values_dict() == ind.values_dict()


@pytest.mark.parametrize("payload", [b'{"keys":{"s":1}}', b'{"keys":[1]}'])
def test_a_record_cannot_set_other_keys(payload: bytes) -> None:
    data = encode_individual(make())
    head = data[: len(data) - 4]
    forged = head + len(payload).to_bytes(4, "little") + payload
    with pytest.raises(ValueError, match="'_' keys"):
        decode_individual(forged, SearchSpace(LIMITS))


def tagging_loss(params: Any) -> float:
    params["_epochs"] = params["n"] * 10
    params["_curve"] = [params["x"], 1.0]
    return float(params["x"])


def test_extra_keys_are_logged_resumed_and_exported(tmp_path: Any) -> None:
    ranks = run_local(2, tmp_path, tagging_loss, generations=5, limits=LIMITS)
    for ind in ranks[0].population:
        assert ind["_epochs"] == ind["n"] * 10  # also those evaluated by the other rank
    resumed = run_local(2, tmp_path, tagging_loss, generations=5, limits=LIMITS)
    assert len(resumed[0].population) == 10
    assert all(ind["_curve"] == [ind["x"], 1.0] for ind in resumed[0].population)
    records = load_results(tmp_path)
    assert len(records) == 10
    assert all(r["extras"]["_epochs"] == r["params"]["n"] * 10 for r in records)
    stream = io.StringIO()
    write_csv(records, stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert all(int(row["_epochs"]) == int(row["params_n"]) * 10 for row in rows)
    assert all(row["_curve"].startswith("[") for row in rows)
    frame = load_dataframe(records)
    assert list(frame["_epochs"]) == [r["extras"]["_epochs"] for r in records]
