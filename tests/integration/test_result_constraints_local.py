"""Constraints returned with the result, objectives on resume, Optuna export, one-objective
strategies: through the real loop (ranks in threads over the in-memory transport)."""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
from pathlib import Path

import pytest

from propulate import CheckpointError
from propulate.cli import main as cli
from propulate.population import Status, select_best
from propulate.propagators import BasicPSO, Conditional, InitUniformPSO
from propulate.results import format_summary, load_results, read_checkpoint, summarize_results
from propulate.summary import best_distinct

from .local_run import run_local

LIMITS = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
DECLARED = {"accuracy": "maximize", "latency": "minimize"}
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "constrained.py"


def constrained(params):
    """The loss falls with x, but x > 0.6 violates the constraint (by x - 0.6)."""
    return {"loss": 1.0 - params["x"] + 0.1 * params["y"], "constraints": [params["x"] - 0.6]}


def two_constrained(params):
    """Accuracy grows with x, latency too; x > 0.7 violates the memory constraint."""
    accuracy, latency = params["x"], params["x"] ** 2 + params["y"]
    return {"accuracy": accuracy, "latency": latency, "constraints": [params["x"] - 0.7, -1.0]}


def test_constraints_are_stored_resumed_and_ranked_feasible_first(tmp_path):
    ranks = run_local(2, tmp_path, constrained, generations=15, limits=LIMITS)
    population = ranks[0].population
    assert all(i.constraints == (pytest.approx(i["x"] - 0.6),) for i in population)
    infeasible = [i for i in population if i["x"] > 0.6]
    assert infeasible  # the search went there: the loss pulls towards x = 1
    # The breeding order: every feasible individual first, then by violation.
    active = [i for i in population if i.active]
    ranked = select_best(active, len(active))
    feasible = [i for i in ranked if i["x"] <= 0.6]
    assert ranked[: len(feasible)] == feasible
    assert [i.loss for i in feasible] == sorted(i.loss for i in feasible)
    assert [i["x"] for i in ranked[len(feasible) :]] == sorted(
        i["x"] for i in infeasible if i.active
    )
    assert best_distinct(active, 1)[0].key == ranked[0].key
    records = load_results(tmp_path)
    assert all(r["constraints"] == [pytest.approx(r["params"]["x"] - 0.6)] for r in records)
    assert all(r["violation"] == pytest.approx(max(0.0, r["params"]["x"] - 0.6)) for r in records)
    summary = summarize_results(records, top_n=3)
    assert summary.infeasible == sum(1 for r in records if r["params"]["x"] > 0.6)
    assert all(r["violation"] == 0 for r in summary.best)
    feasible = [r for r in records if r["violation"] == 0]
    assert summary.best[0]["loss"] == min(r["loss"] for r in feasible)
    assert "violate the constraints" in format_summary(summary)
    # A resume reads them back and goes on.
    again = run_local(2, tmp_path, constrained, generations=18, limits=LIMITS)
    assert all(i.constraints is not None for i in again[0].population)
    assert len(again[0].population) == 36


