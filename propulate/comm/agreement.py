"""Agreeing that every rank is ready, so that a failure on some ranks never leaves others waiting.

A rank whose set-up fails (its log cannot be opened, its state file does not parse...) leaves
the run; a peer that went on would wait at the shutdown for a rank that is gone. So once every
rank has tried its set-up, they exchange one short report each (``None``: ready; else what went
wrong) with a collective over :class:`~propulate.comm.Collectives`, and all go on only if all
are ready.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import comm
from ..errors import PeerError

__all__ = ["agree", "agree_to_start"]


def agree(collectives: comm.Collectives | None, failure: str | None) -> dict[int, str]:
    """Tell every rank whether this one is ready; return the failures of all ranks.

    A collective: every rank of ``collectives`` must call it, failed or not.

    Parameters
    ----------
    collectives : Collectives or None
        The ranks that agree (``None``: this rank alone).
    failure : str or None
        ``None`` if this rank is ready, otherwise a one-line description of what failed.

    Returns
    -------
    dict of int to str
        The failure of every rank that reported one, by rank in ``collectives``.
    """
    if collectives is None or collectives.size == 1:
        return {} if failure is None else {0 if collectives is None else collectives.rank: failure}
    reports = collectives.allgather(failure)
    return {rank: report for rank, report in enumerate(reports) if report is not None}


def agree_to_start(
    collectives: comm.Collectives | None, error: BaseException | None, abort: Callable[[], None]
) -> None:
    """Go on only if every rank started; else every rank leaves.

    A collective, as :func:`agree`. A rank that failed (``error`` set) returns, to raise its own
    error; a rank that started while another failed calls ``abort`` and raises.

    Raises
    ------
    PeerError
        If this rank started but another one failed.
    """
    failure = None if error is None else f"{type(error).__name__}: {error}"
    failures = agree(collectives, failure)
    if error is None and failures:
        abort()
        ranks = ", ".join(str(rank) for rank in sorted(failures))
        first = failures[min(failures)]
        raise PeerError(
            f"rank(s) {ranks} could not start ({first}), so no rank runs; nothing was "
            f"evaluated. Fix what that rank reports (its own error is raised there) and "
            "rerun: the checkpoint is as it was."
        )
