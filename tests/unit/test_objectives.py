"""Declaring objectives, and turning what a loss function returns into a vector of objectives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from propulate import ConfigurationError, Objective
from propulate.evaluation import evaluate
from propulate.objectives import ObjectiveMismatch, Objectives
from propulate.population import Status


def test_declarations_read_naturally():
    both = Objectives.parse("P", {"accuracy": "maximize", "latency": "minimize"})
    assert both.declared == (Objective("accuracy", "maximize"), Objective("latency"))
    assert Objectives.parse("P", ["accuracy", Objective("latency", "maximize")]).declared == (
        Objective("accuracy"),
        Objective("latency", "maximize"),
    )
    assert Objectives.parse("P", "accuracy").declared == (Objective("accuracy"),)
    assert not Objectives.parse("P", None).is_declared
    assert Objectives.from_header(both.to_header()) == both
    assert Objectives.from_header(None) == Objectives.parse("P", None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"accuracy": "max"}, r"objectives\['accuracy'\]='max' must be 'minimize' or 'maximize'"),
        (["a", "a"], "each once"),
        ([], "at least one"),
        ([3], "holds 3; each objective must be a name"),
        (3.5, "objectives=3.5 must be a list of names"),
    ],
)
def test_bad_declarations_name_the_value_and_the_fix(value, message):
    with pytest.raises(ConfigurationError, match=message) as error:
        Objectives.parse("Propulator", value)
    assert str(error.value).startswith("Propulator: ") and "e.g. objectives=" in str(error.value)
    with pytest.raises(ConfigurationError, match="direction='up' must be 'minimize'"):
        Objective("accuracy", "up")


def test_scores_are_in_minimization_sign_and_loss_is_the_first():
    declared = Objectives.parse("P", {"accuracy": "maximize", "latency": "minimize"})
    for result in ((0.9, 3.0), [0.9, 3.0], {"latency": 3.0, "accuracy": 0.9}, np.array([0.9, 3])):
        scored = declared.score(result)
        assert scored == -0.9 and scored.losses == (-0.9, 3.0)
    assert declared.user_values((-0.9, 3.0)) == [0.9, 3.0]
    single = Objectives.parse("P", {"accuracy": "maximize"})
    assert single.score(0.97).losses == (-0.97,) and single.score(np.float32(0.5)) == -0.5


def test_undeclared_numbers_pass_unchanged_and_tuples_minimize_every_value():
    plain = Objectives()
    assert plain.score(1.5) == 1.5 and not hasattr(plain.score(1.5), "losses")
    assert plain.score((2.0, -1.0)).losses == (2.0, -1.0)
    assert plain.names(2) == ["objective_0", "objective_1"]
    with pytest.raises(ObjectiveMismatch, match="returned 3 values .* after returning 2"):
        plain.score((1.0, 2.0, 3.0))


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (1.0, r"returned 1 value\(s\) \(1.0\), but 2 objective\(s\) are declared \(acc, lat\)"),
        ((1.0, 2.0, 3.0), r"returned 3 value\(s\)"),
        ({"acc": 1.0}, r"missing \['lat'\]"),
        ({"acc": 1.0, "lat": 2.0, "x": 3.0}, r"unknown \['x'\]"),
        ((1.0, math.nan), "objective 1: loss_fn returned nan, which is not a finite number"),
        ({"acc": "high", "lat": 1.0}, "objective 'acc': loss_fn returned 'high'"),
    ],
)
def test_a_mismatch_fails_the_evaluation_with_a_clear_message(result, message):
    declared = Objectives.parse("P", ["acc", "lat"])
    with pytest.raises(ObjectiveMismatch, match=message):
        declared.score(result)
    outcome = evaluate(declared.wrap(lambda params: result), {"x": 1.0})
    assert outcome.status == Status.FAILED and outcome.loss == math.inf
    assert outcome.losses is None and "ObjectiveMismatch" in (outcome.error or "")


def test_a_dict_needs_a_declaration():
    with pytest.raises(ObjectiveMismatch, match="no objectives are declared: pass e.g."):
        Objectives().score({"a": 1.0})


def test_evaluate_keeps_the_vector_of_plain_and_generator_loss_functions():
    declared = Objectives.parse("P", {"acc": "maximize", "lat": "minimize"})
    outcome = evaluate(declared.wrap(lambda params: (0.8, 2.0)), {})
    assert outcome.status == Status.OK and outcome.loss == -0.8 and outcome.losses == (-0.8, 2.0)

    closed = []

    def epochs(params):
        try:
            for epoch in range(5):
                yield {"acc": 0.1 * epoch, "lat": 1.0}
        finally:
            closed.append(True)

    # Early stopping watches the first objective, in minimization sign.
    seen = []
    outcome = evaluate(
        declared.wrap(epochs), {}, should_stop=lambda step, value: seen.append(value) or step == 3
    )
    assert seen == pytest.approx([0.0, -0.1, -0.2]) and closed == [True]
    assert outcome.status == Status.PRUNED and outcome.losses == pytest.approx((-0.2, 1.0))
    outcome = evaluate(declared.wrap(epochs), {})
    assert outcome.status == Status.OK and outcome.losses == pytest.approx((-0.4, 1.0))
    assert outcome.curve == pytest.approx([0.0, -0.1, -0.2, -0.3, -0.4])