def test_export_has_the_violation_and_one_column_per_constraint(tmp_path):
    run_local(1, tmp_path, two_constrained, generations=10, limits=LIMITS, objectives=DECLARED)
    target = tmp_path / "out.csv"
    assert cli(["export", str(tmp_path), "--csv", str(target)]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert list(rows[0])[4:9] == ["loss", "accuracy", "latency", "violation", "constraint_0"]
    for row in rows:
        x = float(row["params_x"])
        assert float(row["constraint_0"]) == pytest.approx(x - 0.7)
        assert float(row["constraint_1"]) == -1.0
        assert float(row["violation"]) == pytest.approx(max(0.0, x - 0.7))


def test_the_front_of_a_constrained_run_is_feasible(tmp_path):
    run_local(2, tmp_path, two_constrained, generations=15, limits=LIMITS, objectives=DECLARED)
    records = read_checkpoint(tmp_path).records
    assert any(r["violation"] > 0 for r in records)
    front = summarize_results(records).front
    assert front and all(r["params"]["x"] <= 0.7 for r in front)
    # The unconstrained front would hold the largest accuracy, which is infeasible.
    assert max(r["params"]["x"] for r in records) > 0.7


def test_a_resume_with_other_objectives_fails_naming_both(tmp_path):
    run_local(1, tmp_path, two_constrained, generations=3, limits=LIMITS, objectives=DECLARED)
    other = {"accuracy": "maximize", "latency": "maximize"}
    with pytest.raises(CheckpointError) as caught:
        run_local(1, tmp_path, two_constrained, generations=6, limits=LIMITS, objectives=other)
    message = str(caught.value)
    assert "objectives={'accuracy': 'maximize', 'latency': 'minimize'}" in message
    assert "objectives={'accuracy': 'maximize', 'latency': 'maximize'}" in message
    assert "another checkpoint_path" in message
    for changed in (["accuracy"], None):  # fewer objectives; none declared
        with pytest.raises(CheckpointError, match="holds a run with objectives="):
            run_local(1, tmp_path, constrained, generations=6, limits=LIMITS, objectives=changed)
    # The same declaration resumes.
    ranks = run_local(1, tmp_path, two_constrained, generations=5, limits=LIMITS,
                      objectives=DECLARED)  # fmt: skip
    assert len(ranks[0].population) == 5


def test_pso_warns_once_that_it_optimizes_the_first_objective(tmp_path, caplog):
    def pso(rank, rng):
        return Conditional(4, BasicPSO(0.729, 1.49445, 1.49445, rank, LIMITS, rng),
                           InitUniformPSO(LIMITS, rank, rng=rng))  # fmt: skip

    caplog.set_level(logging.WARNING, logger="propulate")
    run_local(2, tmp_path / "declared", two_constrained, generations=4, limits=LIMITS,
              objectives=DECLARED, make_propagator=pso)  # fmt: skip
    warnings = [r.getMessage() for r in caplog.records if "first objective only" in r.getMessage()]
    assert warnings == [
        "BasicPSO optimizes the first objective only, 'accuracy' (maximized); the others "
        "('latency') are recorded but do not guide it. To search over every objective use the "
        "default propagator (Pareto selection) or TPE; to optimize another objective, declare "
        "it first."
    ]
    caplog.clear()
    run_local(1, tmp_path / "tuple", lambda p: (p["x"], p["y"], 1.0), generations=3,
              limits=LIMITS, make_propagator=pso)  # fmt: skip
    warnings = [r.getMessage() for r in caplog.records if "first objective only" in r.getMessage()]
    assert (
        len(warnings) == 1
        and "'objective_0'; the others ('objective_1', 'objective_2')" in (warnings[0])
    )
    caplog.clear()
    run_local(1, tmp_path / "one", constrained, generations=3, limits=LIMITS, make_propagator=pso)
    assert not [r for r in caplog.records if "first objective only" in r.getMessage()]


def test_the_optuna_export_has_every_objective_and_the_constraints(tmp_path):
    pytest.importorskip("optuna")
    from propulate.results import to_optuna

    run_local(1, tmp_path, two_constrained, generations=8, limits=LIMITS, objectives=DECLARED)
    records = {(r["island"], r["rank"], r["generation"]): r for r in load_results(tmp_path)}
    study = to_optuna(tmp_path)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    trials = study.get_trials()
    assert len(trials) == len(records) == 8
    for trial in trials:
        attrs = trial.user_attrs
        record = records[attrs["propulate_island"], attrs["propulate_rank"],
                         attrs["propulate_generation"]]  # fmt: skip
        assert record["status"] == Status.OK
        assert trial.values == [record["objectives"]["accuracy"], record["objectives"]["latency"]]
        assert trial.system_attrs["constraints"] == record["constraints"]
        if hasattr(trial, "constraints"):  # Optuna 5 reads them as its own
            assert list(trial.constraints.values()) == record["constraints"]
    # Optuna's best trials of a constrained study are feasible ones.
    assert all(t.params["x"] <= 0.7 for t in study.best_trials)


def test_the_optuna_export_of_an_undeclared_tuple_minimizes_each_value(tmp_path):
    pytest.importorskip("optuna")
    from propulate.results import to_optuna

    run_local(1, tmp_path, lambda p: (p["x"], p["y"]), generations=4, limits=LIMITS)
    study = to_optuna(tmp_path)
    assert [d.name for d in study.directions] == ["MINIMIZE", "MINIMIZE"]
    assert sorted(tuple(t.values) for t in study.trials) == sorted(
        (r["params"]["x"], r["params"]["y"]) for r in load_results(tmp_path)
    )


def test_a_plain_loss_keeps_everything_as_before(tmp_path):
    ranks = run_local(1, tmp_path, lambda p: p["x"], generations=4, limits=LIMITS)
    assert all(i.constraints is None for i in ranks[0].population)
    records = load_results(tmp_path)
    assert all(r["constraints"] is None and r["violation"] == 0.0 for r in records)
    text = format_summary(summarize_results(records))
    assert "violat" not in text and "feasible" not in text


def test_the_documented_example_keeps_its_front_within_the_memory_limit(tmp_path):
    spec = importlib.util.spec_from_file_location("constrained", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    run_local(2, tmp_path, example.loss, generations=20, limits=example.limits,
              objectives=example.objectives)  # fmt: skip
    records = load_results(tmp_path)
    assert any(r["violation"] > 0 for r in records)  # the search met the limit
    front = summarize_results(records).front
    assert front and all(0.05 * r["params"]["width"] * r["params"]["depth"] <= 8.0 for r in front)
