"""benchmarks/loop_cpu.py: its digest pins the results, so its times compare run against run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "loop_cpu.py"


def run(seed: int) -> dict:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--ranks", "3", "--generations", "60", "--repeats", "2",
         "--seed", str(seed)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]


def test_the_digest_is_the_seeds_and_the_time_is_measured():
    first, again, other = run(0), run(0), run(1)
    assert first["digest"] == again["digest"]  # the same results: a data-path change keeps it
    assert first["digest"] != other["digest"]  # and it is the results' (another seed's differ)
    assert 0 < first["cpu_us_per_eval"] < 1e5
