r"""The bytes of a record log: its header and its frames, in formats 1, 2 and 3.

Format 3 (written since this version) is format 2 whose header may name the run's objectives,
``"objectives": [{"name": ..., "direction": "minimize" | "maximize"}, ...]``, and whose
records may carry the vector of objectives (``losses`` in a record's extras, see
:mod:`propulate.records`). It keeps format 2's magic bytes and frames: a reader of format 2 refuses
it by its ``format_version``, as any newer format.

Format 2 (still read, and appended to in its own format)::

    magic   b"PROPULATE-JOURNAL-2\n"
    u32     length of the JSON header
    u32     CRC-32 of the JSON header
    JSON    {"format_version": 2, "search_space": ..., "island": i, "rank": r, "created": t,
             "layout": {...}}
    frame*  sync b"\xa7PRF" | u32 length | record | u32 CRC-32 of (length + record)

Format 1 (still read, and appended to in its own format)::

    magic   b"PROPULATE-LOG\n" | u32 length | JSON header
    frame*  u32 length | record | u32 CRC-32 of record

A damaged frame costs only itself: the reader resynchronizes on the next frame that checks out,
found by its sync marker in format 2 and by trying every offset in format 1. The same
resynchronization reads the records appended after a frame torn by a crash. A damaged header
cannot be skipped (it says which search space the records belong to): it raises
:class:`~propulate.errors.CheckpointError`.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CheckpointError

__all__ = [
    "FORMAT_VERSION",
    "MAGIC_V1",
    "MAGIC_V2",
    "SYNC",
    "Gap",
    "encode_header",
    "encode_frame",
    "parse_header",
    "scan_frames",
]

FORMAT_VERSION = 3
MAGIC_V1 = b"PROPULATE-LOG\n"
# Differs from MAGIC_V1 in several of its first bytes, so that no single damaged byte turns one
# version into the other. Formats 2 and 3 share it (they differ in the header's JSON only).
MAGIC_V2 = b"PROPULATE-JOURNAL-2\n"
SYNC = b"\xa7PRF"
_U32 = struct.Struct("<I")
_FIX = "Restore the file from a backup, or move it out of the checkpoint folder to go on without it"


@dataclass(frozen=True)
class Gap:
    """Bytes between intact frames that no frame could be read from.

    Attributes
    ----------
    start, end : int
        Offsets of the first skipped byte and just after the last.
    records : int
        How many records the gap held, at least (counted by their sync markers in format 2).
    at_end : bool
        Whether the gap runs to the end of the file (a torn last frame, or one being written).
    """

    start: int
    end: int
    records: int
    at_end: bool


def encode_header(header: dict[str, Any]) -> bytes:
    """The header bytes of a new log (format 2) for the JSON-able ``header``."""
    text = json.dumps(header).encode()
    return MAGIC_V2 + _U32.pack(len(text)) + _U32.pack(zlib.crc32(text)) + text


def encode_frame(record: bytes, version: int = FORMAT_VERSION) -> bytes:
    """One frame holding ``record``, in the format ``version`` of the log it goes into."""
    length = _U32.pack(len(record))
    if version == 1:
        return length + record + _U32.pack(zlib.crc32(record))
    return SYNC + length + record + _U32.pack(zlib.crc32(record, zlib.crc32(length)))


def _damaged(path: Path, what: str) -> CheckpointError:
    return CheckpointError(f"{path}: the log's header is damaged ({what}). {_FIX}.")


def _parse_json(text: bytes, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _damaged(path, f"its JSON does not parse: {error}") from None
    if not isinstance(header, dict) or "search_space" not in header:
        raise _damaged(path, "its JSON is not a Propulate header")
    return header


def _runs_past_end(data: bytes, start: int) -> bool:
    """Whether a whole JSON object starts at ``start``.

    If so, a header length said to run past the end of the file was damaged, rather than the
    header torn while it was written.
    """
    try:
        json.JSONDecoder().raw_decode(bytes(data[start:]).decode("utf-8", "replace"))
    except json.JSONDecodeError:
        return False
    return True


def parse_header(data: bytes, path: Path) -> tuple[dict[str, Any], int] | None:
    """The header of the log ``data`` and the offset of its first frame.

    Returns
    -------
    tuple of dict and int, or None
        ``None`` if the file ends inside its header (created, not yet completely written).

    Raises
    ------
    CheckpointError
        If the magic bytes or the header are damaged, or the log is of a newer format.
    """
    size = len(data)
    for magic in (MAGIC_V1, MAGIC_V2):
        if size < len(magic) and data[:size] == magic[:size]:
            return None
    if data[: len(MAGIC_V2)] == MAGIC_V2:
        version, start, fields = 2, len(MAGIC_V2), 8
    elif data[: len(MAGIC_V1)] == MAGIC_V1:
        version, start, fields = 1, len(MAGIC_V1), 4
    else:
        raise CheckpointError(
            f"{path} is not a Propulate checkpoint log (bad magic bytes at offset 0), or its "
            f"header is damaged. {_FIX}."
        )
    if size < start + fields:
        return None
    (length,) = _U32.unpack_from(data, start)
    text_start = start + fields
    end = text_start + length
    if end > size:
        if _runs_past_end(data, text_start):
            raise _damaged(path, f"its length field says {length} bytes, past the end of the file")
        return None
    text = bytes(data[text_start:end])
    if version == 2 and zlib.crc32(text) != _U32.unpack_from(data, start + 4)[0]:
        raise _damaged(path, "its checksum does not match")
    header = _parse_json(text, path)
    stored = header.get("format_version", 0)
    if isinstance(stored, int) and stored > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer Propulate (format {stored}); this version reads "
            f"formats up to {FORMAT_VERSION}. Upgrade Propulate to resume it."
        )
    if version == 2 and stored == 3:
        version = 3  # format 2's frames, with objectives
    if stored != version:
        raise _damaged(path, f"format_version {stored!r} does not match its magic bytes")
    return header, end


def _frame_at(data: bytes, position: int, version: int) -> int:
    """The end of the intact frame at ``position``, or -1."""
    size = len(data)
    if version >= 2:
        if data[position : position + 4] != SYNC:
            return -1
        position += 4
    if position + 4 > size:
        return -1
    (length,) = _U32.unpack_from(data, position)
    end = position + 4 + length + 4
    if end > size or length == 0:
        # No record is empty, and eight zero bytes (common inside records) would pass the
        # checksum of an empty one when resynchronizing a format-1 log.
        return -1
    stored = _U32.unpack_from(data, end - 4)[0]
    if version >= 2:
        crc = zlib.crc32(data[position : end - 4])
    else:
        crc = zlib.crc32(data[position + 4 : end - 4])
    return end if crc == stored else -1


def _next_frame(data: bytes, position: int, version: int) -> int:
    """The offset of the next intact frame after ``position``, or the size of ``data``."""
    size = len(data)
    candidate = position + 1
    while candidate < size:
        if version >= 2:
            candidate = data.find(SYNC, candidate)
            if candidate < 0:
                return size
        if _frame_at(data, candidate, version) >= 0:
            return candidate
        candidate += 1
    return size


def scan_frames(data: bytes, start: int, version: int) -> Iterator[tuple[int, int] | Gap]:
    """Yield ``(start, end)`` of each intact record, and a :class:`Gap` for each damaged stretch.

    Parameters
    ----------
    data : bytes
        The whole log (or a memory map of it).
    start : int
        The offset of the first frame.
    version : int
        The log's format.
    """
    size = len(data)
    position = start
    overhead = 4 if version >= 2 else 0
    while position < size:
        end = _frame_at(data, position, version)
        if end >= 0:
            yield position + overhead + 4, end - 4
            position = end
            continue
        resume = _next_frame(data, position, version)
        records = data[position:resume].count(SYNC) if version >= 2 else 1
        yield Gap(position, resume, max(1, records), resume == size)
        position = resume
