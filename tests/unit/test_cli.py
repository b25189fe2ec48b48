"""The ``propulate`` command: summary, export and plot, and its errors."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from propulate.cli import main, write_csv
from propulate.results import load_results

from .results_data import EPOCHS, EVALUATIONS, FAILED_KEY, LIMITS, make_islands, make_run

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run"))


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ----- summary ----------------------------------------------------------------------------------
def test_summary(run_dir, capsys):
    code, out, err = run(capsys, "summary", run_dir, "--top", 3)
    assert code == 0, err
    assert out.startswith(f"Checkpoint: {run_dir}\n")
    assert f"Evaluations: {EVALUATIONS} (ok {EVALUATIONS - 1}, failed 1, pruned 0)" in out
    assert "evaluations/s" in out and "workers busy" in out
    best_section = out[out.index("Best 3:") :].splitlines()
    assert len(best_section) == 1 + 1 + 3  # title, header, three rows
    best = min(r["loss"] for r in load_results(run_dir))
    assert float(best_section[2].split()[1]) == pytest.approx(best, rel=1e-5)


def test_summary_of_islands(tmp_path, capsys):
    code, out, _ = run(capsys, "summary", make_islands(tmp_path / "ck"))
    assert code == 0
    assert "on 2 islands" in out
    islands = out[out.index("Islands:") :].splitlines()
    assert islands[2].split() == ["0", "2", "5", "3", "1", "1", "1"]
    assert islands[3].split() == ["1", "1", "2", "2", "0", "0", "0.5"]


# ----- export -----------------------------------------------------------------------------------
def test_export_csv(run_dir, tmp_path, capsys):
    target = tmp_path / "sub" / "results.csv"
    code, out, err = run(capsys, "export", run_dir, "--csv", target)
    assert code == 0, err
    assert f"Wrote {EVALUATIONS} evaluations" in err
    with target.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == EVALUATIONS
    assert list(rows[0])[:5] == ["island", "rank", "generation", "status", "loss"]
    assert [c for c in rows[0] if c.startswith("params_")] == [f"params_{n}" for n in LIMITS]
    failed = [r for r in rows if (int(r["rank"]), int(r["generation"])) == FAILED_KEY]
    assert len(failed) == 1
    assert failed[0]["status"] == "failed" and math.isinf(float(failed[0]["loss"]))
    assert "boom" in failed[0]["error"] and failed[0]["curve"] == ""
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(len(json.loads(r["curve"])) == EPOCHS for r in ok)
    assert all(float(r["loss"]) == json.loads(r["curve"])[-1] for r in ok)
    assert {r["params_act"] for r in rows} <= {"relu", "tanh"}


def test_export_to_standard_output_matches_write_csv(run_dir, capsys):
    code, out, _ = run(capsys, "export", run_dir, "--csv", "-")
    assert code == 0
    expected = io.StringIO()
    write_csv(load_results(run_dir), expected)
    assert out == expected.getvalue()


def test_export_csv_reads_back_into_pandas(run_dir, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    target = tmp_path / "r.csv"
    assert run(capsys, "export", run_dir, "--csv", target)[0] == 0
    frame = pd.read_csv(target)
    assert len(frame) == EVALUATIONS
    assert frame["loss"].isin([math.inf]).sum() == 1


# ----- plot -------------------------------------------------------------------------------------
def test_plot(run_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "plots"
    code, out, err = run(
        capsys,
        "plot",
        run_dir,
        "--out",
        out_dir,
        "--format",
        "png",
        "svg",
        "--only",
        "history",
        "slices",
    )
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["history.png", "history.svg", "slices.png", "slices.svg"]
    assert sorted(Path(line).name for line in out.splitlines()) == names
    assert (out_dir / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (out_dir / "slices.svg").read_bytes()[:2000]


def test_plot_new_kinds_and_the_x_axis(run_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from matplotlib.image import imread

    out_dir = tmp_path / "plots"
    only = ["contour", "timeline", "ecdf", "history"]
    code, out, err = run(capsys, "plot", run_dir, "--out", out_dir, "--only", *only, "--x",
                         "evaluations")  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{k}.png" for k in only)
    by_evaluation = imread(out_dir / "history.png")
    code, _, err = run(capsys, "plot", run_dir, "--out", tmp_path / "t", "--only", "history")
    assert code == 0, err
    # The same data against time: a different picture.
    assert (
        by_evaluation.shape != imread(tmp_path / "t" / "history.png").shape
        or (by_evaluation != imread(tmp_path / "t" / "history.png")).any()
    )


def test_plot_help_lists_every_plot_and_the_x_axis(capsys):
    pytest.importorskip("matplotlib")
    from propulate.cli import PLOT_NAMES
    from propulate.plots import PLOTS

    assert PLOT_NAMES == tuple(PLOTS)
    with pytest.raises(SystemExit):
        main(["plot", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--x {time,evaluations}" in text and "(default: time)" in text
    assert ", ".join(PLOT_NAMES) in text


def test_version(capsys):
    from propulate import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"propulate {__version__}"


def test_plot_reports_skipped_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, out, err = run(
        capsys,
        "plot",
        make_islands(tmp_path / "ck"),
        "--out",
        tmp_path / "p",
        "--only",
        "history",
        "learning_curves",
    )
    assert code == 0
    assert out.strip().endswith("history.png")
    assert "skipped learning_curves: no learning curves" in err


def test_plot_without_matplotlib_says_what_to_install(run_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(capsys, "plot", run_dir, "--out", tmp_path)
    assert code == 1
    assert "pip install 'propulate[plots]'" in err
    assert list(tmp_path.iterdir()) == []


# ----- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command", [["summary"], ["export", "--csv", "x.csv"], ["plot", "--out", "p"]]
)
def test_a_missing_folder_fails_clearly(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, command[0], tmp_path / "missing", *command[1:])
    assert code == 1
    assert out == ""
    missing = tmp_path / "missing"
    expected = (
        f"propulate {command[0]}: error: no checkpoint folder at '{missing}': check the path."
    )
    assert err == expected + "\n"
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    "command", [["summary"], ["export", "--csv", "x.csv"], ["plot", "--out", "p"]]
)
def test_an_empty_folder_fails_clearly(command, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, command[0], empty, *command[1:])
    assert code == 1
    assert out == ""
    assert "holds no Propulate checkpoint logs (files named island-<i>-rank-<r>.ckpt)" in err
    assert err.count("\n") == 1  # one line, no traceback
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_logs_without_records_yet(tmp_path, capsys):
    (tmp_path / "island-0-rank-0.ckpt").write_bytes(b"")  # a run that just started
    code, _, err = run(capsys, "summary", tmp_path)
    assert code == 1
    assert "no evaluated individual yet" in err


def test_a_corrupt_log_fails_clearly(tmp_path, capsys):
    (tmp_path / "island-0-rank-0.ckpt").write_bytes(b"garbage, not a log")
    code, _, err = run(capsys, "summary", tmp_path)
    assert code == 1
    assert "is not a Propulate checkpoint log" in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["summary"],
        ["summary", "ck", "--top", "0"],
        ["export", "ck"],
        ["plot", "ck"],
        ["plot", "ck", "--out", "o", "--x", "steps"],
        ["frobnicate"],
    ],
)
def test_wrong_usage_exits_2(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert "usage: propulate" in capsys.readouterr().err


# ----- entry points -----------------------------------------------------------------------------
def test_python_dash_m_propulate_without_mpi(run_dir):
    # No mpirun, and mpi4py is never imported (a login node may have no MPI at all).
    code = (
        "import runpy, sys; sys.argv = ['propulate', 'summary', sys.argv[1]];"
        "sys.modules['mpi4py'] = None;"  # any import of mpi4py would now fail
        "runpy.run_module('propulate', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(run_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"Evaluations: {EVALUATIONS}" in result.stdout


def test_the_console_script_is_declared():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["propulate"] == "propulate.cli:main"
    assert {"matplotlib", "pandas"} <= {
        r.split(">")[0].split("=")[0] for r in project["optional-dependencies"]["plots"]
    }
