"""One job per checkpoint folder, and files created safely.

A second job on a folder in use (or processes started without mpirun, each a run of one) fails
at once on every rank and costs the first job nothing; a resume with another layout fails on
every rank before anything is written; a killed job's lock does not block its resume; planted
symlinks are never followed; checkpoint files are private.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from propulate import CheckpointError
from propulate.checkpoint import log_files, scan_log
from propulate.files import write_atomically
from propulate.job_lock import LAYOUT_FILE, Layout, claim
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, local_island, one_propulator, run_local, sphere


def _island(size, folder, generations, loss=sphere):
    def make(rank, rng):
        return get_default_propagator(4, LIMITS_3D, rng=rng)

    return local_island(size, folder, make, generations, loss_fn=loss)


def _errors_of(island) -> list[BaseException | None]:
    """Run every rank; what each one raised (``None``: it finished)."""
    errors: list[BaseException | None] = [None] * island.size

    def work(propulator):
        try:
            propulator.propulate(logging_interval=0)
        except BaseException as error:  # noqa: BLE001  # checked by the test
            errors[island.propulators.index(propulator)] = error

    island.run_threads(timeout=30, work=work)
    return errors


def _generations(folder):
    return {
        path.name: [ind.generation for ind in scan_log(path).individuals]
        for path in log_files(folder)
    }


def test_a_second_job_fails_at_once_on_every_rank_and_costs_the_first_nothing(tmp_path):
    def slow(params):
        time.sleep(0.05)
        return sphere(params)

    first = _island(2, tmp_path, 40, slow)
    thread = threading.Thread(target=first.run_threads, kwargs={"timeout": 60}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while len(log_files(tmp_path)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert thread.is_alive(), "the first job ended before the second started"

    seconds = time.monotonic()
    second = _errors_of(_island(2, tmp_path, 80))  # another mpirun with the same layout
    alone = [_errors_of(_island(1, tmp_path, 80))[0] for _ in range(3)]  # 3 without mpirun
    assert time.monotonic() - seconds < 5  # at once, no rank left waiting
    for error in second + alone:
        assert isinstance(error, CheckpointError), error
        assert "is in use by another job" in str(error) and f"by process {os.getpid()}" in str(
            error
        )
    assert "mpirun" in str(alone[0])

    thread.join(60)
    assert not thread.is_alive()
    # Nothing of the first job is lost, nothing of the second was written.
    assert _generations(tmp_path) == {
        f"island-0-rank-{rank}.ckpt": list(range(40)) for rank in range(2)
    }
    # Its locks are gone with it: the same layout resumes.
    run_local(2, tmp_path, generations=45)
    assert _generations(tmp_path) == {
        f"island-0-rank-{rank}.ckpt": list(range(45)) for rank in range(2)
    }


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.endswith(".lock")}


def test_a_resume_with_another_layout_fails_on_every_rank_before_writing(tmp_path):
    run_local(2, tmp_path, generations=4)
    before = _snapshot(tmp_path)
    for size in (3, 1):  # more ranks; one process started without mpirun
        errors = _errors_of(_island(size, tmp_path, 6))
        for error in errors:
            assert isinstance(error, CheckpointError), error
            message = str(error)
            assert "was written by a run of 2 worker(s)" in message, message
            assert f"this run has {size} worker(s)" in message, message
        assert _snapshot(tmp_path) == before  # nothing written before the check
    run_local(2, tmp_path, generations=6)  # the same layout resumes
    assert _generations(tmp_path)["island-0-rank-1.ckpt"] == list(range(6))


def test_another_island_layout_is_detected(tmp_path):
    claim(tmp_path, 0, 0, Layout(4, (2, 2))).release()
    with pytest.raises(CheckpointError, match=r"islands of \[2, 2\] workers, but this run has"):
        claim(tmp_path, 0, 0, Layout(4, (4,)))
    claim(tmp_path, 0, 0, Layout(4, None)).release()  # sizes unknown here: not compared


def test_records_of_a_rank_under_another_island_are_detected_without_a_layout_file(tmp_path):
    run_local(2, tmp_path, generations=3)
    (tmp_path / LAYOUT_FILE).unlink()  # as in a folder written before layouts were kept
    before = _snapshot(tmp_path)
    propulator = one_propulator(tmp_path, rank=1, island_idx=1)
    with pytest.raises(CheckpointError, match="holds the records of rank 1 on island 0"):
        propulator.start()
    assert _snapshot(tmp_path) == before
    # With the island sizes known, every rank finds the same mismatch (rank 0 is not moved).
    with pytest.raises(CheckpointError, match="records of rank 1 on island 0 .* on island 1"):
        claim(tmp_path, 0, 0, Layout(2, (1, 1)))
    assert _snapshot(tmp_path) == before


_HOLDER = """
import sys, time
from propulate.job_lock import Layout, claim
lock = claim(sys.argv[1], 0, 0, Layout(1))
print("locked", flush=True)
time.sleep(120)
"""


def test_a_lock_held_by_another_process_and_released_by_sigkill(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(CheckpointError, match=f"held by process {holder.pid} on "):
            claim(tmp_path, 0, 0, Layout(1))
        holder.kill()  # SIGKILL: no clean-up in the holder
        holder.wait(30)
        claim(tmp_path, 0, 0, Layout(1)).release()  # the OS released the lock
    finally:
        holder.kill()
        holder.wait(30)


def test_planted_symlinks_are_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "island-0-rank-0.ckpt").symlink_to(victim)
    with pytest.raises(CheckpointError, match="is a symbolic link"):
        run_local(1, folder, generations=2)
    assert victim.read_text() == "precious"

    folder = tmp_path / "resumed"
    run_local(1, folder, generations=2)
    state = folder / "island-0-rank-0.state.json"
    (folder / ".island-0-rank-0.state.json.tmp").symlink_to(victim)  # the old fixed temp name
    run_local(1, folder, generations=4)
    assert victim.read_text() == "precious"
    assert not state.is_symlink() and state.read_text().startswith("{")
    state.unlink()
    state.symlink_to(victim)  # at the final name
    with pytest.raises(CheckpointError, match="is a symbolic link"):
        run_local(1, folder, generations=6)
    assert victim.read_text() == "precious"
    write_atomically(state, b"{}")  # replaces a link at its target's name, never follows it
    assert victim.read_text() == "precious" and not state.is_symlink()

    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "rank-0.lock").symlink_to(victim)
    with pytest.raises(CheckpointError, match="is a symbolic link"):
        run_local(1, folder, generations=2)
    assert victim.read_text() == "precious"


def test_checkpoint_files_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        folder = tmp_path / "new" / "ckpt"
        run_local(2, folder, generations=3)
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    names = sorted(p.name for p in folder.iterdir())
    assert any(n.endswith(".ckpt") for n in names) and any(n.endswith(".state.json") for n in names)
    assert LAYOUT_FILE in names and "rank-0.lock" in names
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
