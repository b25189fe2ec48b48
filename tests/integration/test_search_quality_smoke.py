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
    # Registered first: dataclasses look their module up while the class is being built.
    sys.modules[spec.name] = module
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
    methods = ["ga", "cmaes", "tpe-optuna", "random"]
    results = _results({"ga": 2.0, "cmaes": 0.5, "tpe-optuna": 0.1, "random": 4.0})
    results += _results({"ga": 1.0, "cmaes": 3.0, "tpe-optuna": 2.0, "random": 5.0}, "ackley", 10)
    markdown, shortfalls = bench.table(results, methods, {2: 400, 10: 1000}, solved=1e-8)
    lines = markdown.splitlines()
    assert lines[0] == (
        "| function | dim | evals | GA | CMA-ES | Optuna TPE | random | best | ours >= refs |"
    )
    assert lines[2] == "| sphere | 2 | 400 | 2 | 0.5 | 0.1 | 4 | Optuna TPE | no (5x) |"
    assert lines[3] == "| ackley | 10 | 1000 | 1 | 3 | 2 | 5 | GA | yes |"
    assert shortfalls == [
        "sphere 2-d: our best, CMA-ES 0.5 (quartiles 0.375, 1), "
        "vs Optuna TPE 0.1 (quartiles 0.075, 0.2)"
    ]


def test_summary_normalizes_regret_by_random_search_and_counts_wins():
    bench = _load_benchmark()
    # Medians: sphere ga 2, tpe-optuna 1, random 4; best run of all 0.5 (tpe-optuna's 0.5 x 1).
    results = _results({"ga": 2.0, "tpe-optuna": 1.0, "random": 4.0})
    results += _results({"ga": 3.0, "tpe-optuna": 3.0 * (1 + 1e-12), "random": 3.0}, "ackley")
    losses = bench.losses_by_row(results, "continuous")
    summary = bench.summarize(losses, ["ga", "tpe-optuna", "random"])
    assert summary.rows == 2
    # sphere: (2 - 0.5) / (4 - 0.5); ackley: every median 3, best 1.5, so (3 - 1.5) / 1.5.
    ga, count, median = summary.regret["ga"]
    assert count == 2 and math.isclose(ga, (1.5 / 3.5 + 1.0) / 2) and math.isclose(median, ga)
    assert math.isclose(summary.regret["random"][0], 1.0)
    # ackley's medians differ by 1e-12 relative: a tie.
    assert summary.record["ga", "tpe-optuna"] == [0, 1, 1]
    assert summary.record["ga", "random"] == [1, 1, 0]
    printed = bench.format_summary(summary, ["ga", "tpe-optuna", "random"], "rows")
    assert "| GA | 0/1/1 | 1/1/0 | 0 of 2 |" in printed


def test_runs_a_strategy_rejected_are_not_applicable():
    bench = _load_benchmark()
    results = _results({"ga": 2.0, "random": 4.0})
    results += [
        {"method": "pso", "function": "sphere", "dimensions": 2, "best": None} for _ in range(3)
    ]
    markdown, _ = bench.table(results, ["ga", "pso", "random"], {2: 400}, solved=1e-8)
    assert markdown.splitlines()[2] == "| sphere | 2 | 400 | 2 | n/a | 4 | GA | yes |"
    summary = bench.summarize(bench.losses_by_row(results, "continuous"), ["ga", "pso", "random"])
    assert "pso" not in summary.regret
    assert summary.record["pso", "random"] == [0, 0, 0]


def test_old_json_files_name_optunas_tpe_tpe(tmp_path):
    bench = _load_benchmark()
    old = tmp_path / "old.json"
    old.write_text(json.dumps([{"method": "tpe", "function": "sphere"}, {"method": "ga"}]))
    new = tmp_path / "new.json"
    new.write_text(json.dumps({"format_version": 2, "runs": [{"method": "tpe"}]}))
    assert [r["method"] for r in bench.load_runs([old, new])] == ["tpe-optuna", "ga", "tpe"]


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


