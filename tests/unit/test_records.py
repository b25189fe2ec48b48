"""The record codec: round trips, including long learning curves."""

from __future__ import annotations

import math

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
