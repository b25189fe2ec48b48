"""Constraints returned with the result: scoring, storage, feasible-first order everywhere."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from propulate import ConfigurationError
from propulate.evaluation import evaluate, outcome_of
from propulate.feasibility import is_feasible, order_key, violation
from propulate.objectives import ObjectiveMismatch, Objectives
from propulate.pareto import constrained_fronts, constrained_pareto_mask
from propulate.population import Individual, Population, Status, select_best, select_worst
from propulate.propagators import SelectMin, SelectPareto
from propulate.propagators.tpe import TPE
from propulate.records import decode_individual, encode_individual
from propulate.results.summaries import best_records, format_summary, summarize_results
from propulate.search_space import SearchSpace
from propulate.summary import best_distinct

LIMITS = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
SPACE = SearchSpace(LIMITS)


def evaluated(x, loss, constraints=None, losses=None, worker=0, generation=0, status=Status.OK):
    ind = Individual({"x": x, "y": 0.5}, SPACE, generation=generation, rank=worker)
    ind.loss, ind.losses, ind.constraints, ind.status = loss, losses, constraints, status
    ind.island, ind.current, ind.evaltime, ind.evalperiod = 0, worker, 100.0 + generation, 1.0
    return ind


# ----- what a loss function returns -------------------------------------------------------------
def test_a_dict_with_constraints_scores_the_loss_and_keeps_the_values():
    scored = Objectives.parse("P", None).score({"loss": 0.25, "constraints": [1.5, -2]})
    assert float(scored) == 0.25 and scored.losses is None
    assert scored.constraints == (1.5, -2.0)


def test_declared_objectives_take_constraints_beside_them():
    objectives = Objectives.parse("P", {"accuracy": "maximize", "latency": "minimize"})
    scored = objectives.score({"accuracy": 0.9, "latency": 3.0, "constraints": 0.5})
    assert scored.losses == (-0.9, 3.0) and scored.constraints == (0.5,)
    tupled = Objectives.parse("P", None).score({"loss": (1, 2), "constraints": np.array([0.0])})
    assert tupled.losses == (1.0, 2.0) and tupled.constraints == (0.0,)


def test_plain_and_tuple_results_stay_unchanged():
    objectives = Objectives.parse("P", None)
    assert objectives.score(0.5) == 0.5 and not hasattr(objectives.score(0.5), "constraints")
    assert objectives.score((1.0, 2.0)).losses == (1.0, 2.0)


@pytest.mark.parametrize(
    "result, match",
    [
        ({"loss": 1.0, "constraints": "tight"}, "constraints='tight'"),
        ({"loss": 1.0, "constraints": [math.nan]}, "not NaN"),
        ({"loss": 1.0, "constraints": []}, "constraints=\\[\\]"),
        ({"constraints": [1.0]}, "only constraints"),
        ({"loss": 1.0, "other": 2.0, "constraints": [1.0]}, 'no objectives declared, give "loss"'),
    ],
)
def test_bad_constraint_results_are_mismatches(result, match):
    with pytest.raises(ObjectiveMismatch, match=match):
        Objectives.parse("P", None).score(result)


def test_an_objective_may_not_be_called_constraints():
    with pytest.raises(ConfigurationError, match="reserved key"):
        Objectives.parse("Propulator", ["loss", "constraints"])


def test_evaluate_and_tell_carry_the_constraints_and_a_failure_drops_them():
    objectives = Objectives.parse("P", None)
    outcome = evaluate(objectives.wrap(lambda p: {"loss": 1.0, "constraints": [2.0]}), {"x": 1})
    assert outcome.status == Status.OK and outcome.constraints == (2.0,)
    failed = evaluate(objectives.wrap(lambda p: {"loss": 1.0, "constraints": ["?"]}), {"x": 1})
    assert failed.status == Status.FAILED and failed.constraints is None
    told = outcome_of({"x": 1}, objectives.score({"loss": 3.0, "constraints": [-1.0]}))
    assert told.constraints == (-1.0,) and told.loss == 3.0


# ----- the violation and the population's order ------------------------------------------------
def test_violation_sums_the_positive_values():
    assert violation(None) == 0.0 and violation((-1.0, 0.0)) == 0.0
    assert violation((0.5, -3.0, 2.0)) == 2.5
    assert is_feasible({"constraints": [0.0]}) and not is_feasible({"constraints": [1e-9]})
    assert order_key(math.inf, (5.0,)) == (math.inf, math.inf)


def test_the_population_ranks_feasible_first_then_by_violation_failed_last():
    inds = [
        evaluated(0.1, 0.1, constraints=(3.0,), generation=0),  # best loss, most violated
        evaluated(0.2, 0.2, constraints=(1.0, 0.5), generation=1),  # violation 1.5
        evaluated(0.3, 5.0, constraints=(-1.0,), generation=2),  # feasible, worse loss
        evaluated(0.4, 4.0, generation=3),  # no constraints: feasible
        evaluated(0.5, math.inf, status=Status.FAILED, generation=4),
        evaluated(0.6, 0.05, constraints=(1.5,), generation=5),  # violation 1.5, better loss
    ]
    population = Population(owner=0)
    for ind in inds:
        population.add(ind)
    order = [ind.generation for ind in population.active]
    assert order == [3, 2, 5, 1, 0, 4]
    assert [i.generation for i in select_best(population.active, 2)] == [3, 2]
    assert [i.generation for i in select_worst(population.active, 2)] == [4, 0]
    assert [i.generation for i in select_best(inds, 3)] == [3, 2, 5]  # a plain list too
    assert [i.generation for i in SelectMin(2)(population.active)] == [3, 2]


def test_select_pareto_puts_feasible_fronts_before_infeasible_ones():
    inds = [
        evaluated(0.1, 0.0, losses=(0.0, 0.0), constraints=(1.0,), generation=0),  # dominates
        evaluated(0.2, 1.0, losses=(1.0, 2.0), generation=1),
        evaluated(0.3, 2.0, losses=(2.0, 1.0), constraints=(-1.0,), generation=2),
        evaluated(0.4, 3.0, losses=(3.0, 3.0), generation=3),
        evaluated(0.5, 0.5, losses=(0.5, 0.5), constraints=(0.5,), generation=4),
    ]
    chosen = SelectPareto(5)(inds)
    assert {i.generation for i in chosen[:2]} == {1, 2}
    assert [i.generation for i in chosen[2:]] == [3, 4, 0]
    assert {i.generation for i in best_distinct(inds, 2)} == {1, 2}


def test_constrained_fronts_rank_by_deb_domination():
    points = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [0.5, 0.5], [9, 9]])
    violations = np.array([1.0, 0.0, 0.0, 0.0, 0.5, 0.5])
    fronts = constrained_fronts(points, violations)
    assert [sorted(f.tolist()) for f in fronts] == [[1, 2], [3], [4, 5], [0]]
    assert sorted(constrained_fronts(points, violations, limit=4)[-1].tolist()) == [4, 5]
    assert len(constrained_fronts(points, violations, limit=3)) == 2  # the feasible ones do
    assert constrained_pareto_mask(points, violations).tolist() == [0, 1, 1, 0, 0, 0]
    # Nothing feasible: the least violation is the first front.
    assert constrained_pareto_mask(points, [3, 2, 2, 2, 1, 1]).tolist() == [0, 0, 0, 0, 1, 1]
    assert [f.tolist() for f in constrained_fronts(points[:0], violations[:0])] == []


# ----- storage -----------------------------------------------------------------------------
def test_records_keep_the_constraints_and_older_records_read_without_them():
    ind = evaluated(0.3, 1.0, constraints=(0.5, -1.0, math.inf))
    back = decode_individual(encode_individual(ind), SPACE)
    assert back.constraints == (0.5, -1.0, math.inf) and back == ind
    plain = evaluated(0.3, 1.0)
    record = encode_individual(plain)
    assert b"constraints" not in record  # a record without them is as before
    assert decode_individual(record, SPACE).constraints is None


# ----- summaries ---------------------------------------------------------------------------
def _record(loss, constraints=None, generation=0, x=0.0):
    return {
        "island": 0, "rank": 0, "generation": generation, "status": Status.OK, "loss": loss,
        "start": 0.0, "end": 1.0, "duration": 1.0, "active": True, "migration_steps": 0,
        "host": None,
        "params": {"x": x}, "extras": {}, "curve": None, "error": None, "objectives": None,
        "losses": None, "constraints": constraints, "violation": violation(constraints),
    }  # fmt: skip


def test_summaries_show_feasible_first_and_mark_the_infeasible():
    records = [
        _record(0.1, [2.0], 0, 0.1),
        _record(0.5, [-1.0], 1, 0.2),
        _record(0.3, None, 2, 0.3),
        _record(0.2, [0.5], 3, 0.4),
    ]
    assert [r["generation"] for r in best_records(records, 4)] == [2, 1, 3, 0]
    summary = summarize_results(records, top_n=4)
    assert summary.infeasible == 2
    assert summary.islands[0].best_loss == 0.3  # the best feasible loss, not 0.1
    text = format_summary(summary)
    assert "2 successful evaluations violate the constraints" in text
    rows = text.splitlines()[-4:]
    assert "0 (feasible)" in rows[0] and "2 (infeasible)" in rows[3]


# ----- TPE -------------------------------------------------------------------------------
def test_tpe_ranks_infeasible_results_into_the_bad_group():
    tpe = TPE(LIMITS, rng=random.Random(0), n_startup=2)
    for g in range(6):  # the lower x, the better the loss, but x < 0.35 violates
        constraints = (0.35 - g / 10,)
        tpe.tell(evaluated(g / 10, g / 10, constraints=constraints, worker=1, generation=g))
    order = tpe._ranked(tpe._loss[: tpe._n], 2)
    assert order.tolist() == [4, 5, 3, 2, 1, 0]
