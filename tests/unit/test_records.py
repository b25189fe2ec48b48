"""The record codec: round trips, including long learning curves."""

from __future__ import annotations

import json
import math
import struct

import pytest

from propulate import Individual
from propulate.records import decode_individual, encode_individual

LIMITS = {"x": (0.0, 1.0), "n": (1, 5), "act": ("relu", "tanh")}


def test_round_trip_keeps_every_attribute_and_a_long_curve():
    ind = Individual({"x": 0.25, "n": 3, "act": "tanh"}, LIMITS, generation=7, rank=2)
    ind.loss, ind.status, ind.island, ind.current = 0.5, "ok", 1, 2
    ind.evaltime, ind.evalperiod, ind.migration_steps = 1.7e9, 3.5, 4
    ind.curve = [1.0 / (step + 1) for step in range(20_000)]  # one value per batch: > 64 KiB
    back = decode_individual(encode_individual(ind), ind.search_space)
    assert back == ind
    assert back.curve == ind.curve


def test_an_unevaluated_individual_comes_back_unevaluated():
    ind = Individual({"x": 0.5, "n": 1, "act": "relu"}, LIMITS)  # e.g. an evaluation started
    back = decode_individual(encode_individual(ind), ind.search_space)
    assert back.status == "pending" and back.loss is None
    ind.status, ind.loss = "failed", math.inf
    assert math.isinf(decode_individual(encode_individual(ind), ind.search_space).loss)


def _with_extras(ind: Individual, extras: bytes) -> bytes:
    """``ind``'s record with its JSON extras replaced by ``extras`` (a crafted record)."""
    record = encode_individual(ind)
    base = len(record) - 4  # no extras: the record ends with their length, 0
    assert record[base:] == b"\x00\x00\x00\x00"
    return record[:base] + struct.pack("<I", len(extras)) + extras


def test_extras_set_only_the_known_fields():
    ind = Individual({"x": 0.25, "n": 3, "act": "tanh"}, LIMITS, generation=7, rank=2)
    ind.loss, ind.status = 0.5, "ok"
    crafted = {
        "curve": [3, 2.5],
        "error": "boom",
        "rank": 99,  # a field of the record's fixed part: not to be overridden
        "loss": -1e9,
        "search_space": None,
        "__class__": "object",
        "stolen": "anything",  # unknown names (of a later version) are ignored
    }
    back = decode_individual(_with_extras(ind, json.dumps(crafted).encode()), ind.search_space)
    assert back.curve == [3.0, 2.5] and back.error == "boom"
    assert back.rank == 2 and back.loss == 0.5 and back.search_space is ind.search_space
    assert type(back) is Individual and not hasattr(back, "stolen")


@pytest.mark.parametrize(
    "extras",
    [b"[1, 2]", b'{"curve": "long"}', b'{"error": 3}', b'{"velocity": [1, "x"]}', b"{bad"],
)
def test_extras_of_the_wrong_shape_make_the_record_invalid(extras):
    ind = Individual({"x": 0.25, "n": 3, "act": "tanh"}, LIMITS, generation=1, rank=0)
    with pytest.raises(ValueError):
        decode_individual(_with_extras(ind, extras), ind.search_space)
