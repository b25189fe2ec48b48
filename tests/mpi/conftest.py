"""Fixtures for tests run under mpirun (pytest-mpi)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def shared_tmp_path():
    """A temporary folder created by rank 0 and shared with every rank."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    path = tempfile.mkdtemp(prefix="propulate-mpi-") if comm.rank == 0 else None
    path = comm.bcast(path, root=0)
    yield Path(path)
    comm.Barrier()
