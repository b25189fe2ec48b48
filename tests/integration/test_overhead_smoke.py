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
def run_loop():
    """Runs one loop of the benchmark under mpirun and returns its result line."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _launch import launch
        from overhead import worker_arguments
    finally:
        sys.path.remove(str(BENCHMARKS))

    def run(loop, calls=False):
        arguments = worker_arguments(loop, GENERATIONS, calls=calls)
        return launch(MPIRUN, RANKS, sys.executable, str(BENCHMARKS / "overhead.py"), arguments,
                      timeout=120)  # fmt: skip

    return run


@pytest.mark.parametrize("loop", ["ours", "floor"])
def test_each_loop_evaluates_its_generations_and_loses_no_result(run_loop, loop):
    result = run_loop(loop)
    assert result is not None, "the job printed no result (its output is above)"
    assert result["evaluations"] == RANKS * GENERATIONS
    # The floor is a floor only if it does the work: every result reaches every rank.
    assert result["known_min"] == RANKS * GENERATIONS
    assert result["ckpt_bytes_per_eval"] > 0 and result["evals_per_s"] > 0


def test_calls_are_counted_per_evaluation_and_the_floor_makes_fewer(run_loop):
    counted = {}
    for loop in ("ours", "floor"):
        result = run_loop(loop, calls=True)
        assert result is not None, "the job printed no result (its output is above)"
        counted[loop] = result["calls_per_eval"]
    # The floor's evaluation alone is a loss call, a breed and a record: dozens of calls at least.
    assert 20 < counted["floor"] < counted["ours"]
