"""benchmarks/loop_budget.py: it times what it names, and adds the parts up as it says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "loop_budget.py"


def run(*arguments: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]


def test_the_parts_add_up_per_evaluation_of_the_island():
    found = run("--ranks", "3", "--known", "300", "--repeats", "3")
    parts = ("peer", "own", "record", "ga_child", "cma_ask", "cma_update")
    assert all(found[name] > 0 for name in parts)
    # An update of the distribution is real work on top of an ask (several NumPy operations
    # and an eigendecomposition): a state without the update due would time about nothing.
    assert found["cma_update"] > 0.3 * found["cma_ask"]
    expected = (
        2 * found["peer"] + found["own"] + found["record"] + 0.5 * found["ga_child"]
        + 0.5 * found["cma_ask"] + 3 / found["lambda"] * found["cma_update"]
    )  # fmt: skip
    assert found["per_evaluation"] == pytest.approx(expected)


def test_a_single_rank_is_refused_with_the_fix():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--ranks", "1"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "--ranks 1: give at least 2" in done.stderr
