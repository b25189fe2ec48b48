"""One job per checkpoint folder: a lock per worker, and the layout the folder was written with.

Before a worker writes anything it takes an exclusive lock on ``<checkpoint_path>/rank-<r>.lock``
(``r``: its rank in the whole run) and compares the run's layout (the number of workers and the
island sizes; not the ranks per worker, which may differ between workers and do not change where
records go) with the one kept in ``<checkpoint_path>/propulate-run.json``. A second job on the
same folder (another ``mpirun``, or processes started without ``mpirun``, each of which is rank 0
of a run of one) finds a lock held or another layout and fails at once with
:class:`~propulate.errors.CheckpointError`, on every rank: each rank decides alone, from the
folder, before any communication, so none is left waiting for another.

The locks are ``flock`` advisory locks held by the process; the operating system releases them
when the process ends, even by SIGKILL, so a crashed job never blocks its resume (the lock files
stay, empty of meaning). On network file systems ``flock`` works across nodes on NFS (Linux
emulates it with POSIX locks) and on Lustre mounted with ``-o flock``; with ``-o localflock`` it
only excludes jobs on the same node, and where the file system has no locks at all a warning says
that the folder is not protected.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CheckpointError
from .files import FILE_MODE, create_exclusively, make_folder, refuse_symlink
from .validation import fail

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the layout check still runs
    fcntl = None  # type: ignore[assignment]  # the module or nothing

__all__ = ["Layout", "JobLock", "claim", "canonical_config", "checked_run_config", "LAYOUT_FILE"]

log = logging.getLogger(__name__)

LAYOUT_FILE = "propulate-run.json"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_UNSUPPORTED_WARNED = False


@dataclass(frozen=True)
class Layout:
    """How a run spreads over ranks.

    Attributes
    ----------
    workers : int
        Workers in the whole run (the size of the communicator across islands).
    island_sizes : tuple of int, optional
        Workers per island, where known (``None``: islands set up by the caller's own
        communicators, without migration).
    config : str, optional
        The run's configuration (the ``run_config`` of :class:`~propulate.Propulator`) as
        canonical JSON, where given.
    objectives : str, optional
        The declared objectives (:meth:`propulate.objectives.Objectives.to_header`) as canonical
        JSON, ``"null"`` when none were declared; ``None`` where unknown (a folder written
        before the declaration was kept here).
    """

    workers: int
    island_sizes: tuple[int, ...] | None = None
    config: str | None = None
    objectives: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The layout as plain JSON."""
        sizes = None if self.island_sizes is None else list(self.island_sizes)
        data: dict[str, Any] = {"workers": self.workers, "island_sizes": sizes}
        if self.config is not None:
            data["config"] = json.loads(self.config)
        if self.objectives is not None:
            data["objectives"] = json.loads(self.objectives)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        """Read a layout written by :meth:`to_json`."""
        sizes = data.get("island_sizes")
        config = data.get("config")
        return cls(
            int(data["workers"]),
            None if sizes is None else tuple(int(s) for s in sizes),
            None if config is None else canonical_config(config),
            canonical_config(data["objectives"]) if "objectives" in data else None,
        )

    def config_differences(self, other: Layout) -> list[str]:
        """The configuration entries that differ from ``other``'s (none unless both have one)."""
        if self.config is None or other.config is None or self.config == other.config:
            return []
        mine, theirs = json.loads(self.config), json.loads(other.config)
        if not (isinstance(mine, dict) and isinstance(theirs, dict)):
            return [f"{mine!r} != {theirs!r}"]
        missing = object()
        return [
            f"{key}: {mine.get(key, missing)!r} != {theirs.get(key, missing)!r}".replace(
                repr(missing), "(not set)"
            )
            for key in sorted(set(mine) | set(theirs))
            if mine.get(key, missing) != theirs.get(key, missing)
        ]

    def differs_from(self, other: Layout) -> bool:
        """Whether ``other`` is another layout (island sizes compared where both are known)."""
        if self.workers != other.workers:
            return True
        known = self.island_sizes is not None and other.island_sizes is not None
        return known and self.island_sizes != other.island_sizes

    def island_of_worker(self) -> list[int] | None:
        """The island of each worker, in rank order, if the island sizes are known."""
        if self.island_sizes is None:
            return None
        return [i for i, size in enumerate(self.island_sizes) for _ in range(size)]

    def describe(self) -> str:
        """The layout in words."""
        text = f"{self.workers} worker(s)"
        if self.island_sizes is not None:
            text += f", islands of {list(self.island_sizes)} workers"
        return text


