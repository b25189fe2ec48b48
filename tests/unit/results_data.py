"""Small checkpoints for the results, CLI and plot tests: one from a real run, one hand-written."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from propulate.checkpoint import CheckpointLog
from propulate.population import Individual, Status
from propulate.search_space import SearchSpace

from ..integration.local_run import run_local

LIMITS = {"x": (-5.0, 5.0), "lr": (1e-4, 1e-1, "log"), "n": (1, 4), "act": ("relu", "tanh")}
PARAMS = list(LIMITS)
EPOCHS = 4
RANKS = 3
GENERATIONS = 12
EVALUATIONS = RANKS * GENERATIONS
FAILED_KEY = (1, 3)  # (rank, generation) of the one evaluation that fails


def curve_loss(params: Any):
    """A generator loss: one value per 'epoch', the last being the loss; fails exactly once."""
    if (params.rank, params.generation) == FAILED_KEY:
        raise ValueError("boom")
    base = (
        params["x"] ** 2
        + abs(math.log10(params["lr"]) + 2.0)
        + 0.1 * params["n"]
        + (0.5 if params["act"] == "tanh" else 0.0)
    )
    for epoch in range(EPOCHS):
        yield base + 1.0 / (epoch + 1)


def make_run(path: Path) -> Path:
    """A real (in-memory, multi-rank) run of ``EVALUATIONS`` evaluations, checkpointed in path."""
    run_local(RANKS, path, loss_fn=curve_loss, generations=GENERATIONS, limits=LIMITS)
    return path


def write_log(
    directory: Path, island: int, rank: int, entries: list[tuple[float, str, float, float]]
) -> None:
    """Write a log by hand: entries of (loss, status, end time, duration) for x = 0, 1, 2..."""
    space = SearchSpace(LIMITS)
    log = CheckpointLog(directory, space, island, rank)
    log.open()
    for generation, (loss, status, end, duration) in enumerate(entries):
        ind = Individual(
            {"x": float(generation % 5), "lr": 1e-3, "n": 1 + generation % 4, "act": "relu"}, space
        )
        ind.loss, ind.status = loss, status
        ind.island, ind.rank, ind.generation = island, rank, generation
        ind.evaltime, ind.evalperiod = end, duration
        log.append(ind)
    log.close()


T0 = 1_700_000_000.0


def make_islands(path: Path) -> Path:
    """Two islands, three ranks, every status, and a 1000 s pause (a stop and a resume)."""
    write_log(
        path,
        0,
        0,
        [
            (3.0, Status.OK, T0 + 1, 1.0),
            (math.inf, Status.FAILED, T0 + 2, 1.0),
            (1.0, Status.OK, T0 + 1002, 2.0),  # after the pause
        ],
    )
    write_log(path, 0, 1, [(2.0, Status.OK, T0 + 1.5, 1.5), (5.0, Status.PRUNED, T0 + 3, 1.0)])
    write_log(path, 1, 2, [(0.5, Status.OK, T0 + 2.5, 2.0), (4.0, Status.OK, T0 + 1003, 1.0)])
    return path
