"""End-to-end: run tutorials/torch_example.py under mpirun on MNIST with a tiny budget, then resume.

MNIST comes from a local copy when one exists (``$PROPULATE_MNIST_DIR``, or ``shared/data`` in
a folder above the repository: a folder holding ``MNIST/raw/``); otherwise the script downloads
it, and the test is skipped if that fails.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from propulate import Propulator
from propulate.utils import get_default_propagator

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tutorials" / "torch_example.py"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
MISSING = [
    name
    for name in ("torch", "torchvision", "lightning", "torchmetrics", "tensorboard")
    if importlib.util.find_spec(name) is None
]
RANKS = 2
GENERATIONS = 2
# The limits of the script (not imported: that would load torch into the test process).
LIMITS = {"conv_layers": (2, 10), "activation": ("relu", "sigmoid", "tanh"), "lr": (0.01, 0.0001)}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"tutorial dependencies missing: {MISSING}"),
    pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)"),
]


def local_mnist() -> Path | None:
    """A folder holding MNIST/raw/ with the original files, if this machine has one."""
    candidates = (
        [Path(os.environ["PROPULATE_MNIST_DIR"])] if "PROPULATE_MNIST_DIR" in os.environ else []
    )
    candidates += [parent / "shared" / "data" for parent in REPO.parents]
    for folder in candidates:
        if (folder / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
            return folder
    return None


def skip_or_fail_without_mnist() -> None:
    """Skip where MNIST cannot be had; in CI (CI=true) it must be there, so fail."""
    message = "MNIST is not on this machine and cannot be downloaded"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: CI needs shared/data/MNIST/raw beside the checkout")
    pytest.skip(message)


def run_script(*options: str, launcher: list[str], timeout: float, env: dict | None = None):
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [*launcher, sys.executable, str(SCRIPT), *options],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=REPO,
    )


def population(checkpoint: Path) -> list:
    """What a new Propulator resuming from the checkpoint would start with."""
    propagator = get_default_propagator(2 * RANKS, LIMITS)
    return Propulator(lambda params: 0.0, propagator, checkpoint_path=checkpoint, rank=0).population


def test_tiny_mnist_run_evaluates_on_every_rank_and_resumes(tmp_path):
    data = tmp_path / "data"
    source = local_mnist()
    if source is not None:
        # A writable copy: torchvision unpacks the archives next to themselves.
        shutil.copytree(source / "MNIST" / "raw", data / "MNIST" / "raw")
    checkpoint = tmp_path / "ckpt"
    # --seed 1 draws four random individuals that can all learn something (tanh and relu at
    # moderate rates); seed 0 would spend three of them on deep sigmoid nets, which stay at chance
    # after one epoch on 1,000 images, so a single bad initialization would fail the test.
    options = (
        f"--data-dir={data}",
        f"--checkpoint={checkpoint}",
        f"--generations={GENERATIONS}",
        "--epochs=1",
        "--train-subset=1000",
        "--num-workers=0",
        "--gpus-per-node=0",
        "--seed=1",
    )
    launcher = ["timeout", "-k", "10", "240", MPIRUN, "-n", str(RANKS)]

    result = run_script(*options, launcher=launcher, timeout=260)
    if source is None and "could not be downloaded" in result.stderr:
        skip_or_fail_without_mnist()
    assert result.returncode == 0, result.stdout + result.stderr

    individuals = population(checkpoint)
    # Every rank evaluated exactly its own generations, and every result reached the checkpoint.
    assert sorted((ind.rank, ind.generation) for ind in individuals) == [
        (rank, generation) for rank in range(RANKS) for generation in range(GENERATIONS)
    ]
    losses = [ind.loss for ind in individuals]
    assert all(-1.0 <= loss <= 0.0 for loss in losses), losses  # negative accuracies
    assert min(losses) < -0.5, losses  # clearly better than chance (-0.1)
    # The tutorial records the validation accuracy of every epoch (one here) as the curve.
    for ind in individuals:
        assert list(ind.curve) == pytest.approx([ind.loss]), (ind.curve, ind.loss)
    assert "Top 1 of island 0" in result.stdout

    assert (checkpoint / "torch_example.log").is_file()
    # One TensorBoard run per evaluation, under each rank's folder.
    runs = sorted(checkpoint.glob("lightning_logs/rank_*/version_*"))
    assert len(runs) == RANKS * GENERATIONS, runs
    assert all(any(run.glob("events.out.tfevents.*")) for run in runs)

    # The same command again: everything is in the checkpoint, so nothing is trained.
    rerun = run_script(*options, launcher=launcher, timeout=260)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(map(repr, population(checkpoint))) == sorted(map(repr, individuals))
    assert sorted(checkpoint.glob("lightning_logs/rank_*/version_*")) == runs
    assert f"Resumed {RANKS * GENERATIONS} individuals" in rerun.stdout

    # Other training options on the same checkpoint: refused before anything is trained.
    other = run_script(*options, "--epochs=2", launcher=launcher, timeout=260)
    assert other.returncode != 0, other.stdout + other.stderr
    assert "CheckpointError" in other.stderr and "epochs" in other.stderr, other.stderr
    assert sorted(map(repr, population(checkpoint))) == sorted(map(repr, individuals))
    assert sorted(checkpoint.glob("lightning_logs/rank_*/version_*")) == runs


def test_missing_data_without_network_gives_a_clear_message(tmp_path):
    # A proxy that refuses every connection stands in for a machine without network.
    refused = "http://127.0.0.1:9"
    offline = {name: refused for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    offline.update(no_proxy="", NO_PROXY="")
    result = run_script(
        f"--data-dir={tmp_path / 'data'}",
        f"--checkpoint={tmp_path / 'ckpt'}",
        launcher=[],
        timeout=120,
        env=offline,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert f"MNIST is missing from {raw}/" in result.stderr
    assert "train-images-idx3-ubyte.gz" in result.stderr
    assert not (tmp_path / "ckpt").exists()  # stopped before any optimization started


def test_pruning_flag_feeds_the_learning_curves(tmp_path):
    source = local_mnist()
    if source is None:
        skip_or_fail_without_mnist()
    data = tmp_path / "data"
    shutil.copytree(source / "MNIST" / "raw", data / "MNIST" / "raw")
    checkpoint = tmp_path / "ckpt"
    options = (
        f"--data-dir={data}",
        f"--checkpoint={checkpoint}",
        "--generations=2",
        "--epochs=2",
        "--train-subset=500",
        "--num-workers=0",
        "--gpus-per-node=0",
        "--seed=1",
        "--pruning",
    )
    launcher = ["timeout", "-k", "10", "240", MPIRUN, "-n", str(RANKS)]
    result = run_script(*options, launcher=launcher, timeout=260)
    assert result.returncode == 0, result.stdout + result.stderr
    individuals = population(checkpoint)
    assert len(individuals) == RANKS * 2
    for ind in individuals:
        # The callback reported the (negative) validation accuracy after every epoch it ran.
        assert 1 <= len(ind.curve) <= 2
        assert all(-1.0 <= value <= 0.0 for value in ind.curve)
        assert ind.status in ("ok", "pruned")


def test_time_budget_interrupts_trainings_that_the_next_run_continues(tmp_path):
    # The budget ends during every rank's first epoch: each training stops at that epoch's end
    # and saves its weights in its individual's folder; the next run continues it from there.
    source = local_mnist()
    if source is None:
        skip_or_fail_without_mnist()
    data = tmp_path / "data"
    shutil.copytree(source / "MNIST" / "raw", data / "MNIST" / "raw")
    checkpoint = tmp_path / "ckpt"
    options = (
        f"--data-dir={data}",
        f"--checkpoint={checkpoint}",
        "--generations=1",
        "--epochs=3",
        "--train-subset=500",
        "--num-workers=0",
        "--gpus-per-node=0",
        "--seed=1",
    )
    launcher = ["timeout", "-k", "10", "900", MPIRUN, "-n", str(RANKS)]
    result = run_script(*options, "--time-budget=1", launcher=launcher, timeout=920)
    assert result.returncode == 0, result.stdout + result.stderr
    assert population(checkpoint) == []  # nothing finished
    folders = sorted((checkpoint / "individuals").iterdir())
    assert len(folders) == RANKS and all((f / "last.ckpt").is_file() for f in folders)

    result = run_script(*options, launcher=launcher, timeout=920)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resumed first" in result.stdout
    individuals = population(checkpoint)
    assert sorted(ind.key for ind in individuals) == [(rank, 0) for rank in range(RANKS)]
    for ind in individuals:
        # One epoch before the interruption and two after it: three in all, not 1 + 3.
        assert ind.status == "ok" and len(ind.curve) == 3, ind.curve
