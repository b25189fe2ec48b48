"""Agreeing that every rank is ready, so that a failure on some ranks never leaves others waiting.

A rank whose set-up fails (its log cannot be opened, its state file does not parse...) leaves
the run; a peer that went on would wait at the shutdown for a rank that is gone. So once every
rank has tried its set-up, they exchange one short report each (``None``: ready; else what went
wrong) with a collective over :class:`~propulate.comm.Collectives`, and all go on only if all
are ready.
"""

from __future__ import annotations

from .. import comm

__all__ = ["agree"]


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
