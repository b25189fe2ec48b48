"""Every search-space kind through the loop: checkpoint, resume, results, export, plots, Optuna."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pytest

from propulate import CheckpointError, Int, Propulator, SearchSpace
from propulate.cli import write_csv
from propulate.population import Status
from propulate.results import load_results, read_checkpoint
from propulate.testing import KINDS_LIMITS
from propulate.utils import get_default_propagator

from .local_run import run_local

SPACE = SearchSpace(KINDS_LIMITS)


def kinds_loss(params: Any) -> float:
    """Smallest at batch 64, width 32, dropout 0.2, bias True; every kind enters the loss."""
    assert set(params) == set(KINDS_LIMITS)
    for name, value in params.items():
        assert type(value) is SPACE[name].value_type, (name, value)
        assert SPACE[name].contains(value), (name, value)
    return (
        abs(params["batch"] - 64) / 64
        + abs(params["width"] - 32) / 8
        + abs(params["dropout"] - 0.2) * 10
        + (0.0 if params["bias"] else 1.0)
        + params["ratio"]
        + params["pair"]
        + params["layers"]
        + params["lr"]
        + params["scale"]
        + (0.5 if params["shuffle"] else 0.0)
    )


def legal(values: dict[str, Any]) -> bool:
    return all(
        type(v) is SPACE[k].value_type and SPACE[k].contains(v) for k, v in values.items()
    ) and set(values) == set(KINDS_LIMITS)


def test_every_kind_round_trips_through_checkpoint_resume_results_and_export(tmp_path):
    first = run_local(2, tmp_path, loss_fn=kinds_loss, generations=8, limits=KINDS_LIMITS)
    before = {ind.key: dict(ind) for ind in first[0].population}
    assert len(before) == 16
    assert all(legal(values) for values in before.values())

    # Resume: the second run reads every record back with the same values and types.
    resumed = run_local(2, tmp_path, loss_fn=kinds_loss, generations=12, limits=KINDS_LIMITS)
    after = {ind.key: dict(ind) for ind in resumed[0].population}
    assert len(after) == 24
    for key, values in before.items():
        assert after[key] == values
        assert [type(v) for v in after[key].values()] == [type(v) for v in values.values()]
    assert all(legal(values) for values in after.values())

    # Results read from the checkpoint: the stored spec and the values, types included.
    data = read_checkpoint(tmp_path)
    assert data.search_space == SPACE
    records = load_results(tmp_path)
    assert {(r["rank"], r["generation"]): r["params"] for r in records} == after
    assert all(r["status"] == Status.OK for r in records)

    # Export: one column per parameter; booleans and stepped floats written as they are.
    stream = io.StringIO()
    write_csv(records, stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert len(rows) == 24
    for row in rows:
        assert row["params_bias"] in {"True", "False"}
        assert row["params_dropout"] in {"0.0", "0.1", "0.2", "0.3", "0.4", "0.5"}
        assert int(row["params_batch"]) in {16, 32, 64, 128}
        assert row["params_act"] == "relu" and row["params_scale"] == "0.5"


def test_resuming_with_another_spec_is_a_checkpoint_error(tmp_path):
    run_local(1, tmp_path, loss_fn=kinds_loss, generations=3, limits=KINDS_LIMITS)
    for name, other in [("width", Int(8, 64, step=4)), ("batch", (16, 32, 64)), ("bias", (True,))]:
        limits = {**KINDS_LIMITS, name: other}
        rng = random.Random(0)
        propulator = Propulator(
            kinds_loss,
            get_default_propagator(2, limits, rng=rng),
            rng,
            checkpoint_path=tmp_path,
            rank=0,
        )
        with pytest.raises(CheckpointError, match="search space"):
            _ = propulator.population


def test_plots_and_optuna_take_every_kind(tmp_path):
    run_local(1, tmp_path, loss_fn=kinds_loss, generations=10, limits=KINDS_LIMITS)
    data = read_checkpoint(tmp_path)
    pytest.importorskip("matplotlib")
    from propulate.plots import plot_parallel_coordinates, plot_slices

    for plot in (plot_parallel_coordinates, plot_slices):
        plot(data.records, data.search_space).savefig(tmp_path / f"{plot.__name__}.png")
        plot(data.records).savefig(tmp_path / f"{plot.__name__}-inferred.png")
    optuna = pytest.importorskip("optuna")
    from propulate.results import to_optuna

    study = to_optuna(data)
    assert len(study.trials) == 10
    distributions = study.trials[0].distributions
    assert distributions["width"] == optuna.distributions.IntDistribution(8, 64, step=8)
    assert distributions["dropout"] == optuna.distributions.FloatDistribution(0.0, 0.5, step=0.1)
    assert distributions["batch"] == optuna.distributions.CategoricalDistribution([16, 32, 64, 128])
    assert {t.params["bias"] for t in study.trials} <= {True, False}


def test_trackers_describe_every_kind():
    from propulate.callbacks.wandb import _domain

    assert _domain(SPACE["batch"]) == {"kind": "int", "values": [16, 32, 64, 128]}
    assert _domain(SPACE["width"])["step"] == 8
    pytest.importorskip("tensorboard")
    from tensorboard.plugins.hparams import api_pb2

    from propulate.callbacks.tensorboard import _experiment

    infos = {info.name: info for info in _experiment(SPACE).hparam_infos}
    assert infos["bias"].type == api_pb2.DATA_TYPE_BOOL
    assert [v.bool_value for v in infos["shuffle"].domain_discrete.values] == [False, True]
    assert infos["act"].type == api_pb2.DATA_TYPE_STRING
