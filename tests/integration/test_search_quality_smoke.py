"""The search-quality benchmark: its table logic, and a quick run of the whole script."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "search_quality.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("search_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(medians: dict[str, float], function: str = "sphere", dimensions: int = 2):
    # Three seeds per method whose median is the given value.
    return [
        {"method": m, "function": function, "dimensions": dimensions, "best": v * f}
        for m, v in medians.items()
        for f in (0.5, 1.0, 3.0)
    ]


def test_table_names_the_best_method_and_the_shortfalls():
    bench = _load_benchmark()
    methods = ["ga", "cmaes", "tpe", "random"]
    results = _results({"ga": 2.0, "cmaes": 0.5, "tpe": 0.1, "random": 4.0})
    results += _results({"ga": 1.0, "cmaes": 3.0, "tpe": 2.0, "random": 5.0}, "ackley", 10)
    markdown, shortfalls = bench.table(results, methods, {2: 400, 10: 1000}, solved=1e-8)
    lines = markdown.splitlines()
    assert (
        lines[0] == "| function | dim | evals | GA | CMA-ES | TPE | random | best | ours >= refs |"
    )
    assert lines[2] == "| sphere | 2 | 400 | 2 | 0.5 | 0.1 | 4 | TPE | no (5x) |"
    assert lines[3] == "| ackley | 10 | 1000 | 1 | 3 | 2 | 5 | GA | yes |"
    assert shortfalls == [
        "sphere 2-d: our best, CMA-ES 0.5 (quartiles 0.375, 1), vs TPE 0.1 (quartiles 0.075, 0.2)"
    ]


def test_medians_below_the_solved_threshold_tie():
    bench = _load_benchmark()
    results = _results({"cmaes": 3e-12, "optuna-cmaes": 1e-15})
    markdown, shortfalls = bench.table(results, ["cmaes", "optuna-cmaes"], {2: 400}, solved=1e-8)
    # The best column names the lowest median; the verdict counts both as solved.
    assert markdown.splitlines()[2].endswith("| Optuna CMA-ES | yes |")
    assert shortfalls == []
    markdown, shortfalls = bench.table(results, ["cmaes", "optuna-cmaes"], {2: 400}, solved=0.0)
    assert markdown.splitlines()[2].endswith("| Optuna CMA-ES | no (3e+03x) |")
    assert len(shortfalls) == 1


def test_earlier_results_are_reused(tmp_path, monkeypatch, capsys):
    pytest.importorskip("optuna")  # main() checks for the references' library first
    bench = _load_benchmark()
    earlier = [
        {
            "method": "random",
            "function": "sphere",
            "dimensions": 2,
            "evaluations": 40,
            "seed": s,
            "best": 0.5 + s,
            "seconds": 0.0,
        }
        for s in range(2)
    ]
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps(earlier))
    monkeypatch.setattr(bench, "run_references", lambda *a: pytest.fail("ran a reference"))
    argv = ["--quick", "--functions", "sphere", "--dimensions", "2", "--methods", "random"]
    bench.main([*argv, "--reuse", str(path)])
    out = capsys.readouterr().out
    assert "random: 2 runs taken from" in out
    assert "| sphere | 2 | 40 | 1 | random |" in out
    with pytest.raises(pytest.fail.Exception, match="ran a reference"):
        bench.main([*argv, "--seeds", "3", "--reuse", str(path)])  # seed 2 is missing


def test_budgets_follow_the_dimensions():
    bench = _load_benchmark()
    assert bench.parse_arguments([]).budgets == [400, 1000]
    assert bench.parse_arguments(["--quick"]).budgets == [40, 80]
    assert bench.parse_arguments(["--quick"]).seeds == 2
    assert bench.parse_arguments(["--dimensions", "2", "5", "--budgets", "100"]).budgets == [
        100,
        100,
    ]
    assert bench.parse_arguments(["--dimensions", "5"]).budgets == [500]
    with pytest.raises(SystemExit):
        bench.parse_arguments(["--dimensions", "2", "5", "--budgets", "1", "2", "3"])


def _mpirun() -> str | None:
    beside = Path(sys.executable).parent / "mpirun"
    return str(beside) if beside.exists() else shutil.which("mpirun")


@pytest.mark.timeout(240)
def test_quick_run_prints_the_table(tmp_path):
    pytest.importorskip("optuna")
    pytest.importorskip("cmaes")
    if _mpirun() is None:
        pytest.skip("no mpirun")
    if any(v in os.environ for v in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")):
        pytest.skip("already inside an MPI job: the script starts its own mpirun")
    out = tmp_path / "results.json"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    command = [sys.executable, str(SCRIPT), "--quick", "--functions", "sphere", "--dimensions", "2"]
    command += ["--json", str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=200, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    header = "| function | dim | evals | GA | PSO | CMA-ES | NM | TPE | Optuna CMA-ES | random |"
    assert any(line.startswith(header) for line in lines), done.stdout
    rows = [line for line in lines if line.startswith("| sphere | 2 | 40 |")]
    assert len(rows) == 1, done.stdout
    assert len(rows[0].split("|")) == len(header.split("|")) + 2  # + best, ours >= refs
    results = json.loads(out.read_text())
    methods = {"ga", "pso", "cmaes", "nm", "tpe", "optuna-cmaes", "random"}
    assert {r["method"] for r in results} == methods
    assert len(results) == len(methods) * 2  # two seeds each
    for r in results:
        # Exactly the budget, for every method; sphere is >= 0 and random points are far from 0.
        assert r["evaluations"] == 40, r
        assert math.isfinite(r["best"]) and 0.0 <= r["best"] < 10.0, r
