"""Generator and reporting loss functions: learning curves, stopping, clean-up, failures."""

from __future__ import annotations

import math

import pytest

from propulate import report_intermediate
from propulate.evaluation import evaluate
from propulate.population import Status

PARAMS = {"x": 1.0}


def stop_at(step_to_stop: int):
    seen = []

    def should_stop(step: int, value: float) -> bool:
        seen.append((step, value))
        return step >= step_to_stop

    should_stop.seen = seen  # type: ignore[attr-defined]
    return should_stop


def test_generator_curve_and_last_value_as_loss():
    def loss(params):
        yield from (3.0, 2.0, 1.5)

    outcome = evaluate(loss, PARAMS)
    assert (outcome.loss, outcome.status, outcome.curve) == (1.5, Status.OK, [3.0, 2.0, 1.5])


def test_generator_is_stopped_and_closed():
    cleaned = []

    def loss(params):
        try:
            yield from (5.0, 4.0, 3.0, 2.0)
        finally:
            cleaned.append(True)

    check = stop_at(2)
    outcome = evaluate(loss, PARAMS, should_stop=check)
    assert outcome.status == Status.PRUNED
    assert outcome.loss == 4.0 and outcome.curve == [5.0, 4.0]
    assert check.seen == [(1, 5.0), (2, 4.0)]
    assert cleaned == [True]  # closed at once, not whenever garbage collection gets to it


def test_generator_receives_the_worker_comm():
    got = []

    def loss(params, comm):
        got.append(comm)
        yield 1.0

    outcome = evaluate(loss, PARAMS, worker_comm="COMM")
    assert got == ["COMM"] and outcome.curve == [1.0]


def test_plain_function_reporting_intermediate_values():
    answers = []

    def loss(params):
        for _epoch, value in enumerate((9.0, 8.0, 7.0, 6.0)):
            answers.append(report_intermediate(value))
            if answers[-1]:
                return -1.0  # ignored: the run was stopped at 8.0
        return 6.0

    outcome = evaluate(loss, PARAMS, should_stop=stop_at(2))
    assert answers == [False, True]
    assert (outcome.loss, outcome.status, outcome.curve) == (8.0, Status.PRUNED, [9.0, 8.0])
    assert report_intermediate(1.0) is False  # outside an evaluation: nothing happens

    complete = evaluate(loss, PARAMS)  # no rule: reports are only recorded
    assert (complete.loss, complete.status, complete.curve) == (6.0, Status.OK, [9, 8, 7, 6])


def test_reports_after_the_stop_are_ignored():
    def loss(params):
        for value in (3.0, 2.0, 1.0):
            report_intermediate(value)  # a framework that does not stop at once
        return 1.0

    outcome = evaluate(loss, PARAMS, should_stop=stop_at(1))
    assert (outcome.loss, outcome.curve, outcome.status) == (3.0, [3.0], Status.PRUNED)


def test_a_diverging_curve_stopped_on_nan_is_failed_not_pruned():
    def loss(params):
        yield 1.0
        yield math.nan

    outcome = evaluate(loss, PARAMS, should_stop=lambda step, value: value != value)
    assert outcome.status == Status.FAILED and outcome.loss == math.inf


def test_a_generator_raising_midway_keeps_its_partial_curve():
    def loss(params):
        yield 2.0
        raise RuntimeError("out of memory")

    outcome = evaluate(loss, PARAMS, should_stop=stop_at(10))
    assert outcome.status == Status.FAILED and outcome.curve == [2.0]
    assert "out of memory" in (outcome.error or "")


def test_an_error_of_the_rule_is_raised_not_blamed_on_the_loss_function():
    cleaned = []

    def loss(params):
        try:
            yield 1.0
            yield 0.5
        finally:
            cleaned.append(True)

    def broken(step, value):
        raise ZeroDivisionError("bug in the surrogate")

    with pytest.raises(ZeroDivisionError, match="bug in the surrogate"):
        evaluate(loss, PARAMS, should_stop=broken)
    assert cleaned == [True]

    def reporting(params):
        report_intermediate(1.0)
        return 1.0

    with pytest.raises(ZeroDivisionError):
        evaluate(reporting, PARAMS, should_stop=broken)
