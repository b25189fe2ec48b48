"""The wire vocabulary: every kind of message between ranks, with its encoder and decoder.

A message is bytes: the first byte is its :class:`Kind`, the rest its body. The transport
carries the bytes and nothing else, so this module is the one place that knows what a message
means. Results, migrants and started evaluations carry the record of :mod:`propulate.records`;
a batch of results carries several records, each after its length; a location notice carries an
individual's key and migration state; the shutdown messages carry nothing.
"""

from __future__ import annotations

import struct
from enum import IntEnum

from .population import Individual, Key
from .records import decode_individual, encode_individual
from .search_space import SearchSpace

__all__ = [
    "Kind",
    "kind_of",
    "body_of",
    "signal",
    "encode_result",
    "encode_results",
    "records_of_batch",
    "encode_started",
    "encode_migrant",
    "encode_location",
    "decode_individual_message",
    "decode_location",
]


class Kind(IntEnum):
    """What a message is (its first byte)."""

    RESULT = 1  #: a result evaluated on the sender's island
    FINISHED = 2  #: the sender breeds no more (first phase of the shutdown)
    DONE = 3  #: the sender got FINISHED from everybody (second phase)
    STOP = 4  #: stop breeding (a signal or an error on the sender)
    MIGRANT = 5  #: an individual moving to the receiver's island
    POLLEN = 6  #: a copy of an individual sent to the receiver's island
    LOCATION = 7  #: a new migration state of an individual the receiver knows (or will)
    STARTED = 8  #: an evaluation the sender has begun (its result follows as a RESULT)
    RESULTS = 9  #: several results of the sender's island in one message (see ``batch_seconds``)


# rank, generation (the key), migration_steps, active, current
_LOCATION = struct.Struct("<iiHBi")
_SIGNALS = {kind: bytes((kind,)) for kind in (Kind.FINISHED, Kind.DONE, Kind.STOP)}
_RESULT_PREFIX = bytes((Kind.RESULT,))  # built once: results are the most frequent message
_RESULTS_PREFIX = bytes((Kind.RESULTS,))
_LENGTH = struct.Struct("<I")  # the length of each record of a RESULTS batch


def kind_of(data: bytes) -> int:
    """The kind byte of a message (an int; compare it with :class:`Kind` members)."""
    return data[0]


def body_of(data: bytes) -> bytes:
    """A message without its kind byte."""
    return data[1:]


def signal(kind: Kind) -> bytes:
    """A message without body: ``FINISHED``, ``DONE`` or ``STOP``."""
    return _SIGNALS[kind]


def encode_result(ind: Individual) -> bytes:
    """A ``RESULT`` message for a peer of the island; also the record of the checkpoint log.

    Returns
    -------
    bytes
        The message; ``body_of(message)`` is the record.
    """
    return _RESULT_PREFIX + encode_individual(ind)


def encode_results(records: list[bytes]) -> bytes:
    """A ``RESULTS`` message: the records of several results (each ``body_of`` a RESULT).

    Parameters
    ----------
    records : list of bytes
        The records, in the order they were made; their receiver merges them in that order.

    Returns
    -------
    bytes
        The message: the kind byte, the number of records, then each record after its length
        (both 4 bytes, little-endian).
    """
    pack = _LENGTH.pack
    body = b"".join(pack(len(record)) + record for record in records)
    return _RESULTS_PREFIX + pack(len(records)) + body


def records_of_batch(data: bytes) -> list[bytes]:
    """The records of a ``RESULTS`` message, in the order they were made.

    Raises
    ------
    ValueError
        If the message is cut short (a length runs past its end).
    """
    records, offset, size, unpack = [], 1 + _LENGTH.size, len(data), _LENGTH.unpack_from
    if size < offset:
        raise ValueError(f"a RESULTS message of {size} bytes is cut short at byte {size}")
    (count,) = unpack(data, 1)
    for _ in range(count):
        if offset + _LENGTH.size > size:
            break
        (length,) = unpack(data, offset)
        offset += _LENGTH.size
        if offset + length > size:
            break
        records.append(data[offset : offset + length])
        offset += length
    if len(records) < count or offset != size:
        raise ValueError(f"a RESULTS message of {size} bytes is cut short or overlong: "
                         f"{len(records)} of {count} records end at byte {offset}")  # fmt: skip
    return records


def encode_started(ind: Individual) -> bytes:
    """A ``STARTED`` notice: the individual a peer has begun to evaluate (no result yet)."""
    return bytes((Kind.STARTED,)) + encode_individual(ind)


def encode_migrant(kind: Kind, ind: Individual, owner: int, migration_steps: int) -> bytes:
    """A ``MIGRANT`` or ``POLLEN`` message: ``ind`` arriving active, ``owner`` responsible."""
    record = encode_individual(ind, active=True, current=owner, migration_steps=migration_steps)
    return bytes((kind,)) + record


def encode_location(ind: Individual) -> bytes:
    """A ``LOCATION`` notice: the individual's key and its current migration state."""
    state = (ind.worker, ind.generation, ind.migration_steps, ind.active, ind.current)
    return bytes((Kind.LOCATION,)) + _LOCATION.pack(*state)


def decode_individual_message(data: bytes, space: SearchSpace) -> Individual:
    """The individual of a ``RESULT``, ``MIGRANT``, ``POLLEN`` or ``STARTED`` message."""
    return decode_individual(data[1:], space)


def decode_location(data: bytes) -> tuple[Key, int, bool, int]:
    """A ``LOCATION`` notice as ``(key, migration_steps, active, current)``."""
    rank, generation, steps, active, current = _LOCATION.unpack_from(data, 1)
    return (rank, generation), steps, bool(active), current
