"""How a run goes: its stop conditions and logging (see :class:`~propulate.run.Run`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .epoch_line import EPOCH_SECONDS
from .validation import check_int, fail

__all__ = ["RunSettings", "check_total_evaluations"]


def check_total_evaluations(owner: str, total: Any, generations: int) -> int | None:
    """``total_evaluations`` checked: ``None``, or an int >= 1 given with ``generations=-1``.

    The two stop conditions count different things (an island's evaluations, a worker's
    generations), so a run takes one of them; the error says which to drop.
    """
    if total is None:
        return None
    total = check_int(owner, "total_evaluations", total, 1, example=800)
    if generations != -1:
        fail(owner, "generations", generations,
             f"-1 (unbounded) when total_evaluations={total} bounds the island's evaluations "
             "(drop one of the two)", -1)  # fmt: skip
    return total


@dataclass(frozen=True)
class RunSettings:
    """How a run goes (see :class:`~propulate.Propulator` and :meth:`~propulate.Propulator.start`).

    Attributes
    ----------
    rank : int
        The worker's rank in the whole optimization (for log lines).
    island : int
        The worker's island.
    generations : int
        Generations per worker (-1: unbounded).
    time_budget : float or None
        Seconds after which no new evaluation starts.
    total_evaluations : int or None
        Evaluations of the whole island after which no new evaluation starts (see
        :meth:`Run.budget_spent`).
    raise_on_loss_error : bool
        Whether the first failed evaluation stops the run.
    logging_interval, debug : int
        Progress lines every this many generations; how much to log.
    batch_seconds : float
        How long a result may wait to go to the peers with later ones (see
        :class:`~propulate.peers.Peers`; 0: each at once).
    epoch_seconds : float or None
        The least seconds between two lines of intermediate values (see
        :mod:`propulate.epoch_line`; ``None``: none).
    value_format : callable, optional
        How the console shows a loss (see :meth:`propulate.objectives.Objectives.value_format`).
    """

    rank: int
    island: int = 0
    generations: int = -1
    time_budget: float | None = None
    raise_on_loss_error: bool = False
    logging_interval: int = 10
    debug: int = -1
    total_evaluations: int | None = None
    batch_seconds: float = 0.0
    epoch_seconds: float | None = EPOCH_SECONDS
    value_format: Callable[[float], str] | None = None
