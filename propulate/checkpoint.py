r"""Crash-safe checkpoints: one append-only record log per rank.

Every rank appends the individuals *it* evaluated to its own file,
``<checkpoint_path>/island-<i>-rank-<r>.ckpt``, one record per evaluation, written and flushed
as soon as the evaluation ends (``fsync`` batched every ``fsync_interval`` seconds). Nothing is
ever rewritten or truncated, so the cost per evaluation does not grow with the population.
Resuming reads the logs of every rank of the island. Each time a job opens a log, it appends a
session record with its host name, so every evaluation's host is known (``propulate summary``
shows failures and durations per host).

The bytes of a log are :mod:`propulate.log_format`'s business (a header, then self-checking
frames). A damaged frame is skipped with a warning that names the file, the offset and how many
records were lost; the records after it are read. A frame torn by a crash is skipped, and the
owner appends after it. A damaged header raises :class:`~propulate.errors.CheckpointError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import re
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from .errors import CheckpointError
from .files import create_exclusively, make_folder, open_for_append, write_atomically, write_error
from .files import write_json_atomically as write_json_atomically
from .log_format import FORMAT_VERSION, Gap, encode_frame, encode_header, parse_header, scan_frames
from .parameters import parameter_from_json
from .population import Individual
from .records import (
    KIND_SESSION,
    decode_individual,
    decode_session,
    encode_individual,
    encode_session,
)
from .search_space import SearchSpace

__all__ = [
    "CheckpointLog",
    "LogContents",
    "read_log",
    "scan_log",
    "log_files",
    "FORMAT_VERSION",
    "write_json_atomically",
]

log = logging.getLogger(__name__)

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


def _header(
    space: SearchSpace,
    island: int,
    rank: int,
    layout: dict[str, Any] | None,
    objectives: list[dict[str, str]] | None = None,
) -> bytes:
    header: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "search_space": space.fingerprint(),
        "island": island,
        "rank": rank,
        "created": time.time(),
    }
    if layout is not None:
        header["layout"] = layout
    if objectives is not None:
        header["objectives"] = objectives
    return encode_header(header)


@dataclass
class LogContents:
    """What :func:`scan_log` read from one log.

    Attributes
    ----------
    header : dict or None
        The file's header (``None`` if the file has no complete header yet).
    individuals : list of Individual
        Every intact record, in the order written.
    good_end : int
        The offset just after the last intact frame.
    gaps : list of Gap
        The damaged or torn stretches skipped (see :class:`~propulate.log_format.Gap`).
    size : int
        The file's size when it was read.
    sessions : list of (int, dict)
        The session records (see :mod:`propulate.records`): the index in ``individuals`` of
        the first individual recorded in each session, and its host, pid and start time.
    """

    header: dict[str, Any] | None
    individuals: list[Individual] = field(default_factory=list)
    good_end: int = 0
    gaps: list[Gap] = field(default_factory=list)
    size: int = 0
    sessions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def hosts(self) -> list[str | None]:
        """The host of the session each individual was recorded in (``None``: not known)."""
        hosts: list[str | None] = [None] * len(self.individuals)
        bounds = [first for first, _ in self.sessions] + [len(self.individuals)]
        for (first, session), end in zip(self.sessions, bounds[1:], strict=True):
            hosts[first:end] = [session["host"]] * (end - first)
        return hosts

    @property
    def version(self) -> int:
        """The log's format."""
        return 0 if self.header is None else int(self.header["format_version"])

    @property
    def torn(self) -> bool:
        """Whether bytes after the last intact frame were skipped."""
        return self.size > self.good_end


