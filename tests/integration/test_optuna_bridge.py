"""The Optuna bridge: a real run's checkpoint as an Optuna study, read back with Optuna."""

from __future__ import annotations

import sys

import pytest

from propulate import MedianStoppingRule
from propulate.cli import main
from propulate.results import load_results, read_checkpoint, to_optuna

from ..unit.results_data import EPOCHS, EVALUATIONS, LIMITS, curve_loss
from .local_run import run_local

optuna = pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real run with learning curves, one failure and pruned evaluations."""
    path = tmp_path_factory.mktemp("run") / "search"
    run_local(3, path, loss_fn=curve_loss, generations=12, limits=LIMITS,
              surrogate_factory=lambda: MedianStoppingRule(min_runs=3))  # fmt: skip
    return path


def key(trial):
    attrs = trial.user_attrs
    return attrs["propulate_island"], attrs["propulate_rank"], attrs["propulate_generation"]


def check_study(study, records):
    trials = study.get_trials()
    assert len(trials) == len(records) == EVALUATIONS
    by_key = {key(t): t for t in trials}
    assert len(by_key) == len(trials)  # every evaluation exactly once
    states = {"ok": "COMPLETE", "failed": "FAIL", "pruned": "PRUNED"}
    for record in records:
        trial = by_key[(record["island"], record["rank"], record["generation"])]
        assert trial.params == record["params"]
        assert trial.state.name == states[record["status"]]
        if record["status"] == "ok":
            assert trial.value == record["loss"]
        else:
            assert trial.value is None
        curve = record["curve"] or []
        assert trial.intermediate_values == dict(enumerate(curve))
        assert trial.datetime_start.timestamp() == pytest.approx(record["start"], abs=1e-3)
        assert trial.datetime_complete.timestamp() == pytest.approx(record["end"], abs=1e-3)
    return by_key


def test_every_evaluation_becomes_one_trial(run_dir, tmp_path):
    records = load_results(run_dir)
    assert {r["status"] for r in records} == {"ok", "failed", "pruned"}
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    to_optuna(run_dir, storage)
    study = optuna.load_study(study_name="search", storage=storage)
    trials = check_study(study, records)
    failed = [t for t in trials.values() if t.state.name == "FAIL"]
    assert len(failed) == 1 and "boom" in failed[0].user_attrs["propulate_error"]
    ok = [t for t in trials.values() if t.state.name == "COMPLETE"]
    assert all(len(t.intermediate_values) == EPOCHS for t in ok)
    assert study.best_value == min(r["loss"] for r in records if r["status"] == "ok")
    distributions = study.trials[0].distributions
    assert distributions["lr"] == optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    assert distributions["x"] == optuna.distributions.FloatDistribution(-5.0, 5.0)
    assert distributions["n"] == optuna.distributions.IntDistribution(1, 4)
    assert distributions["act"] == optuna.distributions.CategoricalDistribution(["relu", "tanh"])


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_optuna_plots_draw_the_study(run_dir):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as plots

    study = to_optuna(run_dir)
    history = plots.plot_optimization_history(study)
    completed = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert len(history.collections[0].get_offsets()) == len(completed)  # one dot per result
    plt.close("all")
    for plot in (plots.plot_optimization_history, plots.plot_slice,
                 plots.plot_intermediate_values, plots.plot_param_importances):  # fmt: skip
        axes = plot(study)
        assert axes is not None
        plt.close("all")


def test_exporting_again_adds_only_new_evaluations(run_dir, tmp_path):
    storage = f"sqlite:///{tmp_path / 'again.db'}"
    records = load_results(run_dir)
    # A first export of part of the run (as of a search still going), then of all of it.
    data = read_checkpoint(run_dir)
    data.records = data.records[:10]
    assert len(to_optuna(data, storage, "s").trials) == 10
    with pytest.raises(optuna.exceptions.DuplicatedStudyError):
        to_optuna(run_dir, storage, "s")
    study = to_optuna(run_dir, storage, "s", load_if_exists=True)
    check_study(study, records)


def test_the_command_line_exports_to_a_storage(run_dir, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["export", str(run_dir), "--optuna", storage, "--study-name", "mine"]) == 0
    assert "holds 36 trials" in capsys.readouterr().err
    check_study(optuna.load_study(study_name="mine", storage=storage), load_results(run_dir))
    assert main(["export", str(run_dir), "--optuna", storage]) == 0  # named after the folder
    assert optuna.load_study(study_name="search", storage=storage).trials


def test_export_needs_a_target(run_dir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(run_dir)])
    assert exit_info.value.code == 2
    assert "--csv FILE and/or --optuna STORAGE" in capsys.readouterr().err


def test_a_missing_optuna_says_what_to_install(run_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match="pip install optuna"):
        to_optuna(run_dir)
    assert main(["export", str(run_dir), "--optuna", "sqlite://"]) == 1
    assert "pip install optuna" in capsys.readouterr().err
