"""Conditional parameters through the loop: checkpoint, resume, results, export, plots, Optuna."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from propulate import CheckpointError, Float, Propulator, SearchSpace
from propulate.cli import write_csv
from propulate.results import load_results, read_checkpoint
from propulate.testing import CONDITIONAL_LIMITS
from propulate.utils import get_default_propagator

from .local_run import run_local

SPACE = SearchSpace(CONDITIONAL_LIMITS)
SEEN: list[dict[str, Any]] = []


def conditional_loss(params: Any) -> float:
    """Uses every parameter it gets; asserts it gets exactly the active ones."""
    values = dict(params)
    SEEN.append(values)
    assert set(values) == SPACE.active(values), values
    loss = params["lr"] + params["layers"]
    if "momentum" in values:
        loss += abs(params["momentum"] - 0.9)
    if "dampening" in values:
        loss += params["dampening"]
    return loss + (0.5 if params["opt"] == "adam" else 0.0)


def test_conditional_space_round_trips_through_checkpoint_resume_results_and_export(tmp_path):
    SEEN.clear()
    first = run_local(
        2, tmp_path, loss_fn=conditional_loss, generations=10, limits=CONDITIONAL_LIMITS
    )
    before = {ind.key: dict(ind) for ind in first[0].population}
    assert len(before) == 20
    assert all(set(v) == SPACE.active(v) for v in before.values())
    assert len({v["opt"] for v in before.values()}) > 1  # both branches were evaluated

    resumed = run_local(
        2, tmp_path, loss_fn=conditional_loss, generations=14, limits=CONDITIONAL_LIMITS
    )
    after = {ind.key: dict(ind) for ind in resumed[0].population}
    assert len(after) == 28
    for key, values in before.items():
        assert after[key] == values  # inactive parameters stay absent after the resume

    data = read_checkpoint(tmp_path)
    assert data.search_space == SPACE
    records = load_results(tmp_path)
    assert {(r["rank"], r["generation"]): r["params"] for r in records} == after

    stream = io.StringIO()
    write_csv(records, stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert len(rows) == 28
    for row in rows:
        sgd_like = row["params_opt"] in ("sgd", "rmsprop")
        assert (row["params_momentum"] != "") == sgd_like, row  # an empty cell when inactive
        assert (row["params_beta2"] != "") == (row["params_opt"] == "adam"), row
    assert any(row["params_momentum"] == "" for row in rows)


def test_resuming_with_another_condition_is_a_checkpoint_error(tmp_path):
    run_local(1, tmp_path, loss_fn=conditional_loss, generations=3, limits=CONDITIONAL_LIMITS)
    limits = {**CONDITIONAL_LIMITS, "momentum": Float(0.0, 0.99, when={"opt": "sgd"})}
    rng = random.Random(0)
    propulator = Propulator(
        conditional_loss,
        get_default_propagator(2, limits, rng=rng),
        rng,
        checkpoint_path=tmp_path,
        rank=0,
    )
    with pytest.raises(CheckpointError, match="search space"):
        _ = propulator.population


def test_plots_and_optuna_take_a_conditional_space(tmp_path):
    run_local(1, tmp_path, loss_fn=conditional_loss, generations=12, limits=CONDITIONAL_LIMITS)
    data = read_checkpoint(tmp_path)
    pytest.importorskip("matplotlib")
    from propulate.plots import plot_all

    written, skipped = plot_all(data, tmp_path / "plots", formats=("png",))
    assert set(skipped) <= {"learning_curves"}, skipped
    assert {"parallel_coordinates", "slices", "contour", "importance"} <= set(written)
    pytest.importorskip("optuna")
    from propulate.results import to_optuna

    study = to_optuna(data)
    assert len(study.trials) == 12
    for trial in study.trials:
        assert set(trial.params) == SPACE.active(trial.params)