def scan_log(
    path: str | Path, space: SearchSpace | None = None, *, fingerprint: str | None = None
) -> LogContents:
    """Read one record log, skipping damaged frames (each reported by a warning).

    Parameters
    ----------
    path : str or Path
        The log file.
    space : SearchSpace, optional
        The expected search space; the log's must match. If omitted, the log's own is used.
    fingerprint : str, optional
        ``space.fingerprint()``, when the caller reads many logs of one space.

    Returns
    -------
    LogContents
        The header, the intact records and the stretches skipped.

    Raises
    ------
    CheckpointError
        If the file is not a checkpoint log, its header is damaged, or it was written for
        another search space.
    """
    path = Path(path)
    with path.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size == 0:
            return LogContents(None)
        # A memory map: a resynchronization may need to search far ahead in a long log.
        with mmap.mmap(stream.fileno(), size, access=mmap.ACCESS_READ) as data:
            return _scan(data, path, space, fingerprint)


def _space_of_header(header: dict[str, Any], path: Path, space: SearchSpace | None) -> SearchSpace:
    """The search space of a log's header: ``space`` if given and equal, else an error.

    Parsing the header's space costs a thousand times more than comparing its text; the caller
    compares first, so only an unexpected space (or no expected one) gets here.
    """
    try:
        stored_space = SearchSpace(_limits_from_fingerprint(header["search_space"]))
    except Exception as error:  # noqa: BLE001  # any failure means the same: damaged header
        raise CheckpointError(
            f"{path}: the log's header is damaged (its search space does not parse: {error}). "
            "Restore the file from a backup, or move it out of the checkpoint folder."
        ) from None
    if space is None:
        return stored_space
    raise CheckpointError(
        f"{path} was written for the search space {header['search_space']}, but this run "
        f"uses {space.fingerprint()}. Resume with the original limits, or use another "
        "checkpoint_path for the new search space."
    )


def _scan(
    data: Any, path: Path, space: SearchSpace | None, fingerprint: str | None = None
) -> LogContents:
    parsed = parse_header(data, path)
    if parsed is None:
        return LogContents(None, size=len(data))
    header, start = parsed
    # Every rank of an island finds the expected space in every log at start: compare the text.
    if space is None or header.get("search_space") != (fingerprint or space.fingerprint()):
        space = _space_of_header(header, path, space)
    contents = LogContents(header, good_end=start, size=len(data))
    for item in scan_frames(data, start, int(header["format_version"])):
        if isinstance(item, Gap):
            contents.gaps.append(item)
            continue
        first, end = item
        try:
            if data[first] == KIND_SESSION:
                session = decode_session(data[first:end])
                contents.sessions.append((len(contents.individuals), session))
            else:
                contents.individuals.append(decode_individual(data[first:end], space))
        except (ValueError, KeyError, TypeError, struct.error) as error:
            # An intact checksum over a record that does not decode: a record of another
            # layout; skip it like a damaged frame.
            # Reported from the frame's first byte, as damaged frames are.
            framing = 8 if contents.version >= 2 else 4  # format 3 keeps format 2's frames
            contents.gaps.append(Gap(first - framing, end + 4, 1, False))
            log.debug("%s: the record at offset %d does not decode: %s", path, first, error)
            continue
        contents.good_end = end + 4
    for gap in contents.gaps:
        if not gap.at_end:
            log.warning(
                "%s: %d damaged byte(s) at offset %d skipped; %d record(s) lost there, the "
                "records after them were read.",
                path, gap.end - gap.start, gap.start, gap.records,
            )  # fmt: skip
    return contents


def read_log(
    path: str | Path, space: SearchSpace | None = None
) -> tuple[dict[str, Any] | None, list[Individual], int, bool]:
    """Read one record log (see :func:`scan_log`, which also tells what was skipped).

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
    """
    contents = scan_log(path, space)
    return contents.header, contents.individuals, contents.good_end, contents.torn


