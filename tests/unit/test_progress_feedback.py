"""Feedback on long runs: each rank's intermediate values (rate-limited) and the island's ETA."""

from __future__ import annotations

import logging

import pytest

from propulate import Individual
from propulate.epoch_line import EpochLine, check_epoch_seconds
from propulate.errors import PropulateError
from propulate.evaluation import evaluate
from propulate.interruption import Circumstances
from propulate.progress import IslandPace, Progress, ProgressLine
from propulate.reporting import EVERY_RANK, RankFilter

LIMITS = {"x": (0.0, 1.0)}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def lines():
    handler = Lines()
    logger = logging.getLogger("test.feedback")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)


def result(worker: int, generation: int, finished: float, seconds: float, island: int = 0):
    ind = Individual({"x": 0.5}, LIMITS, generation=generation)
    ind.worker, ind.island = worker, island
    ind.evaltime, ind.evalperiod, ind.loss = finished, seconds, 0.5
    return ind


def progress(rank: int = 0, generation: int = 10, own: int = 10, known: int = 10, **kwargs):
    fields = dict(island=0, rank=rank, workers=3, first=True, generation=generation,
                  generations=10, own=own, known=known, best=0.25, elapsed=100.0,
                  time_budget=None)  # fmt: skip
    fields.update(kwargs)
    return Progress(**fields)


# ----- the island's ETA ---------------------------------------------------------------------------
def test_eta_counts_the_evaluations_other_ranks_still_run():
    """Rank 0 is done; ranks 1 and 2 are mid-evaluation: the ETA is theirs, not "0 ms"."""
    clock = Clock(1000.0)
    pace = IslandPace(0, clock)
    for generation in range(10):  # rank 0: ten 10-s evaluations
        pace.learn(result(0, generation, 900.0 + 10 * generation, 10.0))
    pace.learn(result(1, 3, 996.0, 20.0))  # rank 1: 20 s each, generation 4 running for 4 s
    pace.learn(result(2, 7, 990.0, 30.0))  # rank 2: 30 s each, generation 8 running for 10 s
    eta, running = pace.estimate(progress(known=16))
    assert running == 2
    # rank 1: 16 s left of generation 4, then 5 more of 20 s; rank 2: 20 s left, 1 more of 30 s
    assert eta == pytest.approx(max(16 + 5 * 20, 20 + 1 * 30))


def test_eta_of_a_peer_not_heard_from_counts_from_the_start_of_the_run():
    clock = Clock(1000.0)
    pace = IslandPace(0, clock)
    clock.now = 1006.0
    pace.learn(result(0, 0, 1006.0, 6.0))  # this worker: one evaluation of 6 s
    eta, running = pace.estimate(progress(generation=1, own=1, known=1, workers=2, generations=3))
    assert running == 1
    # the peer runs its first evaluation since 1000 (6 s ago, the mean): 0 s left, 2 more of 6 s
    assert eta == pytest.approx(2 * 6.0)
    clock.now = 1002.0  # its evaluation has run 2 s: 4 s left
    assert pace.estimate(progress(generation=1, own=1, known=1, workers=2, generations=3))[
        0
    ] == pytest.approx(4 + 2 * 6.0)


def test_eta_with_a_budget_of_evaluations_shares_the_rest_among_the_workers():
    clock = Clock(1000.0)
    pace = IslandPace(0, clock)
    pace.learn(result(0, 0, 990.0, 10.0))
    pace.learn(result(1, 0, 995.0, 10.0))  # rank 1 runs its second since 5 s: 5 s left
    now = progress(generation=1, own=1, known=2, workers=2, generations=-1, total_evaluations=12)
    eta, running = pace.estimate(now)
    assert running == 1
    # 12 - 2 known - 1 running = 9 to start, 10 s each, on 2 workers, after 0 s and 5 s
    assert eta == pytest.approx((0 + 5 + 9 * 10) / 2)


def test_no_more_evaluations_run_than_the_budget_has_left():
    clock = Clock(1000.0)
    pace = IslandPace(0, clock)
    for worker in range(4):
        pace.learn(result(worker, 0, 995.0, 10.0))  # each runs its second since 5 s
    now = progress(generation=1, own=1, known=10, workers=4, generations=-1, total_evaluations=12)
    assert pace.estimate(now) == (pytest.approx(5.0), 2)  # 2 left: the 2 running ones
    spent = progress(generation=1, own=1, known=13, workers=4, generations=-1, total_evaluations=12)
    assert pace.estimate(spent) == (0.0, 0)


