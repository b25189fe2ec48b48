"""The built-in trackers, checked by reading what they wrote with each package's own reader."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from propulate.population import Status

from .local_run import run_local

LIMITS = {"lr": (1e-4, 1e-1, "log"), "layers": (1, 6), "act": ("relu", "tanh")}
STEPS = 4


_calls = itertools.count()


def curve(params):
    """A learning curve per individual; deep ones fail, and so does the fourth call of a search
    (so that every search has a failure, whichever individuals the threads' timing brings)."""
    if params["layers"] == 6 or next(_calls) == 3:
        raise RuntimeError("too deep")
    final = math.log10(params["lr"]) ** 2 + params["layers"] + (params["act"] == "tanh")
    for step in range(STEPS):
        yield final + (STEPS - 1 - step)


def search(tmp_path, callback, generations=8, size=2):
    """A small search with a learning curve; returns rank 0's population, by key."""
    global _calls
    _calls = itertools.count()
    propulators = run_local(size, tmp_path / "ckpt", loss_fn=curve, generations=generations,
                            limits=LIMITS, callbacks=[callback])  # fmt: skip
    population = {ind.key: ind for ind in propulators[0].population}
    assert len(population) == size * generations
    assert any(ind.status == Status.FAILED for ind in population.values())
    return population


def run_key(name):
    """(island, rank, generation) from a run name 'island<i>-rank<r>-gen<g>'."""
    island, rank, gen = name.split("-")
    return int(island[6:]), int(rank[4:]), int(gen[3:])


@pytest.mark.parametrize(
    ("module", "name", "package"),
    [
        ("tensorboard", "TensorBoardCallback", "tensorboard"),
        ("mlflow", "MLflowCallback", "mlflow-skinny"),
        ("wandb", "WandbCallback", "wandb"),
    ],
)
def test_a_missing_package_says_what_to_install(monkeypatch, module, name, package):
    import propulate.callbacks as callbacks

    monkeypatch.setitem(sys.modules, module, None)  # import module raises ImportError
    with pytest.raises(ImportError, match=rf"pip install {package} \(or pip install"):
        getattr(callbacks, name)()


def test_tensorboard_writes_one_hparams_run_per_individual(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    from propulate.callbacks import TensorBoardCallback

    population = search(tmp_path, TensorBoardCallback(tmp_path / "tb"))
    island = tmp_path / "tb" / "island0"
    runs = sorted(p for p in island.iterdir() if p.name != "search")
    assert len(runs) == len(population)
    for run in runs:
        rank, gen = run.name.split("-")
        ind = population[(int(rank[4:]), int(gen[3:]))]
        events = EventAccumulator(str(run))
        events.Reload()
        content = events.PluginTagToContent("hparams")
        data = {tag: plugin_data_pb2.HParamsPluginData.FromString(c) for tag, c in content.items()}
        starts = [d.session_start_info for d in data.values() if d.HasField("session_start_info")]
        experiments = [d.experiment for d in data.values() if d.HasField("experiment")]
        assert len(starts) == 1 and len(experiments) == 1
        hparams = starts[0].hparams
        assert hparams["lr"].number_value == pytest.approx(ind["lr"])
        assert hparams["layers"].number_value == ind["layers"]
        assert hparams["act"].string_value == ind["act"]
        assert hparams["status"].string_value == ind.status
        assert {i.name for i in experiments[0].hparam_infos} == {"lr", "layers", "act", "status"}
        assert [m.name.tag for m in experiments[0].metric_infos][0] == "loss"
        scalars = events.Tags()["scalars"]
        if ind.status == Status.OK:
            assert [s.value for s in events.Scalars("loss")] == pytest.approx([ind.loss])
            curve_values = [s.value for s in events.Scalars("learning_curve")]
            assert curve_values == pytest.approx(ind.curve, rel=1e-6)
            assert [s.step for s in events.Scalars("learning_curve")] == list(range(STEPS))
        else:
            assert "loss" not in scalars
    search_run = EventAccumulator(str(island / "search"))
    search_run.Reload()
    best = [s.value for s in search_run.Scalars("best_loss")]
    ok = [ind.loss for ind in population.values() if ind.status == Status.OK]
    assert len(best) == len(ok) and best[-1] == pytest.approx(min(ok))


def test_mlflow_logs_one_run_per_individual(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    # mlflow-skinny has no database back-end; MLflow 3 keeps its file store behind this switch.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow import MlflowClient

    from propulate.callbacks import MLflowCallback

    uri = (tmp_path / "mlruns").as_uri()
    population = search(tmp_path, MLflowCallback("search", tracking_uri=uri, tags={"team": "x"}))
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("search")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    assert len(runs) == len(population)
    names = [run_key(run.info.run_name) for run in runs]
    assert len(set(names)) == len(names)
    ended = {Status.OK: "FINISHED", Status.FAILED: "FAILED", Status.PRUNED: "KILLED"}
    for run in runs:
        island, rank, gen = run_key(run.info.run_name)
        ind = population[(rank, gen)]
        assert run.data.params == {k: str(v) for k, v in ind.items()}
        assert run.data.tags["propulate.status"] == ind.status
        assert run.data.tags["team"] == "x"
        assert run.info.status == ended[ind.status]
        if ind.status == Status.OK:
            assert run.data.metrics["loss"] == pytest.approx(ind.loss)
            history = client.get_metric_history(run.info.run_id, "learning_curve")
            assert [m.step for m in history] == list(range(STEPS))
            assert [m.value for m in history] == pytest.approx(ind.curve)
        else:
            assert "loss" not in run.data.metrics
            assert "too deep" in run.data.tags["propulate.error"]


def wandb_records(path):
    """The records of an offline run's .wandb file, read by W&B's own reader (wandb-core)."""
    done = subprocess.run([sys.executable, "-m", "wandb", "leet", "inspect", str(path), "--json"],
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_wandb_offline_logs_a_step_per_result(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from propulate.callbacks import WandbCallback

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    population = search(tmp_path, WandbCallback(project="propulate-test", dir=str(tmp_path)))
    files = list((tmp_path / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 1
    records = wandb_records(files[0])
    runs = [r["run"] for r in records if r["type"] == "run"]
    assert len(runs) == 1
    assert runs[0]["display_name"] == "island0" and runs[0]["run_group"] == "ckpt"
    config = runs[0]["config"]["update"]
    assert config["search_space"]["lr"] == {"kind": "float", "low": 1e-4, "high": 1e-1,
                                            "log": True}  # fmt: skip
    steps = [r["history"]["item"] for r in records if r["type"] == "history"]
    results = [s for s in steps if "status" in s]
    assert len(results) == len(population)
    assert [s["_step"] for s in results] == list(range(len(population)))
    best = math.inf
    for step in results:
        ind = population[(step["rank"], step["generation"])]
        assert step["status"] == ind.status
        assert step["params/act"] == ind["act"] and step["params/layers"] == ind["layers"]
        assert step["params/lr"] == pytest.approx(ind["lr"])
        if ind.status == Status.OK:
            best = min(best, ind.loss)
            assert step["loss"] == pytest.approx(ind.loss)
            assert step["best_loss"] == pytest.approx(best)
        else:
            assert "loss" not in step
    tables = [s for s in steps if "results._type" in s]
    assert len(tables) == 1 and tables[0]["_step"] == len(population)
    summary = {}
    for record in records:
        if record["type"] == "summary":
            summary.update(record["summary"].get("update", {}))
    assert summary["loss"] == {"min": pytest.approx(best)}  # the run's summary: the best loss
    table_file = next(Path(files[0].parent, "files").rglob("results*.table.json"))
    table = json.loads(table_file.read_text())
    assert table["columns"][:5] == ["island", "rank", "generation", "status", "loss"]
    assert len(table["data"]) == len(population)
    rows = {(row[1], row[2]): row for row in table["data"]}
    for (rank, generation), ind in population.items():
        row = rows[(rank, generation)]
        assert row[3] == ind.status
        assert json.loads(row[-1]) == pytest.approx(getattr(ind, "curve", None) or [])


def test_trackers_skip_immigrants_unless_asked(tmp_path):
    from propulate.callbacks import RunContext
    from propulate.callbacks.tracker import Tracker
    from propulate.population import Individual
    from propulate.search_space import SearchSpace

    class Logged(Tracker):
        def open(self, context):
            self.names = []

        def log_result(self, individual):
            self.names.append(individual.island)

    space = SearchSpace(LIMITS)
    context = RunContext(1, 2, 3, 2, space, tmp_path)
    individuals = []
    for island in (0, 1, 2, 1):
        ind = Individual({"lr": 1e-3, "layers": 2, "act": "relu"}, space)
        ind.island, ind.loss, ind.status = island, 1.0, Status.OK
        individuals.append(ind)
    for immigrants, expected in ((False, [1, 1]), (True, [0, 1, 2, 1])):
        tracker = Logged(immigrants=immigrants)
        tracker.on_start(context)
        for ind in individuals:
            tracker.on_result(ind)
        tracker.on_end()
        assert tracker.names == expected and tracker.logged == len(expected)


def test_mlflow_takes_many_parameters_and_long_curves(tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    from mlflow import MlflowClient

    from propulate.callbacks import MLflowCallback, RunContext
    from propulate.population import Individual
    from propulate.search_space import SearchSpace

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    space = SearchSpace({f"x{i:03d}": (0.0, 1.0) for i in range(130)})  # MLflow: 100 per batch
    ind = Individual({name: 0.5 for name in (d.name for d in space)}, space)
    ind.island = ind.rank = ind.generation = 0
    ind.loss, ind.status, ind.evaltime, ind.evalperiod = 1.0, Status.OK, 1.7e9, 10.0
    ind.curve = [float(i) for i in range(1200)]  # 1000 metrics per batch
    # The file store takes any batch; a tracking server refuses more than these per batch.
    log_batch = MlflowClient.log_batch

    def checked_log_batch(self, run_id, metrics=(), params=(), tags=(), **kwargs):
        assert len(params) <= 100 and len(metrics) <= 1000 and len(tags) <= 100
        return log_batch(self, run_id, metrics=metrics, params=params, tags=tags, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", checked_log_batch)
    uri = (tmp_path / "mlruns").as_uri()
    callback = MLflowCallback("wide", tracking_uri=uri)
    callback.on_start(RunContext(0, 0, 1, 1, space, tmp_path))
    callback.on_result(ind)
    callback.on_end()
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("wide").experiment_id])
    assert len(run.data.params) == 130
    history = client.get_metric_history(run.info.run_id, "learning_curve")
    assert sorted(m.step for m in history) == list(range(1200))
