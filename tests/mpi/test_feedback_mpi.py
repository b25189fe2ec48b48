"""Feedback on long runs under mpirun: every rank's intermediate values reach the console."""

from __future__ import annotations

import logging
import random

import pytest

from propulate import Propulator, set_logger_config
from propulate.utils import get_default_propagator

LIMITS = {"x": (-1.0, 1.0), "y": (-1.0, 1.0)}
GENERATIONS = 2
EPOCHS = 3


def train(params):
    for epoch in range(1, EPOCHS + 1):
        yield (params["x"] ** 2 + params["y"] ** 2) / epoch


@pytest.mark.mpi(min_size=1)
def test_every_rank_shows_its_intermediate_values(shared_tmp_path):
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    log_file = shared_tmp_path / "run.log"
    logger = logging.getLogger("propulate")
    level = logger.level
    # The default: only rank 0 logs below WARNING, except each rank's intermediate values.
    set_logger_config(logging.INFO, log_file=log_file, log_to_stdout=False, log_rank=False)
    try:
        rng = random.Random(comm.rank)
        propulator = Propulator(
            train,
            get_default_propagator(4, LIMITS, rng=rng),
            rng,
            generations=GENERATIONS,
            checkpoint_path=shared_tmp_path / "ckpt",
        )
        propulator.propulate(logging_interval=1, debug=1, epoch_seconds=0)
    finally:
        set_logger_config(level, log_to_stdout=False)  # no handlers of ours left
    comm.Barrier()
    lines = log_file.read_text().splitlines()
    for rank in range(comm.size):
        mine = [line.split(": ", 1)[1] for line in lines if f": rank {rank} · ind " in line]
        steps = [entry.split(" · ")[1:3] for entry in mine]
        assert steps == [
            [f"ind {g}", f"epoch {e}"] for g in range(GENERATIONS) for e in range(1, EPOCHS + 1)
        ], (rank, mine)
    # Other INFO lines of the other ranks stay filtered (debug=1 logs one per rank at the start).
    starts = [line for line in lines if "starts at generation" in line]
    assert len(starts) == 1 and "Rank 0 " in starts[0], starts
    assert any("Island 0: " in line for line in lines)
