"""The example files the documentation shows (docs/examples) work as the pages say."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from propulate.results import load_results
from propulate.testing import MIXED_LIMITS, run_battery

from ..integration.local_run import LIMITS_3D, sphere

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "docs" / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"docs_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_custom_propagator_keeps_the_contract():
    example = load_example("custom_propagator")
    run_battery(lambda limits, rng: example.DifferentialMutation(limits, rng=rng), MIXED_LIMITS)
    run_battery(lambda limits, rng: example.make_propagator(limits, 4, rng), MIXED_LIMITS)


def test_the_custom_propagator_optimizes(tmp_path):
    example = load_example("custom_propagator")
    import random

    from propulate import Propulator
    from propulate.comm.local import LocalNetwork

    network = LocalNetwork(1)
    rng = random.Random(3)
    transport = network.transport(0)
    propulator = Propulator(
        sphere,
        example.make_propagator(LIMITS_3D, 8, rng),
        rng,
        generations=300,
        checkpoint_path=tmp_path,
        transport=transport,
        collectives=transport,
        rank=0,
    )
    propulator.propulate(logging_interval=0)
    # Random search with 300 samples in [-5, 5]^3 reaches ~1 at best.
    assert propulator.best(1)[0].loss < 0.1


def test_the_custom_propagator_rejects_a_bad_factor():
    example = load_example("custom_propagator")
    from propulate.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="factor=3"):
        example.DifferentialMutation(LIMITS_3D, factor=3)


def test_the_quickstart_runs_and_resumes(tmp_path):
    checkpoint = tmp_path / "ckpt"
    command = [sys.executable, str(EXAMPLES / "quickstart.py"), str(checkpoint)]
    for _ in range(2):  # the second run resumes: nothing left to do
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert result.returncode == 0, result.stderr + result.stdout
    records = load_results(checkpoint)
    assert len(records) == 40  # generations=40 on one rank, not repeated by the resumed run
    assert min(r["loss"] for r in records) < 1.0


def test_the_ask_and_tell_example_runs_and_resumes(tmp_path):
    checkpoint = tmp_path / "ckpt"
    command = [sys.executable, str(EXAMPLES / "ask_and_tell.py"), str(checkpoint)]
    outputs = []
    for _ in range(2):  # the second run resumes: nothing left to ask for
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert result.returncode == 0, result.stderr + result.stdout
        outputs.append(result.stdout)
    records = load_results(checkpoint)
    assert len(records) == 24  # generations=24 on one rank, not repeated by the resumed run
    assert min(r["loss"] for r in records) < 2.0  # measured 0.28; 24 random samples: median 0.9
    assert outputs[0] == outputs[1] and outputs[0].startswith("best: x=")


def test_the_trackers_example_feeds_every_tracker_and_optuna(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    pytest.importorskip("mlflow")
    pytest.importorskip("wandb")
    optuna = pytest.importorskip("optuna")
    out = tmp_path / "tracked"
    command = [sys.executable, str(EXAMPLES / "trackers.py"), str(out)]
    env = {**os.environ, "WANDB_SILENT": "true"}
    outputs = []
    for _ in range(2):  # the second run resumes: nothing new reaches the trackers
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300,
                                env=env)  # fmt: skip
        assert result.returncode == 0, result.stderr + result.stdout
        assert "Optuna study 'ckpt': 20 trials" in result.stdout
        outputs.append(result.stdout)
    assert "new best" in outputs[0] and "new best" not in outputs[1]
    runs = [p for p in (out / "tensorboard" / "island0").iterdir() if p.name != "search"]
    assert len(runs) == 20
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient((out / "mlruns").as_uri())
    experiment = client.get_experiment_by_name("propulate-example")
    assert len(client.search_runs([experiment.experiment_id], max_results=100)) == 20
    assert len(list((out / "wandb").glob("offline-run-*/run-*.wandb"))) == 2  # one per run
    study = optuna.load_study(study_name="ckpt", storage=f"sqlite:///{out / 'optuna.db'}")
    assert len(study.trials) == 20


def test_the_job_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(EXAMPLES / "job.sbatch")], capture_output=True)
    assert result.returncode == 0, result.stderr
