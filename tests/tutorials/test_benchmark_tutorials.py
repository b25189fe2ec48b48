"""The benchmark tutorials' command lines: run folders, refused resumes, --help, 1.2 flags."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from propulate.checkpoint import log_files, read_log
from propulate.job_lock import LAYOUT_FILE

REPO = Path(__file__).resolve().parents[2]
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
SCRIPTS = [
    "propulator_example.py",
    "islands_example.py",
    "pso_example.py",
    "cmaes_example.py",
    "nm_example.py",
]
# Options a script's help may list; the benchmark scripts share the first set.
COMMON = {
    "--help", "--function", "--dimensions", "--generations", "--seed", "--checkpoint",
    "--logging-interval", "--logging-level",
}  # fmt: skip
GA = {"--pop-size", "--crossover-probability", "--mutation-probability",
      "--random-init-probability", "--top-n", "--verbosity"}  # fmt: skip
OPTIONS = {
    "propulator_example.py": COMMON | GA | {"--warm-start"},
    "islands_example.py": COMMON | GA | {
        "--num-islands", "--migration-probability", "--num-migrants", "--pollination"
    },
    "pso_example.py": COMMON | {"--variant", "--inertia", "--cognitive", "--social", "--clamping"},
    "cmaes_example.py": COMMON | {"--adapter", "--pop-size"},
    "nm_example.py": COMMON | {"--start", "--scale"},
}  # fmt: skip


def run(
    script: str, *options: str, cwd: Path, ranks: int | None = 2
) -> subprocess.CompletedProcess:
    launcher = [MPIRUN, "-n", str(ranks)] if ranks else []
    return subprocess.run(
        [*launcher, sys.executable, str(REPO / "tutorials" / script), *options],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=cwd,
    )


def evaluations(folder: Path) -> int:
    return sum(len(read_log(path)[1]) for path in log_files(folder))


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_names_the_script_shows_defaults_and_only_hyphenated_used_options(script, tmp_path):
    result = run(script, "--help", cwd=tmp_path, ranks=None)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith(f"usage: {script} ")
    assert (
        set(re.findall(r"(?<![\w-])--[a-z][\w-]*", text.split("options:", 1)[1])) == OPTIONS[script]
    )
    assert not re.search(r"--\w+_\w+", text)  # 1.2's underscore spellings stay hidden
    assert (
        "(default: 1000)" in text
        or "(default: 100)" in text
        or "(default: 300)" in text
        or ("(default: 200)" in text)
    )
    assert "(default: sphere)" in text
    assert list(tmp_path.iterdir()) == []  # --help writes nothing


@pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
def test_a_run_writes_into_its_own_folder_and_refuses_another_function(tmp_path):
    first = run("propulator_example.py", "--generations", "6", "--logging-interval", "0",
                cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    # Nothing in the working folder but runs/, the run's folder named after it.
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]
    folder = tmp_path / "runs" / "propulator-sphere-2d"
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [folder.name]
    assert evaluations(folder) == 12
    assert (folder / "propulate.log").exists()
    config = json.loads((folder / LAYOUT_FILE).read_text())["config"]
    assert config["function"] == "sphere" and config["dimensions"] == 2
    # Rastrigin on the sphere's folder: refused, nothing added.
    other = run("propulator_example.py", "--function", "rastrigin", "--dimensions", "2",
                "--checkpoint", str(folder), "--generations", "8", cwd=tmp_path)  # fmt: skip
    assert other.returncode != 0
    assert "function: 'sphere' != 'rastrigin'" in other.stdout + other.stderr
    assert evaluations(folder) == 12
    # Rastrigin without --checkpoint gets a folder of its own; the sphere run resumes.
    assert run("propulator_example.py", "--function", "rastrigin", "--dimensions", "2",
               "--generations", "3", cwd=tmp_path).returncode == 0  # fmt: skip
    assert evaluations(tmp_path / "runs" / "propulator-rastrigin-2d") == 6
    again = run("propulator_example.py", "--generations", "9", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert evaluations(folder) == 18


@pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
def test_underscore_flags_of_1_2_still_work_and_island_settings_are_kept(tmp_path):
    result = run(
        "islands_example.py",
        *("--num_islands", "2", "--migration_probability", "0.5", "--num_migrants", "2"),
        *("--pop_size", "6", "--generations", "4", "--logging_interval", "0"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "runs" / "islands-sphere-2d"
    config = json.loads((folder / LAYOUT_FILE).read_text())["config"]
    assert (config["num_islands"], config["migration_probability"]) == (2, 0.5)
    assert (config["num_migrants"], config["pop_size"]) == (2, 6)
    # A resume with another migration setting is refused.
    other = run("islands_example.py", "--num-islands", "2", "--migration-probability", "0.5",
                "--num-migrants", "1", "--pop-size", "6", "--generations", "5",
                cwd=tmp_path)  # fmt: skip
    assert other.returncode != 0
    assert "num_migrants: 2 != 1" in other.stdout + other.stderr


@pytest.mark.skipif(MPIRUN is None, reason="needs mpirun")
def test_propulator_example_warm_starts_from_an_exported_csv(tmp_path):
    from propulate.cli import main as cli

    first = run("propulator_example.py", "--generations", "6", "--checkpoint", "first",
                "--logging-interval", "0", cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert cli(["export", str(tmp_path / "first"), "--csv", str(tmp_path / "first.csv")]) == 0
    second = run("propulator_example.py", "--generations", "3", "--checkpoint", "second",
                 "--logging-interval", "0", "--warm-start", "first.csv", cwd=tmp_path)  # fmt: skip
    assert second.returncode == 0, second.stderr
    imported = [i for p in log_files(tmp_path / "second") for i in read_log(p)[1] if i.extras]
    assert len(imported) == 12 and evaluations(tmp_path / "second") == 12 + 6


@pytest.mark.parametrize("script", ["propulator_example.py", "islands_example.py"])
@pytest.mark.parametrize("verbosity", ["0", "1"])
def test_the_ga_tutorials_finish_at_every_verbosity(script, verbosity, tmp_path):
    result = run(script, "--generations", "3", "--verbosity", verbosity, "--checkpoint",
                 str(tmp_path / "ckpt"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    if script == "propulator_example.py":  # (islands' logs also hold migration records)
        assert evaluations(tmp_path / "ckpt") == 6
