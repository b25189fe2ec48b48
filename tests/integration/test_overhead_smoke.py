"""The overhead benchmark's two loops run under mpirun and every rank ends knowing every result."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
RANKS, GENERATIONS = 3, 40


@pytest.fixture(scope="module")
def launch():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _launch import launch
    finally:
        sys.path.remove(str(BENCHMARKS))
    return launch


@pytest.mark.parametrize("loop", ["ours", "floor"])
def test_each_loop_evaluates_its_generations_and_loses_no_result(launch, loop):
    arguments = ["--generations", str(GENERATIONS)] + (["--floor"] if loop == "floor" else [])
    result = launch(MPIRUN, RANKS, sys.executable, str(BENCHMARKS / "overhead.py"), arguments,
                    timeout=120)  # fmt: skip
    assert result is not None, "the job printed no result (its output is above)"
    assert result["evaluations"] == RANKS * GENERATIONS
    # The floor is a floor only if it does the work: every result reaches every rank.
    assert result["known_min"] == RANKS * GENERATIONS
    assert result["ckpt_bytes_per_eval"] > 0 and result["evals_per_s"] > 0


def test_calls_are_counted_per_evaluation_and_the_floor_makes_fewer(launch):
    counted = {}
    for loop in ("ours", "floor"):
        arguments = ["--generations", str(GENERATIONS), "--calls"]
        arguments += ["--floor"] if loop == "floor" else []
        result = launch(MPIRUN, RANKS, sys.executable, str(BENCHMARKS / "overhead.py"),
                        arguments, timeout=120)  # fmt: skip
        assert result is not None, "the job printed no result (its output is above)"
        counted[loop] = result["calls_per_eval"]
    # The floor's evaluation alone is a loss call, a breed and a record: dozens of calls at least.
    assert 20 < counted["floor"] < counted["ours"]
