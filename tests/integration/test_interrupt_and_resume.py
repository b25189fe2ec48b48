"""SIGTERM or SIGKILL a real mpirun job during multi-epoch trainings; the next job resumes them.

The trainings (tests/scripts/epochs.py) yield after every epoch and keep their progress in
``propulate.current_dir()``. Interrupted (SIGTERM) or in flight when killed (SIGKILL), they are
evaluated again first by the next job, with the same parameters, and continue where they
stopped: in the end every epoch of every individual was trained once, as in a run never
interrupted.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from propulate.checkpoint import log_files, read_log
from propulate.search_space import SearchSpace
from propulate.unfinished import Unfinished

SCRIPT = Path(__file__).parents[1] / "scripts" / "epochs.py"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
RANKS, GENERATIONS, EPOCHS, EPOCH_SECONDS = 4, 2, 40, 0.2
SPACE = SearchSpace({f"x{i}": (-5.0, 5.0) for i in range(2)})
DEADLINE = 120


def launch(checkpoint: Path) -> subprocess.Popen:
    args = [str(checkpoint), str(GENERATIONS), str(EPOCHS), str(EPOCH_SECONDS)]
    return subprocess.Popen(
        [MPIRUN, "-n", str(RANKS), sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finish(job: subprocess.Popen, timeout: float = DEADLINE) -> str:
    try:
        output, _ = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        output, _ = job.communicate()
        pytest.fail(f"the job hung (killed after {timeout} s)\n{output[-3000:]}")
    return output


def records(checkpoint: Path) -> list:
    return [ind for path in log_files(checkpoint) for ind in read_log(path)[1]]


def wait_for_records(checkpoint: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(records(checkpoint)) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the job wrote too few records")


def unfinished(checkpoint: Path) -> dict[tuple[int, int], dict]:
    found = {}
    for rank in range(RANKS):
        for entry in Unfinished(checkpoint, SPACE, 0, rank).load():
            ind = entry.individual
            found[ind.key] = {"status": entry.status, "reason": entry.reason,
                              "curve": entry.curve, "params": dict(ind)}  # fmt: skip
    return found


def trained_epochs(checkpoint: Path) -> dict[str, list[int]]:
    return {
        folder.name: [int(line) for line in (folder / "trained").read_text().split()]
        for folder in (checkpoint / "individuals").iterdir()
    }


def interrupt_and_resume(checkpoint: Path, signum: int) -> dict[tuple[int, int], dict]:
    job = launch(checkpoint)
    wait_for_records(checkpoint, RANKS)  # every rank is in its second training now
    time.sleep(3 * EPOCH_SECONDS)
    sent = time.monotonic()
    os.killpg(job.pid, signum)
    output = finish(job, timeout=EPOCH_SECONDS + 5 + 30)
    took = time.monotonic() - sent
    if signum == signal.SIGTERM:
        # Every rank left its training at the next epoch's end and shut down cleanly.
        assert job.returncode == 0, output
        assert output.count("finished with") == RANKS, output
        assert took <= EPOCH_SECONDS + 5, f"the job took {took:.1f} s to end"
    left = unfinished(checkpoint)
    assert len(left) == RANKS, left  # one training in progress per rank
    done = {ind.key for ind in records(checkpoint)}
    assert not done & set(left)

    output = finish(launch(checkpoint))
    assert output.count("finished with") == RANKS, output
    final = {ind.key: ind for ind in records(checkpoint)}
    # Every generation of every rank is recorded once.
    assert sorted(final) == [(r, g) for r in range(RANKS) for g in range(GENERATIONS)]
    for (rank, generation), entry in left.items():
        resumed = final[rank, generation]
        assert dict(resumed) == entry["params"]  # resumed, not bred anew
        later = [final[rank, g].evaltime for g in range(generation + 1, GENERATIONS)]
        assert all(resumed.evaltime < t for t in later)  # and first
    # Each training's epochs were trained once each: as many in all as without interruption.
    # Killed (SIGKILL) between the end of an epoch and the save of its progress, a training
    # trains that one epoch again when resumed, as a real one repeats its last unsaved epoch.
    epochs = trained_epochs(checkpoint)
    assert len(epochs) == RANKS * GENERATIONS
    repeats = 1 if signum == signal.SIGKILL else 0
    for name, trained in epochs.items():
        once = [epoch for i, epoch in enumerate(trained) if i == 0 or epoch != trained[i - 1]]
        assert once == list(range(EPOCHS)), (name, trained)
        assert len(trained) - EPOCHS <= repeats, (name, trained)
    assert unfinished(checkpoint) == {}
    return {key: {**entry, "final": final[key]} for key, entry in left.items()}


def test_sigterm_interrupts_trainings_which_the_next_job_resumes_first(tmp_path):
    resumed = interrupt_and_resume(tmp_path, signal.SIGTERM)
    for entry in resumed.values():
        assert entry["status"] == "interrupted" and entry["reason"] == "SIGTERM"
        assert 0 < len(entry["curve"]) < EPOCHS
        curve = entry["final"].curve
        assert len(curve) == EPOCHS and curve[: len(entry["curve"])] == entry["curve"]
    for ind in records(tmp_path):
        assert ind.status == "ok" and len(ind.curve) == EPOCHS


def test_sigkill_leaves_evaluations_in_flight_that_the_next_job_reruns_first(tmp_path):
    resumed = interrupt_and_resume(tmp_path, signal.SIGKILL)
    for entry in resumed.values():
        assert entry["status"] == "running"
        assert entry["final"].status == "ok"
