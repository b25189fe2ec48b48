"""A failure on one rank of a real mpirun job ends every rank, with the error where it happened."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "scripts" / "partial_failure.py"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
RANKS, BAD_RANK = 4, 1
DEADLINE = 90  # seconds; a hang fails the test instead of blocking it


def run_job(folder: Path, fault: str, phase: str) -> tuple[int, str]:
    """Run the script under mpirun; kill the whole job and fail if it outlives the deadline.

    The checkpoint is ``folder/checkpoint``. The output returned is mpirun's, then each rank's
    from its own file (``folder/<phase>``): a rank's line never comes cut by another's.
    """
    checkpoint, out = folder / "checkpoint", folder / phase
    out.mkdir()
    args = [sys.executable, str(SCRIPT), str(checkpoint), fault, str(BAD_RANK), phase, str(out)]
    job = subprocess.Popen(
        [MPIRUN, "-n", str(RANKS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = job.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        output, _ = job.communicate()
        pytest.fail(f"{fault}: the job hung (killed after {DEADLINE} s)\n{output[-3000:]}")
    ranks = [(out / f"rank-{rank}.txt").read_text() for rank in range(RANKS)]
    return job.returncode, "\n".join([output, *ranks])


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("readonly-log", "PermissionError: [Errno 13] Permission denied"),
        ("bad-state", "rank-1.state.json: the saved run state is damaged (JSONDecodeError"),
        ("bad-rng", "rank-1.state.json: the saved run state is damaged (ValueError"),
    ],
)
def test_a_set_up_failure_on_one_rank_ends_every_rank(tmp_path, fault, error):
    code, output = run_job(tmp_path, fault, "prepare")
    assert code == 0, output
    code, output = run_job(tmp_path, fault, "run")
    assert code != 0
    # The failed rank raises its own error; no rank ran the loop: the others raise PeerError,
    # naming the failed rank and its error.
    assert "finished with" not in output, output
    assert sum(error in line for line in output.splitlines() if "PeerError" not in line) == 1
    peer_errors = [line for line in output.splitlines() if line.startswith("propulate.errors.Peer")]
    assert len(peer_errors) == RANKS - 1, output
    assert all(f"rank(s) {BAD_RANK} could not start" in line for line in peer_errors)
    assert all(error in line for line in peer_errors), peer_errors


def test_an_exception_in_the_loop_on_one_rank_ends_every_rank(tmp_path):
    code, output = run_job(tmp_path, "loss", "prepare")
    assert code == 0, output
    code, output = run_job(tmp_path, "loss", "run")
    assert code != 0
    assert f"Crash: rank {BAD_RANK} crashed in the loop" in output
    # The other ranks shut down cleanly without waiting for the crashed one.
    assert output.count("finished with") == RANKS - 1, output