class JobLock:
    """The lock of one worker on a checkpoint folder (see the module's description).

    Parameters
    ----------
    directory : Path
        The checkpoint folder.
    rank : int
        The worker's rank in the whole run.
    """

    def __init__(self, directory: Path, rank: int) -> None:
        self.path = directory / f"rank-{rank}.lock"
        self.rank = rank
        self._handle: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`CheckpointError` if another process holds it."""
        try:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, FILE_MODE)
        except OSError:
            refuse_symlink(self.path)
            raise
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(handle)
                os.close(handle)
                raise CheckpointError(
                    f"checkpoint_path='{self.path.parent}' is in use by another job: the lock of "
                    f"rank {self.rank}, {self.path}, is held{holder}. Wait until that job ends "
                    "(or stop it), or give this run another checkpoint_path. Started several "
                    "processes without mpirun? Each of them is then rank 0 of a run of one: "
                    "start them together with mpirun -n N or srun."
                ) from None
            except OSError as error:
                _warn_unsupported(self.path, error)
        os.ftruncate(handle, 0)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.write(handle, json.dumps(me).encode())
        self._handle = handle

    def release(self) -> None:
        """Let the lock go (the file stays: removing it would race with the next job)."""
        if self._handle is not None:
            os.close(self._handle)  # closing releases the flock
            self._handle = None

    def __del__(self) -> None:
        self.release()


def _read_holder(handle: int) -> str:
    try:
        holder = json.loads(os.pread(handle, 4096, 0))
        return f" by process {holder['pid']} on {holder['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def _warn_unsupported(path: Path, error: OSError) -> None:
    global _UNSUPPORTED_WARNED
    if not _UNSUPPORTED_WARNED:
        _UNSUPPORTED_WARNED = True
        log.warning("The file system of %s does not support locks (%s): nothing stops a second "
                    "job on this checkpoint folder.", path.parent, error)  # fmt: skip


def _check_logs(directory: Path, rank: int, island: int, layout: Layout) -> None:
    """Logs under islands this run would not give their ranks: another layout wrote them.

    Where the island sizes are known every log is checked, so that every rank finds the same
    mismatch; otherwise only this rank's own.
    """
    from .checkpoint import log_files  # deferred: the checkpoint module needs nothing from here

    islands = layout.island_of_worker()
    for path in log_files(directory):
        other, owner = (int(part) for part in path.name[:-5].split("-")[1::2])
        if islands is None:
            expected = island if owner == rank else other
        else:
            expected = islands[owner] if owner < len(islands) else -1
        if other != expected:
            where = f"island {expected}" if expected >= 0 else "no island (it has fewer workers)"
            raise CheckpointError(
                f"checkpoint_path='{directory}' holds the records of rank {owner} on island "
                f"{other} ({path.name}), but this run puts rank {owner} on {where}: the islands "
                "are laid out differently. Resume with the layout of the run that wrote the "
                "checkpoint (the same number of ranks, num_islands and island_sizes), or give "
                "this run another checkpoint_path."
            )


def _stored_layout(path: Path) -> Layout | None:
    if not path.exists():
        return None
    try:
        return Layout.from_json(json.loads(path.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"{path} does not describe a run's layout ({error}). Restore it from a backup, or "
            "delete it to resume with the layout of this run."
        ) from None


def canonical_config(config: Any) -> str:
    """A run configuration as canonical JSON (sorted keys), the form it is compared in.

    Raises
    ------
    TypeError, ValueError
        If ``config`` does not convert to JSON.
    """
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _declaration(objectives: str) -> str:
    """A stored declaration of objectives as the ``objectives`` keyword that makes it."""
    declared = json.loads(objectives)
    if not declared:
        return "None (nothing declared)"
    return repr({o["name"]: o["direction"] for o in declared})


def _compare(directory: Path, stored: Layout, layout: Layout) -> None:
    if (
        stored.objectives is not None
        and layout.objectives is not None
        and stored.objectives != layout.objectives
    ):
        before, now = _declaration(stored.objectives), _declaration(layout.objectives)
        raise CheckpointError(
            f"checkpoint_path='{directory}' holds a run with objectives={before}, but this run "
            f"declares objectives={now}: its results would not compare with the stored ones. "
            f"Resume with objectives={before}, or give this run another checkpoint_path."
        )
    differences = stored.config_differences(layout)
    if differences:
        raise CheckpointError(
            f"checkpoint_path='{directory}' holds a run of another configuration (stored != "
            f"this run's: {'; '.join(differences)}). Resume with the configuration that run "
            "was started with, or give this run another checkpoint_path (the tutorials: "
            "--checkpoint DIR)."
        )
    if stored.differs_from(layout):
        raise CheckpointError(
            f"checkpoint_path='{directory}' was written by a run of {stored.describe()}, but "
            f"this run has {layout.describe()}. Resume with the same layout (e.g. the same "
            "mpirun -n, num_islands, island_sizes and ranks_per_worker), or give this run "
            "another checkpoint_path. Started several processes without mpirun? Each of them "
            "is then a run of one worker: start them together with mpirun -n N or srun."
        )


def _check_layout(directory: Path, rank: int, island: int, layout: Layout) -> None:
    path = directory / LAYOUT_FILE
    stored = _stored_layout(path)
    if stored is not None:
        _compare(directory, stored, layout)
    _check_logs(directory, rank, island, layout)
    # The first worker of the first run keeps the layout; a worker that loses the race to
    # another compares with what it wrote.
    if stored is None and not create_exclusively(path, json.dumps(layout.to_json()).encode()):
        stored = _stored_layout(path)
        if stored is not None:
            _compare(directory, stored, layout)


def claim(directory: str | Path, rank: int, island: int, layout: Layout) -> JobLock:
    """Lock the folder for the worker ``rank`` and check that the folder fits this run.

    Parameters
    ----------
    directory : str or Path
        The checkpoint folder (created if missing).
    rank : int
        The worker's rank in the whole run.
    island : int
        The worker's island.
    layout : Layout
        The run's layout; kept in the folder by the first run, compared by later ones.

    Returns
    -------
    JobLock
        The lock, held until it is released (or the process ends).

    Raises
    ------
    CheckpointError
        If another job holds the lock, or the folder was written with another layout.
    """
    directory = make_folder(directory)
    lock = JobLock(directory, rank)
    lock.acquire()
    try:
        _check_layout(directory, rank, island, layout)
    except BaseException:
        lock.release()
        raise
    return lock


def checked_run_config(owner: str, run_config: Any) -> str | None:
    """``run_config`` as canonical JSON, or a clear error if it is no JSON-able mapping."""
    if run_config is None:
        return None
    if not isinstance(run_config, Mapping):
        fail(owner, "run_config", run_config, "a mapping of JSON values", '{"function": "sphere"}')
    try:
        return canonical_config(dict(run_config))
    except (TypeError, ValueError) as error:
        fail(owner, "run_config", run_config, f"JSON-able ({error})", '{"function": "sphere"}')
