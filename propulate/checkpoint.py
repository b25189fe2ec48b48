r"""Crash-safe checkpoints: one append-only record log per rank.

Every rank appends the individuals *it* evaluated to its own file,
``<checkpoint_path>/island-<i>-rank-<r>.ckpt``, one record per evaluation, written and flushed
as soon as the evaluation ends (``fsync`` batched every ``fsync_interval`` seconds). Nothing is
ever rewritten, so the cost per evaluation does not grow with the population. Resuming reads the
logs of every rank of the island.

File layout: the magic ``PROPULATE-LOG\\n``, a ``u32`` length and a JSON header
(``format_version``, the search space's fingerprint, island, rank), then frames of
``u32 length | record | u32 crc32(record)`` (see :mod:`propulate.records`). A frame torn by a crash
is detected by its length or checksum: it is skipped with a warning, and the owner truncates it
before appending again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .errors import CheckpointError
from .population import Individual
from .records import decode_individual, encode_individual
from .search_space import SearchSpace

__all__ = ["CheckpointLog", "read_log", "log_files", "FORMAT_VERSION", "write_json_atomically"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MAGIC = b"PROPULATE-LOG\n"
_U32 = struct.Struct("<I")
_FILE_PATTERN = re.compile(r"island-(\d+)-rank-(\d+)\.ckpt$")


def log_path(directory: Path, island: int, rank: int) -> Path:
    """The log file of ``rank`` on ``island``."""
    return directory / f"island-{island}-rank-{rank}.ckpt"


def log_files(directory: str | Path, island: int | None = None) -> list[Path]:
    """Every record log in ``directory`` (of one island, if given), sorted by island and rank."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _FILE_PATTERN.match(path.name)
        if match and (island is None or int(match.group(1)) == island):
            found.append(((int(match.group(1)), int(match.group(2))), path))
    return [path for _, path in sorted(found)]


def _header(space: SearchSpace, island: int, rank: int) -> bytes:
    header = {
        "format_version": FORMAT_VERSION,
        "search_space": space.fingerprint(),
        "island": island,
        "rank": rank,
        "created": time.time(),
    }
    text = json.dumps(header).encode()
    return MAGIC + _U32.pack(len(text)) + text


def _read_header(stream: BinaryIO, path: Path) -> dict[str, Any] | None:
    magic = stream.read(len(MAGIC))
    if len(magic) < len(MAGIC):
        return None  # created but not yet written (or torn during creation)
    if magic != MAGIC:
        raise CheckpointError(f"{path} is not a Propulate checkpoint log (bad magic bytes).")
    raw_length = stream.read(_U32.size)
    if len(raw_length) < _U32.size:
        return None
    (length,) = _U32.unpack(raw_length)
    text = stream.read(length)
    if len(text) < length:
        return None
    header: dict[str, Any] = json.loads(text)
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer Propulate (format {header['format_version']}); "
            f"this version reads format {FORMAT_VERSION}. Upgrade Propulate to resume it."
        )
    return header


