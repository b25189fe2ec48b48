"""Interrupting multi-rank workers in real mpirun jobs (-n 4, ranks_per_worker=2).

The trainings (tests/scripts/multirank_epochs.py) run an allreduce per epoch on both ranks of
their worker, append every epoch each rank trains to ``trained-<rank in worker>`` in
``propulate.current_dir()`` and continue from there when resumed. A signal to one rank, the
time budget or ``max_eval_seconds`` stops both ranks of a worker at the same value (the two
files agree), the outcome is recorded once, and an interrupted evaluation is resumed first by
the next job with the same parameters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from propulate.search_space import SearchSpace
from propulate.unfinished import Unfinished

from .test_interrupt_and_resume import MPIRUN, finish, records, wait_for_records

SCRIPT = Path(__file__).parents[1] / "scripts" / "multirank_epochs.py"
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)")
RANKS, WORKERS, GENERATIONS, EPOCHS, EPOCH_SECONDS = 4, 2, 2, 20, 0.2
SPACE = SearchSpace({f"x{i}": (-5.0, 5.0) for i in range(2)})


def launch(checkpoint: Path, mode: str = "yield", max_eval: str = "none", budget: str = "none"):
    args = [str(checkpoint), str(GENERATIONS), str(EPOCHS), str(EPOCH_SECONDS), mode, max_eval,
            budget]  # fmt: skip
    return subprocess.Popen(
        [MPIRUN, "-n", str(RANKS), sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def unfinished(checkpoint: Path) -> dict[tuple[int, int], dict]:
    found = {}
    for worker in range(WORKERS):  # one journal per worker, kept by its first rank
        for entry in Unfinished(checkpoint, SPACE, 0, worker).load():
            found[entry.individual.key] = {"status": entry.status, "reason": entry.reason,
                                           "curve": entry.curve,
                                           "params": dict(entry.individual)}  # fmt: skip
    return found


def trained(checkpoint: Path) -> dict[tuple[int, int], tuple[list[int], list[int]]]:
    """The epochs each rank of the worker trained, by individual (worker, generation)."""
    found = {}
    for folder in (checkpoint / "individuals").iterdir():
        *_, worker, _, generation = folder.name.split("-")
        found[int(worker), int(generation)] = tuple(
            [int(line) for line in (folder / f"trained-{r}").read_text().split()]
            if (folder / f"trained-{r}").exists()
            else []
            for r in range(2)
        )
    return found


def pid(checkpoint: Path, rank: int) -> int:
    return int((checkpoint / "pids" / str(rank)).read_text())


def check_resumed_first(checkpoint: Path, left: dict) -> None:
    """The next job resumes ``left`` first, and every epoch is trained once on both ranks."""
    output = finish(launch(checkpoint))
    assert output.count("finished") == RANKS, output
    final = {ind.key: ind for ind in records(checkpoint)}
    assert sorted(final) == [(w, g) for w in range(WORKERS) for g in range(GENERATIONS)]
    for (worker, generation), entry in left.items():
        resumed = final[worker, generation]
        assert dict(resumed) == entry["params"]  # resumed, not bred anew
        later = [final[worker, g].evaltime for g in range(generation + 1, GENERATIONS)]
        assert all(resumed.evaltime < t for t in later)  # and first
        curve = resumed.curve
        assert len(curve) == EPOCHS and curve[: len(entry["curve"])] == entry["curve"]
    for key, (first, second) in trained(checkpoint).items():
        assert first == second == list(range(EPOCHS)), key
    assert unfinished(checkpoint) == {}
    assert all(ind.status == "ok" for ind in final.values())


@pytest.mark.parametrize("mode", ["yield", "report"])
def test_sigterm_to_one_rank_interrupts_its_workers_evaluation_on_both_ranks(tmp_path, mode):
    job = launch(tmp_path, mode)
    wait_for_records(tmp_path, WORKERS)  # both workers are in their second training now
    time.sleep(3 * EPOCH_SECONDS)
    sent = time.monotonic()
    os.kill(pid(tmp_path, 1), signal.SIGTERM)  # the second rank of worker 0 only
    output = finish(job, timeout=EPOCHS * EPOCH_SECONDS + 30)
    took = time.monotonic() - sent
    assert job.returncode == 0, output
    assert output.count("finished") == RANKS, output
    # Worker 0 stopped at its next value; worker 1 (told to stop by worker 0) finished its own.
    assert took <= EPOCHS * EPOCH_SECONDS + 10, f"the job took {took:.1f} s to end"
    left = unfinished(tmp_path)
    assert list(left) == [(0, 1)], left
    entry = left[0, 1]
    assert entry["status"] == "interrupted" and entry["reason"] == "SIGTERM"
    assert 0 < len(entry["curve"]) < EPOCHS
    # Both ranks stopped at the same value: the one recorded.
    first, second = trained(tmp_path)[0, 1]
    assert first == second == list(range(len(entry["curve"])))
    assert (0, 1) not in {ind.key for ind in records(tmp_path)}
    check_resumed_first(tmp_path, left)


def test_time_budget_interrupts_multi_rank_workers_on_both_ranks(tmp_path):
    # Ends during the first evaluations (a later one would not be started, see walltime).
    output = finish(launch(tmp_path, budget=str(EPOCHS * EPOCH_SECONDS / 2)))
    assert output.count("finished") == RANKS, output
    left = unfinished(tmp_path)
    assert sorted(left) == [(0, 0), (1, 0)], left
    for key, entry in left.items():
        assert entry["status"] == "interrupted" and entry["reason"] == "time budget"
        first, second = trained(tmp_path)[key]
        assert first == second == list(range(len(entry["curve"]))) and first, key
    check_resumed_first(tmp_path, left)


def test_max_eval_seconds_stops_multi_rank_evaluations_on_both_ranks_as_failed(tmp_path):
    limit = EPOCHS * EPOCH_SECONDS / 3
    output = finish(launch(tmp_path, max_eval=str(limit)))
    assert output.count("finished") == RANKS, output
    found = records(tmp_path)
    assert len(found) == WORKERS * GENERATIONS
    for ind in found:
        assert ind.status == "failed" and f"max_eval_seconds={limit:g}" in ind.error
        first, second = trained(tmp_path)[ind.key]
        assert first == second == list(range(len(ind.curve))), ind.key
        assert 0 < len(ind.curve) < EPOCHS
    assert unfinished(tmp_path) == {}  # failed, not resumed


def test_max_eval_seconds_alarm_ends_a_multi_rank_loss_that_never_yields(tmp_path):
    start = time.monotonic()
    output = finish(launch(tmp_path, mode="stuck", max_eval=str(EPOCHS * EPOCH_SECONDS + 2)))
    assert output.count("finished") == RANKS, output
    # Without the alarm, generation 1 would spin 20 s before its first epoch on every worker.
    assert time.monotonic() - start < 24  # about 4 s + 6 s and the start-up, else over 27 s
    statuses = {ind.key: ind.status for ind in records(tmp_path)}
    assert statuses == {(0, 0): "ok", (1, 0): "ok", (0, 1): "failed", (1, 1): "failed"}
    for worker in range(WORKERS):
        assert trained(tmp_path)[worker, 1] == ([], [])  # left before its first epoch
    assert unfinished(tmp_path) == {}


def test_a_second_sigterm_to_every_rank_leaves_a_loss_that_never_yields(tmp_path):
    job = launch(tmp_path, mode="stuck")
    wait_for_records(tmp_path, WORKERS)  # generation 1 spins 20 s without yielding
    time.sleep(1)
    os.killpg(job.pid, signal.SIGTERM)  # every rank, as SLURM sends it
    time.sleep(1)
    sent = time.monotonic()
    os.killpg(job.pid, signal.SIGTERM)
    output = finish(job, timeout=60)
    assert time.monotonic() - sent < 10, output  # not the 20 s of the stuck loss
    assert output.count("finished") == RANKS, output
    left = unfinished(tmp_path)
    assert sorted(left) == [(0, 1), (1, 1)], left
    for entry in left.values():
        assert entry["status"] == "interrupted" and entry["curve"] == []
    assert {ind.key for ind in records(tmp_path)} == {(0, 0), (1, 0)}