def test_reuse_only_tabulates_stored_runs_and_runs_nothing(tmp_path, monkeypatch, capsys):
    pytest.importorskip("optuna")
    bench = _load_benchmark()
    earlier = [
        {"method": m, "problem": "mixed_sphere", "evaluations": 40, "seed": s, "best": b + s}
        for m, b in (("random", 2.0), ("tpe-optuna", 1.0))
        for s in range(2)
    ]
    path = tmp_path / "earlier.json"
    path.write_text(json.dumps({"format_version": 2, "runs": earlier}))
    monkeypatch.setattr(bench, "run_references", lambda *a: pytest.fail("ran a reference"))
    monkeypatch.setattr(bench, "run_strategy", lambda *a: pytest.fail("ran a strategy"))
    argv = ["--suite", "mixed", "--quick", "--problems", "mixed_sphere", "synth_svm"]
    argv += ["--methods", "ga", "tpe-optuna", "random", "--reuse", str(path), "--reuse-only"]
    bench.main(argv)
    out = capsys.readouterr().out
    assert "GA: 0 runs taken from" in out and "4 missing left out" in out
    assert "| mixed_sphere | 6 | - | 1.5 | 2.5 | Optuna TPE |" in out
    assert "| synth_svm | 6 | - | - | - | - |" in out


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
    mixed = bench.parse_arguments(["--suite", "mixed"])
    assert (mixed.budgets, mixed.seeds, mixed.problems) == (
        [200],
        5,
        list(bench.hpo_problems().PROBLEMS),
    )
    assert "optuna-gp" in mixed.methods and "optuna-gp" not in bench.parse_arguments([]).methods
    quick = bench.parse_arguments(["--suite", "mixed", "--quick"])
    assert (quick.budgets, quick.seeds) == ([40], 2)
    with pytest.raises(SystemExit):
        bench.parse_arguments(["--problems", "mixed_sphere"])  # the continuous suite's


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
    header = next((line for line in lines if line.startswith("| function | dim | evals |")), "")
    columns = [cell.strip() for cell in header.split("|")]
    for name in ("GA", "default", "PSO", "CMA-ES", "NM", "Optuna TPE", "random"):
        assert name in columns, done.stdout
    rows = [line for line in lines if line.startswith("| sphere | 2 | 40 |")]
    assert len(rows) == 1, done.stdout
    assert len(rows[0].split("|")) == len(header.split("|"))
    results = json.loads(out.read_text())["runs"]
    methods = {"ga", "default", "pso", "cmaes", "nm", "tpe-optuna", "optuna-cmaes", "random"}
    if "TPE (tpe): unavailable" not in done.stdout:
        methods.add("tpe")  # our TPE, where this version of Propulate has it
    if "(hybrid): unavailable" not in done.stdout:
        methods.add("hybrid")
    assert {r["method"] for r in results} == methods
    assert len(results) == len(methods) * 2  # two seeds each
    for r in results:
        # Exactly the budget, for every method; sphere is >= 0 and random points are far from 0.
        assert r["evaluations"] == 40, r
        assert math.isfinite(r["best"]) and 0.0 <= r["best"] < 10.0, r


MIXED_PROBLEMS = ("mixed_sphere", "synth_svm", "sk_logreg_breast_cancer")


@pytest.mark.timeout(240)
def test_quick_mixed_run_prints_the_table_and_summary(tmp_path):
    pytest.importorskip("optuna")
    pytest.importorskip("sklearn")
    if _mpirun() is None:
        pytest.skip("no mpirun")
    if any(v in os.environ for v in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")):
        pytest.skip("already inside an MPI job: the script starts its own mpirun")
    out = tmp_path / "results.json"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    command = [sys.executable, str(SCRIPT), "--suite", "mixed", "--quick"]
    command += ["--problems", *MIXED_PROBLEMS, "--methods", "ga", "random", "--json", str(out)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=200, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "| problem | dim | GA | random | best |" in lines, done.stdout
    for problem in MIXED_PROBLEMS:
        row = next(line for line in lines if line.startswith(f"| {problem} |"))
        medians = [float(cell) for cell in row.strip("|").split("|")[2:4]]
        assert all(math.isfinite(m) for m in medians), row
    regret = next(line for line in lines if line.strip().startswith("GA ") and "problems" in line)
    assert math.isfinite(float(regret.split()[1])), regret
    assert any(line.startswith("| GA | ") and line.count("/") == 2 for line in lines), done.stdout
    document = json.loads(out.read_text())
    assert document["suite"] == "mixed"
    runs = document["runs"]
    assert len(runs) == 2 * len(MIXED_PROBLEMS) * 2  # two methods, two seeds each
    for r in runs:
        assert r["evaluations"] == 40 and math.isfinite(r["best"]), r
    assert set(document["statistics"]) == set(MIXED_PROBLEMS)
    # Every run is kept: a second call reuses them all and runs nothing.
    again = subprocess.run(
        [*command[:-2], "--reuse", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "GA: 6 runs taken from" in again.stdout and "random: 6 runs taken from" in again.stdout


def test_optuna_suggestions_follow_the_limits():
    optuna = pytest.importorskip("optuna")
    bench = _load_benchmark()
    hpo = bench.hpo_problems()
    limits = {
        "n": (1, 8),
        "batch": (16, 512, "log"),
        "x": (2.0, -1.0),  # Propulate accepts reversed bounds; Optuna gets them sorted
        "lr": (1e-5, 1e-1, "log"),
        "act": ("relu", "tanh"),
    }
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    params = hpo.suggest(trial, limits)
    distributions = trial.distributions
    assert isinstance(params["n"], int) and not distributions["n"].log
    assert isinstance(params["batch"], int) and distributions["batch"].log
    assert (distributions["x"].low, distributions["x"].high) == (-1.0, 2.0)
    assert distributions["lr"].log and isinstance(params["lr"], float)
    assert distributions["act"].choices == ("relu", "tanh")
