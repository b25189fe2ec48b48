"""Walltime awareness (propulate.walltime)."""

from __future__ import annotations

import logging
import random
import time

from propulate import Propulator
from propulate.comm.local import LocalNetwork
from propulate.utils import get_default_propagator
from propulate.walltime import Walltime, allocation_end


def test_the_allocation_end_comes_from_slurm(monkeypatch, caplog):
    assert allocation_end({"SLURM_JOB_END_TIME": "1800000000"}) == 1800000000.0
    assert allocation_end({}) is None
    with caplog.at_level(logging.WARNING):
        assert allocation_end({"SLURM_JOB_END_TIME": "soon"}) is None
    assert "SLURM_JOB_END_TIME='soon' is not a Unix time" in caplog.text
    monkeypatch.setenv("SLURM_JOB_END_TIME", "1000")
    assert Walltime.for_run(None, now=0).end == 1000
    assert Walltime.for_run(300, now=0).end == 300  # the budget ends first
    monkeypatch.delenv("SLURM_JOB_END_TIME")
    assert Walltime.for_run(None, now=0).end is None


def test_no_evaluation_starts_that_cannot_finish():
    walltime = Walltime(end=100.0, durations=[5.0, 30.0, 10.0])
    assert walltime.estimate == 30.0  # the longest recent one
    assert walltime.too_late(now=60.0) is None  # 40 s left
    reason = walltime.too_late(now=80.0)
    assert reason == "20.0 s are left before the job ends, and an evaluation takes up to 30.0 s " \
        "(the longest of the last 3)"  # fmt: skip
    assert Walltime(end=100.0).too_late(now=99.0) is None  # nothing known: go on
    assert Walltime(end=None, durations=[5.0]).too_late() is None


def test_a_run_stops_breeding_before_the_allocation_ends(tmp_path, monkeypatch, caplog):
    def loss(params):
        time.sleep(0.3)
        return 1.0

    end = time.time() + 1.5
    monkeypatch.setenv("SLURM_JOB_END_TIME", f"{end:.3f}")
    transport = LocalNetwork(1).transport(0)
    rng = random.Random(0)
    propulator = Propulator(loss, get_default_propagator(4, {"x": (-1.0, 1.0)}, rng=rng), rng,
                            generations=100, checkpoint_path=tmp_path, transport=transport,
                            collectives=transport, rank=0)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="propulate"):
        propulator.propulate(logging_interval=0)
    finished = [ind.evaltime for ind in propulator.population]
    assert 2 <= len(finished) <= 5
    assert max(finished) <= end  # none was still running when the allocation ended
    assert "starts no new evaluation" in caplog.text and "before the job ends" in caplog.text
