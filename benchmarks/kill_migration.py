"""SIGKILL and resume with real migration: is every individual active on exactly one island?

Driver (default): runs ``--trials`` trials, each in a fresh checkpoint folder, and prints one line
per trial and a total::

    python benchmarks/kill_migration.py                   # 20 trials, 4 ranks, 2 islands
    python benchmarks/kill_migration.py --trials 3 --kills 1

A trial starts an ``mpirun`` job of ``Islands`` with real migration (``pollination=False``,
``migration_probability=0.9``, a 5 ms loss), kills the whole job with SIGKILL at a random moment
(after a random number of records, plus a random fraction of an evaluation), ``--kills`` times,
each time resuming from the same folder, then lets a last job finish. The last job's ranks
report their populations; the trial checks that

* the workers of each island agree on the island's active individuals,
* every individual evaluated (found in any log or population) is active on exactly one island,
  both in the last job's populations and in the islands' views read back from the logs (the
  newest record of an individual in an island's logs).

Worker mode (run by the driver under mpirun)::

    python benchmarks/kill_migration.py --worker CKPT GENERATIONS OUT.json

It does not use ``benchmarks/_launch.py``, which runs each job to its end in a fresh folder: here
jobs are killed mid-run and resumed in one folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

LIMITS = {f"x{i}": (-5.0, 5.0) for i in range(4)}
GENERATIONS = 60  # per rank, in every job (counting the earlier jobs' evaluations)
TIMEOUT = 120.0  # seconds a job may take before the trial counts as hung


def worker(checkpoint: str, generations: int, out: str) -> None:
    """One rank of a job: islands with real migration; the last job writes what it holds."""
    from mpi4py import MPI

    from propulate import Islands
    from propulate.utils import get_default_propagator

    def loss(params: Any) -> float:
        time.sleep(0.005)
        return sum(v * v for v in params.values())

    comm = MPI.COMM_WORLD
    rng = random.Random(comm.rank)
    islands = Islands(
        loss,
        get_default_propagator(4, LIMITS, rng=rng),
        rng,
        generations=generations,
        num_islands=2,
        migration_probability=0.9,
        pollination=False,
        checkpoint_path=checkpoint,
    )
    islands.propulate(logging_interval=0, debug=0)
    population = islands.propulator.population
    mine = {
        "island": islands.island_idx,
        "active": sorted(list(ind.key) for ind in population if ind.active),
        "known": sorted(list(ind.key) for ind in population),
    }
    views = comm.gather(mine)
    if comm.rank == 0:
        Path(out).write_text(json.dumps(views))


def _mpirun() -> str:
    found = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
    if found is None:
        raise SystemExit("needs mpirun (pip install mpich)")
    return found


def _launch(ranks: int, checkpoint: Path, out: Path) -> subprocess.Popen[str]:
    command = [_mpirun(), "-n", str(ranks), sys.executable, str(Path(__file__).resolve())]
    command += ["--worker", str(checkpoint), str(GENERATIONS), str(out)]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a SIGKILL reaches every rank
    )


def _log_views(checkpoint: Path) -> tuple[dict[int, set[tuple[int, int]]], set[tuple[int, int]]]:
    """Each island's active individuals as its logs say (newest record per island), and all."""
    from propulate.checkpoint import log_files, read_log

    newest: dict[int, dict[tuple[int, int], tuple[int, bool]]] = {}
    everyone: set[tuple[int, int]] = set()
    for path in log_files(checkpoint):
        header, individuals, _, _ = read_log(path)
        if header is None:
            continue
        view = newest.setdefault(int(header["island"]), {})
        for ind in individuals:
            if ind.status == "pending":
                continue
            everyone.add(ind.key)
            if ind.key not in view or ind.migration_steps >= view[ind.key][0]:
                view[ind.key] = (ind.migration_steps, bool(ind.active))
    active = {
        island: {key for key, (_, on) in view.items() if on} for island, view in newest.items()
    }
    return active, everyone


def _count(active: dict[int, set[Any]], everyone: set[Any]) -> dict[str, int]:
    """How many individuals are active on no island, on one, and on more than one."""
    per_key = Counter(key for keys in active.values() for key in keys)
    counts = [per_key.get(key, 0) for key in everyone | set(per_key)]
    return {
        "none": sum(c == 0 for c in counts),
        "one": sum(c == 1 for c in counts),
        "several": sum(c > 1 for c in counts),
    }


def trial(folder: Path, rng: random.Random, ranks: int = 4, kills: int = 2) -> dict[str, Any]:
    """Kill a migrating job ``kills`` times at random, resume, let it finish, and check.

    Returns
    -------
    dict
        ``killed_at`` (records on disk at each kill), ``evaluations``, the counts of
        :func:`_count` for the populations (``population``) and the logs (``logs``),
        ``disagree`` (islands whose workers disagree), ``ok`` (all checks passed) and
        ``output`` (the last job's output, when it failed).
    """
    out = folder / "views.json"
    killed_at = []
    total = ranks * GENERATIONS
    for _ in range(kills):
        job = _launch(ranks, folder, out)
        # Kill after a random share of the remaining evaluations, at a random point of one.
        done = len(_log_views(folder)[1])
        target = done + rng.randint(1, max(1, (total - done) // 2))
        deadline = time.monotonic() + TIMEOUT
        while len(_log_views(folder)[1]) < target and job.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.01))
        os.killpg(job.pid, signal.SIGKILL)
        job.wait(30)
        killed_at.append(len(_log_views(folder)[1]))
    job = _launch(ranks, folder, out)
    try:
        output, _ = job.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        output, _ = job.communicate()
        return {"killed_at": killed_at, "ok": False, "output": "hung:\n" + output[-3000:]}
    if job.returncode != 0 or not out.exists():
        return {"killed_at": killed_at, "ok": False, "output": output[-3000:]}
    views = json.loads(out.read_text())
    islands: dict[int, set[tuple[int, int]]] = {}
    disagree = set()
    known: set[tuple[int, int]] = set()
    for view in views:
        active = {tuple(key) for key in view["active"]}
        known |= {tuple(key) for key in view["known"]}
        if islands.setdefault(view["island"], active) != active:
            disagree.add(view["island"])
    log_active, logged = _log_views(folder)
    everyone = known | logged
    population = _count(islands, everyone)
    logs = _count(log_active, everyone)
    ok = not disagree and population["one"] == logs["one"] == len(everyone) == total
    return {
        "killed_at": killed_at,
        "evaluations": len(everyone),
        "population": population,
        "logs": logs,
        "disagree": sorted(disagree),
        "ok": ok,
        "output": "" if ok else output[-3000:],
    }


def main() -> None:
    """Run the trials and print one line each and a total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--ranks", type=int, default=4)
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs per trial")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", nargs=3, metavar=("CKPT", "GENERATIONS", "OUT"))
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.worker[2])
        return
    rng = random.Random(args.seed)
    passed = 0
    for number in range(args.trials):
        with tempfile.TemporaryDirectory() as folder:
            result = trial(Path(folder), rng, args.ranks, args.kills)
        passed += bool(result["ok"])
        summary = {k: v for k, v in result.items() if k != "output"}
        print(f"trial {number + 1}: {json.dumps(summary)}", flush=True)
        if not result["ok"]:
            print(result["output"], flush=True)
    print(
        f"{passed} of {args.trials} trials: every individual active on exactly one island "
        f"({args.ranks} ranks, 2 islands, real migration, {args.kills} SIGKILLs per trial)"
    )


if __name__ == "__main__":
    main()