def _limits_from_fingerprint(fingerprint: str) -> dict[str, Any]:
    return {name: parameter_from_json(domain) for name, domain in json.loads(fingerprint)}


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
    layout : dict, optional
        The run's layout, kept in the header of a new log (for the record).
    objectives : list of dict, optional
        The declared objectives (see :meth:`propulate.objectives.Objectives.to_header`), kept
        in the header of a new log for the results.
    """

    def __init__(
        self,
        directory: str | Path,
        space: SearchSpace,
        island: int,
        rank: int,
        fsync_interval: float = 2.0,
        layout: dict[str, Any] | None = None,
        objectives: list[dict[str, str]] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.objectives = objectives
        self.space = space
        self.island = island
        self.rank = rank
        self.fsync_interval = fsync_interval
        self.layout = layout
        self.path = log_path(self.directory, island, rank)
        self._stream: BinaryIO | None = None
        self._version = FORMAT_VERSION
        self._last_sync = 0.0
        self.bytes_written = 0
        self.session_started = time.time()  # set again when the log is opened

    def load_island(self) -> list[Individual]:
        """Read every intact record of this island, from every rank's log."""
        individuals: list[Individual] = []
        fingerprint = self.space.fingerprint()
        for path in log_files(self.directory, self.island):
            contents = scan_log(path, self.space, fingerprint=fingerprint)
            if contents.torn:
                # Another rank's log may be mid-write right now; the owner of a log torn by a
                # crash warns when it reopens it.
                log.debug("%s ends with an incomplete record; it was skipped.", path)
            individuals.extend(contents.individuals)
        return individuals

    def open(self) -> None:
        """Open this rank's log for appending (creating it with its header if needed).

        A log is never truncated: records appended after a frame torn by a crash are found
        again by the reader's resynchronization.
        """
        make_folder(self.directory)
        header = _header(self.space, self.island, self.rank, self.layout, self.objectives)
        if not os.path.lexists(self.path) and create_exclusively(self.path, header):
            self._version = FORMAT_VERSION
        else:
            contents = scan_log(self.path, self.space) if self.path.is_file() else None
            if contents is not None and contents.header is None:
                # Created, but its header never completely written: nothing to lose.
                if contents.size:
                    log.warning("%s has an incomplete header and no records; it is started "
                                "again.", self.path)  # fmt: skip
                write_atomically(self.path, header)
                contents = None
            elif contents is not None and contents.torn:
                log.warning(
                    "%s ends with an incomplete record (%d bytes at offset %d, cut by a crash); "
                    "it is skipped, and new records are appended after it.",
                    self.path, contents.size - contents.good_end, contents.good_end,
                )  # fmt: skip
            self._version = contents.version if contents is not None else FORMAT_VERSION
        self._stream = open_for_append(self.path)
        self._last_sync = time.monotonic()
        # Which host this job's rank runs on, once per job and rank (see propulate.records).
        self.session_started = time.time()
        session = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": self.session_started,
        }
        self.append_record(encode_session(session))

    def append(self, ind: Individual) -> None:
        """Append one evaluated individual and flush it to the operating system."""
        self.append_record(encode_individual(ind))

    def append_record(self, record: bytes) -> None:
        """Append an encoded record (see :mod:`propulate.records`) and flush it."""
        if self._stream is None:
            self.open()
        assert self._stream is not None  # for mypy: open() set it
        frame = encode_frame(record, self._version)
        try:
            self._stream.write(frame)
            self._stream.flush()
            now = time.monotonic()
            if now - self._last_sync >= self.fsync_interval:
                os.fsync(self._stream.fileno())
                self._last_sync = now
        except OSError as error:
            raise self._write_failed(error) from None
        self.bytes_written += len(frame)

    def close(self) -> None:
        """Flush, ``fsync`` and close the log."""
        if self._stream is not None:
            try:
                self._stream.flush()
                os.fsync(self._stream.fileno())
                self._stream.close()
            except OSError as error:
                raise self._write_failed(error) from None
            self._stream = None

    def _write_failed(self, error: OSError) -> CheckpointError:
        """Drop the log's unwritten bytes and say what happened (a full disk, a lost mount...)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()  # its buffered bytes cannot be written either: close the file
        return write_error(self.path, error)
