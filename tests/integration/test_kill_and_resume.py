"""Kill a real mpirun job (SIGKILL / SIGTERM) and check that it resumes with every record."""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from propulate.checkpoint import log_files, read_log

SCRIPT = Path(__file__).parents[1] / "scripts" / "slow_sphere.py"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
RANKS = 2


def launch(checkpoint: Path, generations: int) -> subprocess.Popen:
    return subprocess.Popen(
        [MPIRUN, "-n", str(RANKS), sys.executable, str(SCRIPT), str(checkpoint), str(generations)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def records(checkpoint: Path) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for path in log_files(checkpoint):
        _, individuals, _, _ = read_log(path)
        for ind in individuals:
            found.setdefault(ind.rank, []).append(ind.generation)
    return found


def wait_for_records(checkpoint: Path, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(len(g) for g in records(checkpoint).values()) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the job wrote too few records")


def test_sigkill_mid_run_resumes_with_every_completed_evaluation(tmp_path):
    # Killed again and again at random moments (Propulate 1.2.2 could not resume 4 of 5 such
    # runs); every completed evaluation must survive each kill.
    before: dict[int, list[int]] = {}
    for kill in range(4):
        job = launch(tmp_path, 400)
        wait_for_records(tmp_path, sum(len(g) for g in before.values()) + 15 + 7 * kill)
        time.sleep(0.013 * kill)  # vary the moment within an evaluation
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
        now = records(tmp_path)
        for rank, generations in before.items():
            assert set(generations) <= set(now[rank])
        before = now
    assert 0 < sum(len(g) for g in before.values()) < 2 * 400

    job = launch(tmp_path, 60)
    output, _ = job.communicate(timeout=120)
    assert job.returncode == 0, output
    after = records(tmp_path)
    for rank, generations in before.items():
        # Every completed evaluation is kept, and nothing is evaluated twice.
        assert set(generations) <= set(after[rank])
        assert len(after[rank]) == len(set(after[rank]))
    for rank in range(RANKS):
        assert len(after[rank]) >= 60
    assert f"finished with {sum(len(g) for g in after.values())} individuals" in output


def test_sigterm_stops_every_rank_cleanly_and_resumes(tmp_path):
    job = launch(tmp_path, 100000)
    wait_for_records(tmp_path, 20)
    os.killpg(job.pid, signal.SIGTERM)
    output, _ = job.communicate(timeout=60)
    assert job.returncode == 0, output
    # Each rank finished its current evaluation, exchanged everything and exited normally.
    assert output.count("finished with") == RANKS
    counts = {line.split()[-2] for line in output.splitlines() if "finished with" in line}
    assert len(counts) == 1  # every rank holds the same population
    before = records(tmp_path)
    generations = max(len(g) for g in before.values()) + 3
    job = launch(tmp_path, generations)
    output, _ = job.communicate(timeout=120)
    assert job.returncode == 0, output
    after = records(tmp_path)
    for rank in range(RANKS):
        assert sorted(after[rank]) == list(range(generations))


def _kill_migration():
    """benchmarks/kill_migration.py, whose trials this test runs a few of."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "kill_migration.py"
    spec = importlib.util.spec_from_file_location("kill_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(300)
def test_after_sigkills_with_real_migration_every_individual_is_active_on_one_island(tmp_path):
    # Islands with real migration, killed twice at random moments (between an emigrant's
    # departure and its arrival, it was active on no island after the resume), then finished:
    # the short version of the 20 trials of benchmarks/kill_migration.py.
    kill_migration = _kill_migration()
    rng = random.Random(3)
    for number in range(2):
        folder = tmp_path / str(number)
        folder.mkdir()
        result = kill_migration.trial(folder, rng, ranks=4, kills=2)
        assert result["ok"], result
        assert result["population"] == result["logs"] == {"none": 0, "one": 240, "several": 0}
