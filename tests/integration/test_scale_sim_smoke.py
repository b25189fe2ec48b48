"""The scale simulation: every message counted, identical populations, and the model's maths."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "scale_sim.py"


@pytest.fixture(scope="module")
def scale_sim():
    spec = importlib.util.spec_from_file_location("scale_sim", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("ranks", [3, 12])
def test_every_result_reaches_every_peer_once_and_populations_agree(scale_sim, ranks):
    row = scale_sim.simulate(ranks, generations=3, seed=1)
    assert (
        row["messages"]
        == row["expected_messages"]
        == 3 * ranks * (ranks - 1) + 2 * ranks * (ranks - 1)
    )
    assert row["known"] == 3 * ranks
    assert row["identical"]
    assert row["absorbs"] == 3 * ranks * (ranks - 1)  # every result absorbed by every peer
    assert row["absorb_us"] > 0 and row["tell_us"] > 0


def test_the_model_share(scale_sim):
    # 4,095 peers x 60 us = 0.2457 s of messages per 60 s evaluation.
    assert scale_sim.share(4096, 60.0, 12e-6, 48e-6) == pytest.approx(0.2457 / 60.2457)
    assert scale_sim.share(1, 1.0, 1.0, 1.0) == 0.0
    fixed, per_peer = scale_sim.fit_send(
        [{"ranks": 11, "tell_us": 30.0}, {"ranks": 21, "tell_us": 50.0}]
    )
    assert (fixed, per_peer) == pytest.approx((10.0, 2.0))
