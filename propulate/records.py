"""The one binary encoding of an evaluated individual, used for messages and checkpoints alike.

A record holds plain values only (never pickles of our classes), so any later version can read
it. Layout, little-endian::

    u8 kind | u8 status | i32 rank | i32 generation | i16 island | u8 active
    | i32 current | u16 migration_steps | f64 loss | f64 evaltime | f64 evalperiod
    | f64 x dims (one value per hyperparameter; a categorical as its choice index)
    | u32 n | n bytes of JSON extras (velocity, error, learning curve, the ``_`` keys, the
      vector of objectives ``losses``, the ``constraints`` values...)

A 10-dimensional individual takes 127 bytes (139 in a checkpoint frame of format 2).

A checkpoint log also holds a *session* record (``u8 kind = 2 | JSON``) each time a job opens
it: the host, process id and start time of the job's rank. The individuals that follow it in the
log, up to the next session record, were evaluated in that session, so each evaluation's host is
known for one record per job and rank rather than a string per record. Older logs have none.
"""

from __future__ import annotations

import json
import logging
import math
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np

from .population import Individual, Status
from .search_space import SearchSpace

__all__ = [
    "encode_individual",
    "decode_individual",
    "encode_session",
    "decode_session",
    "KIND_INDIVIDUAL",
    "KIND_SESSION",
    "STATUS_CODES",
]

KIND_INDIVIDUAL = 1
KIND_SESSION = 2
_HEAD = struct.Struct("<BBiihBiHddd")
_EXTRA_LENGTH = struct.Struct("<I")
STATUS_CODES = {Status.OK: 0, Status.FAILED: 1, Status.PRUNED: 2, Status.PENDING: 3}
_STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
# Metadata that only some strategies use travels in the JSON extras, under these names. A
# record read back may set these attributes and no others (an allow-list: a crafted record must
# not set any attribute of the individual it becomes).
_EXTRA_ATTRIBUTES = ("error", "curve", "surrogate")
_VECTORS = ("velocity", "position")
_LOSSES = "losses"
_CONSTRAINTS = "constraints"  # absent from records without them (and from older logs)
# The individual's ``_``-prefixed keys (Propulate 1.2's extra data) travel in their own field, a
# JSON object whose names must all start with "_": they never become attributes.
_USER_KEYS = "keys"

log = logging.getLogger(__name__)


def encode_individual(
    ind: Individual,
    active: bool | None = None,
    current: int | None = None,
    migration_steps: int | None = None,
) -> bytes:
    """Encode an evaluated individual.

    Parameters
    ----------
    ind : Individual
        The individual.
    active, current, migration_steps : optional
        Migration state to encode instead of the individual's own (for copies sent away).

    Returns
    -------
    bytes
        The record.
    """
    space = ind.search_space
    loss = math.inf if ind.loss is None else float(ind.loss)
    head = _HEAD.pack(
        KIND_INDIVIDUAL,
        STATUS_CODES[ind.status],
        ind.worker,
        ind.generation,
        ind.island,
        int(ind.active if active is None else active),
        ind.current if current is None else current,
        ind.migration_steps if migration_steps is None else migration_steps,
        loss,
        ind.evaltime,
        ind.evalperiod,
    )
    values = np.asarray(space.to_record(ind._values), dtype="<f8").tobytes()
    extras: dict[str, Any] = {}
    if ind.velocity is not None:
        extras["velocity"] = [float(v) for v in ind.velocity]
    if space.numeric_names and _has_continuous_ints(ind):
        extras["position"] = [float(v) for v in ind.position]
    # Optional metadata lives in the instance dictionary: reading it there spares a stored
    # individual's __getattr__ an AttributeError per missing name on every record.
    state = getattr(ind, "__dict__", None)
    if state:
        for name in _EXTRA_ATTRIBUTES:
            value = state.get(name)
            if value is not None:
                extras[name] = value
    if ind._island_rank is not None:  # only on islands after the first: no cost with one
        extras["island_rank"] = ind._island_rank
    if ind.extras:
        extras[_USER_KEYS] = ind.extras
    if ind.losses is not None:  # several objectives (checkpoint format 3)
        extras[_LOSSES] = list(ind.losses)
    if ind.constraints is not None:  # returned with the result (see propulate.feasibility)
        extras[_CONSTRAINTS] = list(ind.constraints)
    blob = json.dumps(extras, separators=(",", ":"), default=_plain).encode() if extras else b""
    return head + values + _EXTRA_LENGTH.pack(len(blob)) + blob


