"""End-to-end: run tutorials/torch_ddp_example.py under mpirun: two workers of two ranks each.

MNIST comes from a local copy when one exists (``$PROPULATE_MNIST_DIR``, or ``shared/data`` in
a folder above the repository: a folder holding ``MNIST/raw/``); otherwise the script downloads
it, and the test is skipped if that fails.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from propulate.results import load_results

from .test_torch_example import skip_or_fail_without_mnist

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tutorials" / "torch_ddp_example.py"
MPIRUN = shutil.which("mpirun", path=str(Path(sys.executable).parent)) or shutil.which("mpirun")
MISSING = [name for name in ("torch", "torchvision") if importlib.util.find_spec(name) is None]
RANKS, RANKS_PER_WORKER, GENERATIONS, TRAIN_SUBSET, SEED = 4, 2, 2, 1000, 7
WORKERS = RANKS // RANKS_PER_WORKER
# One --verbose line per rank and epoch, e.g. "[3] DEBUG propulate.torch_ddp_example: Worker 1,
# rank 1 of 2, epoch 0: trained on 500 of 1000 images (shard 4218cef2fe8d); validation
# accuracy 0.6565, loss 1.1269."
EPOCH_LINE = re.compile(
    r"Worker (\d+), rank (\d+) of (\d+), epoch (\d+): trained on (\d+) of (\d+) images "
    r"\(shard (\w+)\); validation accuracy ([\d.]+)"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"tutorial dependencies missing: {MISSING}"),
    pytest.mark.skipif(MPIRUN is None, reason="needs mpirun (pip install mpich)"),
]


def local_mnist() -> Path | None:
    """A folder holding MNIST/raw/ with the original files, if this machine has one."""
    candidates = (
        [Path(os.environ["PROPULATE_MNIST_DIR"])] if "PROPULATE_MNIST_DIR" in os.environ else []
    )
    candidates += [parent / "shared" / "data" for parent in REPO.parents]
    for folder in candidates:
        if (folder / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file():
            return folder
    return None


def run_script(*options: str, launcher: list[str], timeout: float):
    return subprocess.run(
        [*launcher, sys.executable, str(SCRIPT), *options],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )


def expected_shards() -> list[list[int]]:
    """The training images (indices into the subset) each rank of a worker gets in epoch 0."""
    from torch.utils.data import DistributedSampler

    shards = []
    for rank in range(RANKS_PER_WORKER):
        sampler = DistributedSampler(
            range(TRAIN_SUBSET), num_replicas=RANKS_PER_WORKER, rank=rank, shuffle=True, seed=SEED
        )
        sampler.set_epoch(0)
        shards.append(list(sampler))
    return shards


def fingerprint(indices: list[int]) -> str:
    """The script's digest of a set of indices."""
    return hashlib.sha1(",".join(map(str, sorted(indices))).encode()).hexdigest()[:12]


def test_every_individual_is_trained_data_parallel_by_a_two_rank_worker(tmp_path):
    data = tmp_path / "data"
    source = local_mnist()
    if source is not None:
        # A writable copy: torchvision unpacks the archives next to themselves.
        shutil.copytree(source / "MNIST" / "raw", data / "MNIST" / "raw")
    checkpoint = tmp_path / "ckpt"
    # --seed 7 starts both workers with individuals that learn in one epoch (tanh and relu at
    # moderate rates), so the accuracy check does not hinge on luck; see test_torch_example.py.
    options = (
        f"--data-dir={data}",
        f"--checkpoint={checkpoint}",
        f"--generations={GENERATIONS}",
        "--epochs=1",
        f"--train-subset={TRAIN_SUBSET}",
        "--num-workers=0",
        "--gpus-per-node=0",
        f"--seed={SEED}",
        f"--ranks-per-worker={RANKS_PER_WORKER}",
        f"--num-islands={WORKERS}",  # an island per worker: migration between multi-rank workers
        "--verbose",
    )
    launcher = ["timeout", "-k", "10", "300", MPIRUN, "-n", str(RANKS)]
    result = run_script(*options, launcher=launcher, timeout=320)
    if source is None and "could not be downloaded" in result.stderr:
        skip_or_fail_without_mnist()
    assert result.returncode == 0, result.stdout + result.stderr

    # Every worker evaluated exactly its generations, on its own island, and all reached the
    # checkpoint (individuals are tagged with the worker's number, not an MPI rank).
    records = load_results(checkpoint)
    assert sorted((r["rank"], r["generation"], r["island"]) for r in records) == [
        (worker, generation, worker)
        for worker in range(WORKERS)
        for generation in range(GENERATIONS)
    ]
    losses = [r["loss"] for r in records]
    assert all(r["status"] == "ok" for r in records), records
    assert all(-1.0 <= loss <= 0.0 for loss in losses), losses  # negative accuracies
    assert min(losses) < -0.5, losses  # clearly better than chance (-0.1)
    assert "Top 1 overall" in result.stdout

    # Each evaluation logged one line per rank: both ranks of the worker trained on half the
    # subset each, on the two disjoint halves DistributedSampler makes, and agreed on the
    # accuracy, which is the individual's loss.
    lines = [m.groups() for m in EPOCH_LINE.finditer(result.stdout)]
    assert len(lines) == WORKERS * GENERATIONS * RANKS_PER_WORKER, result.stdout
    shards = expected_shards()
    assert set(shards[0]).isdisjoint(shards[1])
    assert sorted(shards[0] + shards[1]) == list(range(TRAIN_SUBSET))
    by_worker: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for worker, rank, size, epoch, seen, total, shard, accuracy in lines:
        assert (int(size), int(epoch), int(total)) == (RANKS_PER_WORKER, 0, TRAIN_SUBSET)
        assert int(seen) == TRAIN_SUBSET // RANKS_PER_WORKER
        assert shard == fingerprint(shards[int(rank)]), (rank, shard)
        by_worker[int(worker)].append((int(rank), shard, accuracy))
    assert sorted(by_worker) == list(range(WORKERS))
    for worker, entries in by_worker.items():
        # Each rank's lines keep their order (one per evaluation, in generation order).
        firsts = [accuracy for rank, _, accuracy in entries if rank == 0]
        seconds = [accuracy for rank, _, accuracy in entries if rank == 1]
        assert firsts == seconds and len(firsts) == GENERATIONS, entries
        own = sorted((r for r in records if r["rank"] == worker), key=lambda r: r["generation"])
        assert [r["loss"] for r in own] == pytest.approx([-float(a) for a in firsts], abs=1e-4)
    assert (checkpoint / "torch_ddp_example.log").is_file()

    # Other training options on the same checkpoint: refused before anything is trained.
    other = run_script(*options, "--epochs=2", launcher=launcher, timeout=320)
    assert other.returncode != 0, other.stdout + other.stderr
    assert "CheckpointError" in other.stderr and "epochs" in other.stderr, other.stderr
    assert len(load_results(checkpoint)) == len(records)


def test_a_world_size_that_does_not_split_into_workers_is_a_clear_error(tmp_path):
    # One process cannot form a worker of two ranks: the library's ConfigurationError, cleanly.
    result = run_script(
        f"--data-dir={tmp_path / 'data'}",
        f"--checkpoint={tmp_path / 'ckpt'}",
        "--ranks-per-worker=2",
        launcher=[],
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "1 ranks cannot form workers of ranks_per_worker=2" in result.stderr
    assert "launch a multiple of 2 ranks" in result.stderr
    assert not (tmp_path / "data").exists()  # stopped before touching the data
    assert not (tmp_path / "ckpt").exists()