def test_results_of_other_islands_and_unbounded_runs_give_no_eta():
    pace = IslandPace(0, Clock())
    pace.learn(result(5, 0, 990.0, 10.0, island=1))  # an immigrant's record
    assert pace.count == 0 and pace.estimate(progress())[0] is None
    pace.learn(result(0, 0, 990.0, 10.0))
    assert pace.estimate(progress(generations=-1))[0] is None


def test_the_progress_line_shows_running_evaluations_and_the_island_eta(lines):
    logger, handler = lines
    clock = Clock(1000.0)
    line = ProgressLine(logger, 0, value_format=lambda v: f"accuracy {100 * (1 - v):.1f} %",
                        clock=clock)  # fmt: skip
    for generation in range(10):
        line.learn(result(0, generation, 900.0 + 10 * generation, 10.0))
    line.learn(result(1, 3, 996.0, 20.0))
    line.report(progress(workers=2, known=14))
    (message,) = handler.messages
    assert message == (
        "Island 0: 14/20 evaluations (70%), 1 running, best accuracy 75.0 %, 0.2 evaluations/s, "
        "ETA 1 min 56 s"  # 16 s left of generation 4, then 5 more of 20 s
    )


# ----- each rank's intermediate values ----------------------------------------------------------
def test_epoch_lines_are_rate_limited_per_rank(lines):
    logger, handler = lines
    clock = Clock(0.0)
    epochs = EpochLine(3, 30.0, logger, clock=clock)
    shown = []
    for t, step in [(0, 1), (1, 2), (29.9, 3), (30, 4), (31, 5), (59, 6), (61, 7)]:
        clock.now = t
        shown.append(epochs.show(12, step, 0.93, t))
    assert shown == [True, False, False, True, False, False, True]
    assert handler.messages == [
        "rank 3 · ind 12 · epoch 1 · loss 0.93 · 0 ms",
        "rank 3 · ind 12 · epoch 4 · loss 0.93 · 30.0 s",
        "rank 3 · ind 12 · epoch 7 · loss 0.93 · 1 min 01 s",
    ]
    assert all(getattr(r, EVERY_RANK) and r.levelno == logging.INFO for r in handler.records)


def test_epoch_lines_show_every_value_with_zero_and_none_with_none(lines):
    logger, handler = lines
    every = EpochLine(1, 0.0, logger, value_format=lambda v: f"val {v:.2f}", clock=Clock())
    assert all(every.show(2, step, 0.5, 1.0) for step in range(1, 4))
    assert handler.messages[-1] == "rank 1 · ind 2 · epoch 3 · val 0.50 · 1.0 s"
    silent = EpochLine(1, None, logger, clock=Clock())
    assert silent.hook(Individual({"x": 0.1}, LIMITS)) is None
    assert not silent.show(2, 1, 0.5, 1.0) and len(handler.messages) == 3


def test_an_evaluation_shows_its_intermediate_values(lines):
    logger, handler = lines
    epochs = EpochLine(2, 0.0, logger, clock=Clock())
    child = Individual({"x": 0.1}, LIMITS, generation=5)

    def train(params):
        for epoch in range(3):
            yield 1.0 / (epoch + 1)

    outcome = evaluate(train, child, context=Circumstances(on_value=epochs.hook(child)))
    assert outcome.curve == [1.0, 0.5, 1 / 3]
    assert [m.split(" · ")[:4] for m in handler.messages] == [
        ["rank 2", "ind 5", f"epoch {step}", f"loss {1 / step:.6g}"] for step in (1, 2, 3)
    ]


def test_epoch_lines_pass_the_rank_filter_on_every_rank():
    def record(**extra):
        entry = logging.LogRecord("propulate", logging.INFO, __file__, 1, "m", None, None)
        entry.__dict__.update(extra)
        return entry

    other_rank = RankFilter(rank=3, only_rank_zero=True)
    assert other_rank.filter(record(**{EVERY_RANK: True}))
    assert not other_rank.filter(record())  # other INFO lines stay on rank 0


@pytest.mark.parametrize("bad", [-1, "often", float("nan")])
def test_a_bad_epoch_seconds_is_refused_with_the_fix(bad):
    with pytest.raises(PropulateError, match="epoch_seconds"):
        check_epoch_seconds("Propulator", bad)
    assert check_epoch_seconds("Propulator", None) is None
    assert check_epoch_seconds("Propulator", 5) == 5.0
