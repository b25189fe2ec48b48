"""Interruption, the time limit and resuming unfinished evaluations, in one process."""

from __future__ import annotations

import random
import time

import propulate
from propulate import Propulator
from propulate.comm.local import LocalNetwork
from propulate.unfinished import Unfinished
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D


def make(loss, checkpoint, generations, **kwargs) -> Propulator:
    transport = LocalNetwork(1).transport(0)
    rng = random.Random(0)
    return Propulator(loss, get_default_propagator(4, LIMITS_3D, rng=rng), rng,
                      generations=generations, checkpoint_path=checkpoint, transport=transport,
                      collectives=transport, rank=0, **kwargs)  # fmt: skip


def test_max_eval_seconds_fails_a_loss_that_never_returns_and_the_run_goes_on(tmp_path):
    def loss(params):
        if propulate.current_dir().name.endswith("generation-1"):
            stuck = time.monotonic()
            while time.monotonic() - stuck < 15:  # stuck, never yields (bounded: a broken
                time.sleep(0.01)  # limit must fail this test, not hang it)
        return 1.0

    propulator = make(loss, tmp_path, 4, max_eval_seconds=0.5)
    start = time.monotonic()
    propulator.propulate(logging_interval=0)
    assert time.monotonic() - start < 10
    statuses = {ind.generation: ind.status for ind in propulator.population}
    assert statuses == {0: "ok", 1: "failed", 2: "ok", 3: "ok"}
    failed = next(ind for ind in propulator.population if ind.generation == 1)
    assert "max_eval_seconds=0.5" in failed.error
    assert Unfinished(tmp_path, propulator.search_space, 0, 0).load() == []  # nothing to resume


def test_time_budget_interrupts_and_ask_resumes_first(tmp_path):
    trained: dict[int, list[int]] = {}

    def loss(params):
        folder = propulate.current_dir()
        done = folder / "epochs"
        start = int(done.read_text()) if done.exists() else 0
        for epoch in range(start, 5):
            time.sleep(0.05)
            trained.setdefault(hash(folder), []).append(epoch)
            done.write_text(str(epoch + 1))
            yield float(epoch)

    first = make(loss, tmp_path, 100, time_budget=0.12)  # ends during the first evaluation
    first.propulate(logging_interval=0)
    left = Unfinished(tmp_path, first.search_space, 0, 0).load()
    assert len(left) == 1 and left[0].status == "interrupted" and left[0].reason == "time budget"
    interrupted = left[0].individual
    assert interrupted.key not in {ind.key for ind in first.population}

    # Ask and tell: the interrupted individual is asked for first, with its parameters.
    second = make(loss, tmp_path, 100)
    with second:
        asked = second.ask()
        assert asked.key == interrupted.key and dict(asked) == dict(interrupted)
        second.tell(asked, 0.5)
        assert second.ask().generation == interrupted.generation + 1
    # Told: no longer unfinished; asked and never told at finish(): dropped, as documented.
    assert Unfinished(tmp_path, first.search_space, 0, 0).load() == []


def test_only_evaluations_long_enough_to_matter_are_journaled(tmp_path, monkeypatch):
    """The journal's writes are skipped for losses faster than JOURNAL_MIN_SECONDS (0.1 s),
    except the first evaluation: they doubled the loop's cost on a microsecond loss."""
    begun = []
    original = Unfinished.begin
    monkeypatch.setattr(Unfinished, "begin", lambda self, ind: (begun.append(ind.generation),
                                                                original(self, ind)))  # fmt: skip
    make(lambda params: 1.0, tmp_path / "fast", 20).propulate(logging_interval=0)
    assert begun == [0]

    def slow(params):
        time.sleep(0.12)
        return 1.0

    begun.clear()
    make(slow, tmp_path / "slow", 4).propulate(logging_interval=0)
    assert begun == [0, 1, 2, 3]