def _frames(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Yield ``(record, end_offset)`` for each intact frame; stop at the first torn one."""
    while True:
        raw_length = stream.read(_U32.size)
        if len(raw_length) < _U32.size:
            return
        (length,) = _U32.unpack(raw_length)
        record = stream.read(length)
        raw_crc = stream.read(_U32.size)
        if len(record) < length or len(raw_crc) < _U32.size:
            return
        if zlib.crc32(record) != _U32.unpack(raw_crc)[0]:
            return
        yield record, stream.tell()


def read_log(
    path: str | Path, space: SearchSpace | None = None
) -> tuple[dict[str, Any] | None, list[Individual], int, bool]:
    """Read one record log.

    Parameters
    ----------
    path : str or Path
        The log file.
    space : SearchSpace, optional
        The expected search space; the log's must match. If omitted, the log's own is used.

    Returns
    -------
    header : dict or None
        The file's header (``None`` if the file has no complete header yet).
    individuals : list of Individual
        Every intact record, in the order written.
    good_end : int
        The offset just after the last intact frame.
    torn : bool
        Whether bytes after the last intact frame were skipped.

    Raises
    ------
    CheckpointError
        If the file is not a checkpoint log or was written for another search space.
    """
    path = Path(path)
    with path.open("rb") as stream:
        header = _read_header(stream, path)
        if header is None:
            return None, [], 0, path.stat().st_size > 0
        stored_space = SearchSpace(_limits_from_fingerprint(header["search_space"]))
        if space is None:
            space = stored_space
        elif header["search_space"] != space.fingerprint():
            raise CheckpointError(
                f"{path} was written for the search space {header['search_space']}, but this run "
                f"uses {space.fingerprint()}. Resume with the original limits, or use another "
                "checkpoint_path for the new search space."
            )
        good_end = stream.tell()
        individuals = []
        for record, end in _frames(stream):
            individuals.append(decode_individual(record, space))
            good_end = end
        torn = path.stat().st_size > good_end
    return header, individuals, good_end, torn


def _limits_from_fingerprint(fingerprint: str) -> dict[str, tuple[Any, ...]]:
    return {name: tuple(domain) for name, domain in json.loads(fingerprint)}


class CheckpointLog:
    """This rank's append-only record log, plus read access to its island's other logs.

    Parameters
    ----------
    directory : str or Path
        The checkpoint folder.
    space : SearchSpace
        The search space of the run.
    island : int
        This rank's island.
    rank : int
        This rank's rank in the whole run.
    fsync_interval : float
        Seconds between ``fsync`` calls; records are flushed to the OS on every append regardless,
        so a killed process loses nothing, and only a machine crash can lose the last interval.
    """

    def __init__(
        self,
        directory: str | Path,
        space: SearchSpace,
        island: int,
        rank: int,
        fsync_interval: float = 2.0,
    ) -> None:
        self.directory = Path(directory)
        self.space = space
        self.island = island
        self.rank = rank
        self.fsync_interval = fsync_interval
        self.path = log_path(self.directory, island, rank)
        self._stream: BinaryIO | None = None
        self._last_sync = 0.0
        self.bytes_written = 0

    def load_island(self) -> list[Individual]:
        """Read every intact record of this island, from every rank's log."""
        individuals: list[Individual] = []
        for path in log_files(self.directory, self.island):
            _, records, _, torn = read_log(path, self.space)
            if torn:
                # Another rank's log may be mid-write right now; the owner of a log torn by a
                # crash warns when it reopens (and truncates) it.
                report = log.warning if path == self.path else log.debug
                report("%s ends with an incomplete record; it was skipped.", path)
            individuals.extend(records)
        return individuals

    def open(self) -> None:
        """Open this rank's log for appending, truncating a torn last frame first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            header, _, good_end, torn = read_log(self.path, self.space)
            stream = self.path.open("r+b")
            if header is None:
                stream.truncate(0)
                stream.write(_header(self.space, self.island, self.rank))
            elif torn:
                log.warning("Truncating the incomplete last record of %s.", self.path)
                stream.truncate(good_end)
            stream.seek(0, os.SEEK_END)
        else:
            stream = self.path.open("w+b")
            stream.write(_header(self.space, self.island, self.rank))
        stream.flush()
        self._stream = stream
        self._last_sync = time.monotonic()

    def append(self, ind: Individual) -> None:
        """Append one evaluated individual and flush it to the operating system."""
        self.append_record(encode_individual(ind))

    def append_record(self, record: bytes) -> None:
        """Append an encoded record (see :mod:`propulate.records`) and flush it."""
        if self._stream is None:
            self.open()
        assert self._stream is not None  # for mypy: open() set it
        frame = _U32.pack(len(record)) + record + _U32.pack(zlib.crc32(record))
        self._stream.write(frame)
        self._stream.flush()
        self.bytes_written += len(frame)
        now = time.monotonic()
        if now - self._last_sync >= self.fsync_interval:
            os.fsync(self._stream.fileno())
            self._last_sync = now

    def close(self) -> None:
        """Flush, ``fsync`` and close the log."""
        if self._stream is not None:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
            self._stream = None


def write_json_atomically(path: str | Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace`` (never half-written)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w") as stream:
        json.dump(data, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
