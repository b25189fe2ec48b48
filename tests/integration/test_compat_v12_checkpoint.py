"""A Propulate 1.2 checkpoint folder: reported, never unpickled implicitly, imported on request."""

from __future__ import annotations

import logging
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest

from propulate import CheckpointError, ConfigurationError
from propulate.legacy import import_v12_checkpoint, load_v12_population
from propulate.results import load_results

from .local_run import run_local

DATA = Path(__file__).parents[1] / "data" / "v12"  # made by 1.2.2: see its README.md
LIMITS = {"x": (-2.0, 2.0), "n": (1, 5), "act": ("relu", "tanh")}


def loss(params: Any) -> float:  # the 1.2 run's loss
    return params["x"] ** 2 + params["n"] + (0.5 if params["act"] == "tanh" else 0.0)


@pytest.fixture
def v12_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "v12"
    shutil.copytree(DATA, folder)
    return folder


def test_reading_needs_explicit_trust(v12_folder: Path) -> None:
    with pytest.raises(ConfigurationError, match="trust=False must be True"):
        load_v12_population(v12_folder / "island_0_ckpt.pickle", LIMITS)
    with pytest.raises(ConfigurationError, match="trust"):
        import_v12_checkpoint(v12_folder, v12_folder / "new", LIMITS)


def test_the_population_of_a_12_file(v12_folder: Path) -> None:
    population = load_v12_population(v12_folder / "island_0_ckpt.pickle", LIMITS, trust=True)
    assert len(population) == 20  # 2 ranks x 10 generations
    assert sorted(ind.key for ind in population) == [(r, g) for r in (0, 1) for g in range(10)]
    for ind in population:
        assert ind.loss == pytest.approx(loss(ind)) and ind.status == "ok"


def test_only_the_classes_of_a_12_file_are_unpickled(tmp_path: Path) -> None:
    (tmp_path / "island_0_ckpt.pickle").write_bytes(pickle.dumps([os.getcwd]))
    with pytest.raises(CheckpointError, match="posix.getcwd is not part of"):
        load_v12_population(tmp_path / "island_0_ckpt.pickle", LIMITS, trust=True)


def test_a_run_reports_the_12_checkpoint_and_starts_afresh(v12_folder, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="propulate.legacy"):
        (p,) = run_local(1, v12_folder, loss, generations=2, limits=LIMITS)
    assert "checkpoint of Propulate 1.2" in caplog.text and "import_v12_checkpoint" in caplog.text
    assert len(p.population) == 2  # nothing was read from the pickle


def test_results_of_a_12_folder_point_to_the_import(v12_folder: Path) -> None:
    with pytest.raises(CheckpointError, match="import_v12_checkpoint"):
        load_results(v12_folder)


def test_an_imported_12_run_resumes(v12_folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "ours"
    assert import_v12_checkpoint(v12_folder, target, LIMITS, trust=True) == 20
    records = load_results(target)
    assert len(records) == 20 and {r["rank"] for r in records} == {0, 1}
    ranks = run_local(2, target, loss, generations=12, limits=LIMITS)
    keys = sorted(ind.key for ind in ranks[0].population)
    assert keys == [(r, g) for r in (0, 1) for g in range(12)]  # 1.2's ten, then two new each
    with pytest.raises(CheckpointError, match="already holds logs"):
        import_v12_checkpoint(v12_folder, target, LIMITS, trust=True)
