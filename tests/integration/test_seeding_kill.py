"""SIGKILL a seeded (and warm-started) mpirun job again and again: each seed is evaluated once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from propulate.checkpoint import log_files, read_log
from propulate.warm_start import IMPORTED_KEY

SCRIPT = Path(__file__).parents[1] / "scripts" / "seeded_sphere.py"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
RANKS = 2


# The seeds of the script (each worker's 12 seeds take its first 12 generations).
SEEDS = [{f"x{i}": round(0.25 * k - 2.5 + 0.01 * i, 2) for i in range(4)} for k in range(24)]


def launch(checkpoint: Path, generations: int, source: Path | None = None) -> subprocess.Popen:
    extra = [str(source)] if source is not None else []
    return subprocess.Popen(
        [MPIRUN, "-n", str(RANKS), sys.executable, str(SCRIPT), str(checkpoint), str(generations),
         *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def records(checkpoint: Path) -> list:
    return [ind for path in log_files(checkpoint) for ind in read_log(path)[1]]


def wait_for_records(checkpoint: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(records(checkpoint)) >= count:
            return
        time.sleep(0.02)
    raise AssertionError("the job wrote too few records")


def test_each_seed_once_and_each_import_once_across_sigkills(tmp_path):
    old = tmp_path / "old"
    job = launch(old, 4)
    output, _ = job.communicate(timeout=120)
    assert job.returncode == 0, output
    imported = len(records(old))
    new = tmp_path / "new"
    for kill in range(3):  # killed while its seeds are being evaluated
        job = launch(new, 40, old)
        wait_for_records(new, imported + 3 + 4 * kill)
        time.sleep(0.007 * kill)
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
    job = launch(new, 20, old)
    output, _ = job.communicate(timeout=120)
    assert job.returncode == 0, output
    found = records(new)
    values = [ind.values_dict() for ind in found if IMPORTED_KEY not in ind.extras]
    for config in SEEDS:
        assert values.count(config) == 1, config
    assert sum(IMPORTED_KEY in ind.extras for ind in found) == imported  # imported once
    keys = [ind.key for ind in found]
    assert len(keys) == len(set(keys))
