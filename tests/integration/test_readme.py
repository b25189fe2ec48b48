"""The README's commands where they are cheap: its example, then what it says to run after a job."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def after_the_job() -> list[list[str]]:
    """The commands of the README block that starts with activating the environment."""
    (block,) = [b for b in blocks("bash") if b.startswith("source .venv/bin/activate")]
    lines = [line.split("#")[0].strip() for line in block.splitlines()[1:]]
    return [shlex.split(line) for line in lines if line]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_commands_after_the_job_name_its_run_folder_and_installed_programs():
    mnist = (REPO / "scripts" / "mnist.sh").read_text()
    (folder,) = re.findall(r"PROPULATE_CHECKPOINT:-\$ROOT/([\w-]+)", mnist)
    commands = after_the_job()
    assert [c[0] for c in commands] == ["propulate", "propulate", "tensorboard"]
    assert all(folder in command for command in commands)
    for program in {c[0] for c in commands}:
        assert (BIN / program).exists(), f"{program} is not installed beside {sys.executable}"


def test_the_example_runs_and_the_commands_after_it_work_on_its_folder(tmp_path):
    (example,) = blocks("python")
    script = tmp_path / "script.py"
    script.write_text(example)
    done = run([sys.executable, str(script)], tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "ckpt").is_dir()
    for command in after_the_job():
        if command[0] != "propulate":
            continue  # tensorboard serves until stopped
        arguments = [a if a != "ckpt-mnist" else "ckpt" for a in command[1:]]
        done = run([sys.executable, "-m", "propulate", *arguments], tmp_path)
        assert done.returncode == 0, " ".join(command) + "\n" + done.stdout + done.stderr
    assert any((tmp_path / "plots").glob("*.png"))