def decode_individual(data: bytes, space: SearchSpace) -> Individual:
    """Decode a record made by :func:`encode_individual`.

    Parameters
    ----------
    data : bytes
        The record.
    space : SearchSpace
        The search space the record belongs to.

    Returns
    -------
    Individual
        The individual.

    Raises
    ------
    ValueError
        If the record is malformed or does not fit the search space.
    """
    (kind, status, rank, generation, island, active, current, steps, loss, evaltime, evalperiod) = (
        _HEAD.unpack_from(data, 0)
    )
    if kind != KIND_INDIVIDUAL:
        raise ValueError(f"record kind {kind} is not an individual")
    offset = _HEAD.size
    dims = len(space)
    values = np.frombuffer(data, dtype="<f8", count=dims, offset=offset)
    offset += 8 * dims
    (extra_length,) = _EXTRA_LENGTH.unpack_from(data, offset)
    offset += _EXTRA_LENGTH.size
    if offset + extra_length != len(data):
        raise ValueError("record length does not match its search space")
    ind = Individual._from_trusted(space.from_record(values), space)
    ind.status = _STATUS_NAMES[status]
    ind.worker, ind.generation, ind.island = rank, generation, island
    ind.active = bool(active)
    ind.current, ind.migration_steps = current, steps
    ind.loss, ind.evaltime, ind.evalperiod = loss, evaltime, evalperiod
    if ind.status == Status.PENDING:
        ind.loss = None  # not evaluated yet (an evaluation another worker has started)
    if extra_length:
        _apply_extras(ind, json.loads(data[offset : offset + extra_length]))
    return ind


def encode_session(session: Mapping[str, Any]) -> bytes:
    """Encode a session record: ``{"host": ..., "pid": ..., "started": ...}``."""
    return bytes([KIND_SESSION]) + json.dumps(dict(session), separators=(",", ":")).encode()


def decode_session(data: bytes) -> dict[str, Any]:
    """Decode a record made by :func:`encode_session`.

    Raises
    ------
    ValueError
        If the record is not a session record, or its host is not a string.
    """
    if data[:1] != bytes([KIND_SESSION]):
        raise ValueError("not a session record")
    session = json.loads(bytes(data[1:]))
    if not isinstance(session, dict) or not isinstance(session.get("host"), str):
        raise ValueError("a session record is a JSON object with a 'host' string")
    return session


def _numbers(name: str, value: Any) -> list[float]:
    if not isinstance(value, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"record extra {name!r} is not a list of numbers")
    return [float(v) for v in value]


def _apply_extras(ind: Individual, extras: Any) -> None:
    """Set the known extras on ``ind``; unknown names (of a later version) are ignored."""
    if not isinstance(extras, dict):
        raise ValueError("record extras are not a JSON object")
    for name in _VECTORS:
        if name in extras:
            setattr(ind, name, np.array(_numbers(name, extras[name])))
    if _LOSSES in extras:
        ind.losses = tuple(_numbers(_LOSSES, extras[_LOSSES]))
    if _CONSTRAINTS in extras:
        ind.constraints = tuple(_numbers(_CONSTRAINTS, extras[_CONSTRAINTS]))
    if "curve" in extras:
        setattr(ind, "curve", _numbers("curve", extras["curve"]))  # noqa: B010  # not a slot
    error = extras.get("error")
    if error is not None:
        if not isinstance(error, str):
            raise ValueError("record extra 'error' is not a string")
        setattr(ind, "error", error)  # noqa: B010  # not a slot
    if "surrogate" in extras:
        setattr(ind, "surrogate", extras["surrogate"])  # noqa: B010  # not a slot
    island_rank = extras.get("island_rank")
    if island_rank is not None:
        if not isinstance(island_rank, int) or isinstance(island_rank, bool):
            raise ValueError("record extra 'island_rank' is not an int")
        ind._island_rank = island_rank
    keys = extras.get(_USER_KEYS)
    if keys is not None:
        if not isinstance(keys, dict) or not all(
            isinstance(k, str) and k.startswith("_") for k in keys
        ):
            raise ValueError(f"record extra {_USER_KEYS!r} is not an object of '_' keys")
        ind.extras.update(keys)


def _plain(value: Any) -> Any:
    """A JSON-able form of a value kept under an individual's ``_`` key."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    log.warning(
        "An individual's '_' key holds a %s, which a checkpoint cannot store: its repr() is "
        "stored instead. Keep numbers, strings, lists or dicts of them under '_' keys.",
        type(value).__name__,
    )
    return repr(value)


def _has_continuous_ints(ind: Individual) -> bool:
    """Whether an int slot of the position holds a non-integral value (particle swarms do)."""
    position = ind._position
    if position is None:
        return False
    return any(
        d.kind == "int" and position[d.offset] != int(position[d.offset]) for d in ind.search_space
    )
