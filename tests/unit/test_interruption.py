"""Interrupting an evaluation, its time limit and its working folder (propulate.evaluation)."""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import pytest

import propulate
from propulate.errors import UsageError
from propulate.evaluation import evaluate, report_intermediate
from propulate.interruption import Circumstances, EvaluationInterrupted
from propulate.signals import StopRequest, stop_on_signals


def epochs(count, seconds=0.0, trained=None):
    def loss(params):
        for epoch in range(count):
            time.sleep(seconds)
            if trained is not None:
                trained.append(epoch)
            yield 10.0 / (epoch + 1)

    return loss


def after(values: int):
    """An interruption check that asks to stop once it has been called ``values`` times."""
    calls = []

    def interrupt():
        calls.append(1)
        return "SIGTERM" if len(calls) >= values else None

    return interrupt


def test_a_generator_is_interrupted_at_its_next_value_with_its_curve():
    trained: list[int] = []
    outcome = evaluate(epochs(10, trained=trained), {}, context=Circumstances(interrupt=after(3)))
    assert outcome.status == "interrupted" and outcome.error == "SIGTERM"
    assert trained == [0, 1, 2] and outcome.curve == [10.0, 5.0, 10.0 / 3]
    assert outcome.loss == 10.0 / 3


def test_a_reporting_loss_is_told_to_stop_and_its_return_value_ignored():
    def loss(params):
        for epoch in range(10):
            if report_intermediate(10.0 - epoch):
                return 123.0
        return 0.0

    outcome = evaluate(loss, {}, context=Circumstances(interrupt=after(2)))
    assert outcome.status == "interrupted" and outcome.curve == [10.0, 9.0]
    assert outcome.loss == 9.0


def test_a_resumed_evaluation_continues_its_curve_and_duration():
    context = Circumstances(curve=(10.0, 5.0), duration=7.0)
    outcome = evaluate(epochs(1), {}, context=context)
    assert outcome.status == "ok" and outcome.curve == [10.0, 5.0, 10.0]
    assert outcome.duration >= 7.0


def test_pruning_and_interruption_each_stop_where_asked():
    outcome = evaluate(
        epochs(10), {}, should_stop=lambda step, value: step == 2,
        context=Circumstances(interrupt=after(1)),
    )  # fmt: skip
    assert outcome.status == "interrupted"  # asked first, at step 1
    outcome = evaluate(
        epochs(10), {}, should_stop=lambda step, value: step == 1,
        context=Circumstances(interrupt=after(1)),
    )  # fmt: skip
    assert outcome.status == "pruned" and outcome.curve == [10.0]


def test_max_eval_seconds_fails_a_yielding_loss_at_its_next_value():
    # Outside the main thread there is no alarm: the intermediate values are the checks.
    trained: list[int] = []
    context = Circumstances(max_seconds=0.25)
    outcomes = []
    thread = threading.Thread(
        target=lambda: outcomes.append(evaluate(epochs(100, 0.1, trained), {}, context=context))
    )
    thread.start()
    thread.join(10)
    (outcome,) = outcomes
    assert outcome.status == "failed" and math.isinf(outcome.loss)
    assert "max_eval_seconds=0.25" in outcome.error
    assert "stopped after" in outcome.error  # at a value, not by an alarm
    assert 3 <= len(trained) <= 4 and len(outcome.curve) == len(trained)


def test_max_eval_seconds_stops_a_loss_that_never_yields():
    def stuck(params):
        start = time.monotonic()
        while time.monotonic() - start < 15:  # bounded: a broken alarm fails, never hangs
            time.sleep(0.01)

    start = time.monotonic()
    outcome = evaluate(stuck, {}, context=Circumstances(max_seconds=0.3))
    assert time.monotonic() - start < 2
    assert outcome.status == "failed" and "EvaluationTimeout" in outcome.error
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the alarm is off again


def test_max_eval_seconds_counts_the_interrupted_part():
    outcome = evaluate(epochs(3), {}, context=Circumstances(max_seconds=5.0, duration=6.0))
    assert outcome.status == "failed"


def test_a_second_signal_leaves_a_loss_that_never_yields():
    def stuck(params):
        os.kill(os.getpid(), signal.SIGTERM)  # the first: the loss goes on
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)  # the second: it is left now
        time.sleep(30)
        return 1.0

    stop = StopRequest()
    with stop_on_signals(stop):
        start = time.monotonic()
        outcome = evaluate(stuck, {})
    assert time.monotonic() - start < 5
    assert stop.reason == "SIGTERM"
    assert outcome.status == "interrupted" and outcome.error == "SIGTERM twice"


def test_the_second_signal_is_not_swallowed_by_except_exception():
    assert not issubclass(EvaluationInterrupted, Exception)


def test_current_dir_is_the_individuals_folder_during_the_evaluation(tmp_path):
    seen = []

    def loss(params):
        folder = propulate.current_dir()
        (folder / "weights").write_text("w")
        seen.append(folder)
        return 1.0

    evaluate(loss, {}, context=Circumstances(workdir=tmp_path / "individuals" / "a"))
    assert seen == [tmp_path / "individuals" / "a"] and (seen[0] / "weights").exists()
    with pytest.raises(UsageError, match="only valid inside a loss function"):
        propulate.current_dir()
