"""End-to-end: run the PSO, CMA-ES and Nelder-Mead tutorials under mpirun, then resume them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from propulate.checkpoint import log_files, read_log

REPO = Path(__file__).resolve().parents[2]
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
RANKS = 4

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")


def run_tutorial(name: str, *options: str) -> str:
    result = subprocess.run(
        [MPIRUN, "-n", str(RANKS), sys.executable, str(REPO / "tutorials" / name), *options],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def best_loss(output: str) -> float:
    match = re.search(r"best loss (\S+) at", output)
    assert match, output
    return float(match.group(1))


def evaluations(checkpoint: Path) -> int:
    return sum(len(read_log(path)[1]) for path in log_files(checkpoint))


@pytest.mark.parametrize(
    ("script", "options"),
    [
        ("pso_example.py", ["--variant", "canonical"]),
        ("pso_example.py", ["--variant", "clamping"]),
        ("cmaes_example.py", ["--adapter", "active", "--function", "himmelblau"]),
        ("nm_example.py", ["--function", "rosenbrock", "--scale", "0.2"]),
    ],
)
def test_tutorial_optimizes_and_resumes(script, options, tmp_path):
    checkpoint = str(tmp_path / "run")
    common = [*options, "--checkpoint", checkpoint, "--seed", "3", "--logging-interval", "0"]
    first = best_loss(run_tutorial(script, *common, "--generations", "40"))
    assert evaluations(tmp_path / "run") == 40 * RANKS
    second = best_loss(run_tutorial(script, *common, "--generations", "150"))
    assert evaluations(tmp_path / "run") == 150 * RANKS  # resumed: 110 more per rank
    assert second <= first
    # The minima are 0 (Himmelblau's four of them too); random search gets to about 5e-2 on the
    # 2-d sphere with 400 evaluations. (Four particles are a small swarm: PSO stays on the sphere.)
    # The runs are asynchronous, so timing on a loaded machine changes them: the bound leaves room.
    assert second < 2.5e-2, second
    if script != "pso_example.py":  # stateful strategies saved their state per rank
        assert len(list((tmp_path / "run").glob("*.state.json"))) == RANKS
