"""Which accelerator a rank trains on: chosen by its rank on its node, never its global rank.

A batch system places ranks on nodes in blocks (``0 1 2 3 | 4 5 6 7``) or cyclically
(``0 2 4 6 | 1 3 5 7``), and may hide all but one GPU from each task (``srun --gpus-per-task=1``
sets ``CUDA_VISIBLE_DEVICES`` per task). ``rank % gpus_per_node`` is right only for the first of
these; :func:`select_device` is right for all of them: it groups the ranks by host and by the GPUs
they see, and gives the ``k``-th rank of a group the GPU ``k mod visible`` of that group.

Every rank calls it, collectively, over a communicator of the ranks that share out the GPUs (by
default ``MPI.COMM_WORLD``), through :class:`~propulate.comm.Collectives`: it gathers one host
name and one ``CUDA_VISIBLE_DEVICES`` text per rank and does no other communication.

For example, in a training script::

    placement = propulate.devices.select_device()
    trainer = Trainer(accelerator=placement.accelerator, devices=placement.devices)
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .comm import Collectives
from .errors import ConfigurationError
from .validation import check_int

__all__ = ["Placement", "select_device", "visible_gpus"]

log = logging.getLogger("propulate")

#: Values of ``CUDA_VISIBLE_DEVICES`` that hide every GPU.
_NONE_VISIBLE = ("", "-1", "NoDevFiles", "none")


@dataclass(frozen=True)
class Placement:
    """Where one rank trains.

    Attributes
    ----------
    host : str
        The rank's host name.
    local_rank : int
        Its position among the ranks on its host (ordered by rank in the communicator).
    local_size : int
        How many ranks of the communicator run on its host.
    gpu : int or None
        The index of its GPU among those the process sees (``None``: the CPU).
    sharing : int
        How many ranks of the host train on the same GPU (1: a GPU of its own; 0 on the CPU).
    """

    host: str
    local_rank: int
    local_size: int
    gpu: int | None
    sharing: int

    @property
    def torch_device(self) -> str:
        """``"cuda:<gpu>"`` or ``"cpu"``, for ``torch.device``."""
        return "cpu" if self.gpu is None else f"cuda:{self.gpu}"

    @property
    def accelerator(self) -> str:
        """``"gpu"`` or ``"cpu"``, for Lightning's ``Trainer(accelerator=...)``."""
        return "cpu" if self.gpu is None else "gpu"

    @property
    def devices(self) -> list[int] | int:
        """``[gpu]``, or ``1`` (one process) on the CPU, for ``Trainer(devices=...)``."""
        return 1 if self.gpu is None else [self.gpu]


def visible_gpus(environ: Mapping[str, str] | None = None) -> int:
    """How many GPUs this process may use.

    ``CUDA_VISIBLE_DEVICES``, where set, decides (its entries, or none for ``""``/``-1``);
    otherwise PyTorch's count if PyTorch is installed, else 0.
    """
    environ = os.environ if environ is None else environ
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        entries = [entry.strip() for entry in listed.split(",")]
        if entries[0] in _NONE_VISIBLE:
            return 0
        return len([entry for entry in entries if entry])
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def select_device(
    comm: Any = None,
    *,
    gpus: int | None = None,
    worker_comm: Any = None,
    host: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Placement:
    """Choose this rank's GPU by its rank on its node (collective over ``comm``).

    Parameters
    ----------
    comm : MPI.Comm or Collectives, optional
        The ranks that share out the GPUs; every one of them must call this. By default
        ``MPI.COMM_WORLD``. (Anything with ``rank``, ``size`` and ``allgather``, such as the
        in-memory transport, works too.)
    gpus : int, optional
        Use this many GPUs per rank's view instead of counting them (:func:`visible_gpus`);
        0 places every rank on the CPU.
    worker_comm : MPI.Comm or Collectives, optional
        The rank's multi-rank worker (the ``subgroup_comm`` a loss function receives). Its ranks
        must all run on one host, or this raises, on every rank of the worker.
    host : str, optional
        This rank's host name (default: ``socket.gethostname()``).
    environ : Mapping, optional
        The environment to read ``CUDA_VISIBLE_DEVICES`` from (default ``os.environ``).

    Returns
    -------
    Placement
        This rank's host, position on it and GPU.

    Raises
    ------
    ConfigurationError
        If ``gpus`` is not an int >= 0, or a worker's ranks run on several hosts.
    """
    if gpus is not None:
        gpus = check_int("select_device", "gpus", gpus, 0, example=4)
    environ = os.environ if environ is None else environ
    host = socket.gethostname() if host is None else host
    visible = environ.get("CUDA_VISIBLE_DEVICES", "*")
    count = visible_gpus(environ) if gpus is None else gpus
    collectives = _collectives(comm)
    everyone = collectives.allgather((host, visible, count))
    me = collectives.rank
    on_host = [rank for rank, (name, _, _) in enumerate(everyone) if name == host]
    # Ranks that see the same GPUs share them out; a rank that sees GPUs of its own (a
    # different CUDA_VISIBLE_DEVICES) is in a group of its own.
    same_view = [rank for rank in on_host if everyone[rank][1] == visible]
    if worker_comm is not None:
        _check_one_host(_collectives(worker_comm), host)
    local_rank = on_host.index(me)
    if count == 0:
        placement = Placement(host, local_rank, len(on_host), None, 0)
    else:
        position = same_view.index(me)
        gpu = position % count
        sharing = len(same_view[gpu::count])  # the ranks of this view given this GPU
        placement = Placement(host, local_rank, len(on_host), gpu, sharing)
        if position == 0 and len(same_view) > count:
            log.info(
                "%d ranks on %s share %d visible GPU(s): up to %d per GPU.",
                len(same_view), host, count, sharing,
            )  # fmt: skip
    return placement


def _collectives(comm: Any) -> Collectives:
    """A :class:`~propulate.comm.Collectives` for ``comm`` (MPI communicators are wrapped)."""
    if comm is None or not hasattr(comm, "allgather") or hasattr(comm, "Get_rank"):
        from .comm.mpi import MPICollectives, world

        return MPICollectives(world() if comm is None else comm)
    return comm  # type: ignore[no-any-return]  # duck-typed: rank, size, allgather


def _check_one_host(worker: Collectives, host: str) -> None:
    """Raise on every rank of a multi-rank worker whose ranks run on several hosts."""
    hosts = worker.allgather(host)
    if len(set(hosts)) > 1:
        spread = ", ".join(f"rank {rank} on {name}" for rank, name in enumerate(hosts))
        raise ConfigurationError(
            f"select_device: a multi-rank worker spans several hosts ({spread}). Choose "
            "ranks_per_worker so that it divides the ranks per node, and place ranks in blocks "
            "(e.g. srun --distribution=block), so each worker's ranks share a node."
        )
