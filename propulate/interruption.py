"""Ending an evaluation before its loss function returns: interruptions and the time limit.

An evaluation in progress is *interrupted* when the run must end before it does: on SIGTERM or
SIGINT (see :mod:`propulate.signals`) or once the run's ``time_budget`` is used up. A loss
function that yields intermediate values (or calls :func:`~propulate.report_intermediate`) is
stopped at its next one; the individual is kept with status ``"interrupted"`` and its curve,
and the next run on the checkpoint resumes it first (see :mod:`propulate.unfinished`). A loss
function that never yields is not stopped by the first signal; a second one raises
:class:`EvaluationInterrupted` inside it, with the same outcome.

An evaluation that runs longer than ``max_eval_seconds`` is stopped too, at its next
intermediate value or, in the main thread, by an alarm that raises :class:`EvaluationTimeout`
inside the loss function; it is recorded as failed and not resumed.

Multi-rank workers: the ranks of a worker evaluate together, and a signal may reach only some
of them (``kill`` hits one process; SLURM signals all). So at every intermediate value each
rank casts a :func:`vote` (go on, interrupted and why, over the time limit, pruned by the
first rank's early-stopping rule) and the worker's ranks take the highest vote of any of them
(one small allreduce over the worker's communicator, :meth:`~propulate.comm.WorkerGroup.agree`):
all stop at the same value, for the same reason, or none does. A rank whose loss function ended
(returned, failed, left) waits in :func:`close` until every rank's has, voting its end, which
stops a rank still in its loss function at its next value; so a failure on one rank fails the
evaluation on all. The first rank records the outcome once. A loss function that never
yields is left by the second signal or by the alarm on each rank that gets it: every rank of
the worker arms the alarm with the same limit, and SLURM sends the signal to every rank, but a
second ``kill`` must be sent to every rank of the worker too. A rank blocked inside an MPI call
of the loss function runs neither until the call returns. While its ranks agree, an alarm waits
(a few milliseconds) and a second signal is not needed (the agreement already stops the
evaluation), so the agreement itself is never left half-way.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple

__all__ = [
    "EvaluationInterrupted",
    "EvaluationTimeout",
    "Circumstances",
    "alarm_after",
    "Verdict",
    "vote",
    "ended_vote",
    "verdict",
    "close",
]


class EvaluationInterrupted(BaseException):
    """Raised inside a loss function by a second SIGTERM or SIGINT: leave now, resume later.

    A :class:`BaseException`, so that a loss function's ``except Exception`` does not swallow it.
    """


class EvaluationTimeout(Exception):
    """Raised inside a loss function that runs longer than ``max_eval_seconds``."""


@dataclass(frozen=True)
class Circumstances:
    """What an evaluation is given besides its parameters.

    Attributes
    ----------
    workdir : Path or None
        The individual's working folder (:func:`~propulate.current_dir`).
    interrupt : callable or None
        Called at every intermediate value; a reason (``"SIGTERM"``, ``"time budget"``) means
        interrupt the evaluation now, ``None`` go on.
    max_seconds : float or None
        The limit on the evaluation's duration (resumed parts included).
    curve : tuple of float
        The intermediate values of the interrupted evaluation this one resumes.
    duration : float
        The seconds that interrupted evaluation ran.
    on_value : callable or None
        Called as ``on_value(step, value, seconds)`` with every intermediate value (``step``
        counts from 1, ``seconds`` is the evaluation's duration so far), to show progress.
    agree : callable or None
        On a multi-rank worker, :meth:`~propulate.comm.WorkerGroup.agree`: called on every
        rank with this rank's :func:`vote` at every intermediate value (the largest vote of the
        worker's ranks decides for all) and by :func:`close`. ``None``: this rank decides alone.
    """

    workdir: Path | None = None
    interrupt: Callable[[], str | None] | None = None
    max_seconds: float | None = None
    curve: tuple[float, ...] = ()
    duration: float = 0.0
    on_value: Callable[[int, float, float], None] | None = None
    agree: Callable[[int], tuple[int, int]] | None = None


# The votes of the ranks of a multi-rank worker at an intermediate value, by precedence: the
# highest vote of any rank is what all ranks do. As on a one-rank worker (which checks them in
# this order), pruning outranks the time limit, which outranks an interruption: a failed
# evaluation must not be resumed. A rank whose loss function has ended votes one of the last
# three until every rank's has (see close), so a rank still in its loss function stops too.
_GO_ON = 0
_REASONS = ("time budget", "SIGINT", "SIGTERM")
_OTHER_REASON = len(_REASONS) + 1
_OVER_LIMIT = _OTHER_REASON + 1
_PRUNED = _OVER_LIMIT + 1
_ENDED, _ENDED_INTERRUPTED, _ENDED_FAILED = _PRUNED + 1, _PRUNED + 2, _PRUNED + 3


class Verdict(NamedTuple):
    """What the ranks of a multi-rank worker agreed to do at an intermediate value."""

    pruned: bool
    over_limit: bool
    reason: str | None
    failure: str | None


def vote(pruned: bool = False, over_limit: bool = False, reason: str | None = None) -> int:
    """One rank's view of an intermediate value, as a vote for ``WorkerGroup.agree``.

    Parameters
    ----------
    pruned : bool
        Whether the early-stopping rule stops the evaluation (only the first rank has one).
    over_limit : bool
        Whether the evaluation ran longer than ``max_eval_seconds``.
    reason : str or None
        Why to interrupt it (``"SIGTERM"``, ``"SIGINT"``, ``"time budget"``...), ``None``: don't.

    Returns
    -------
    int
        The vote; a larger one takes precedence.
    """
    if pruned:
        return _PRUNED
    if over_limit:
        return _OVER_LIMIT
    if reason is None:
        return _GO_ON
    return _REASONS.index(reason) + 1 if reason in _REASONS else _OTHER_REASON


def ended_vote(status: str) -> int:
    """The vote of a rank whose loss function ended with ``status`` (see :func:`close`)."""
    if status == "failed":
        return _ENDED_FAILED
    return _ENDED_INTERRUPTED if status == "interrupted" else _ENDED


def verdict(agreed: int) -> Verdict:
    """Decode the agreed (largest) vote of a worker's ranks at an intermediate value.

    Parameters
    ----------
    agreed : int
        The largest vote.

    Returns
    -------
    Verdict
        Pruned, over the time limit, why to interrupt (``"interrupted"`` for a reason other
        than the signals and the time budget), or why another rank's end stops this one.
    """
    if agreed == _ENDED_FAILED:
        return Verdict(False, False, None, _OTHER_FAILED)
    if agreed == _ENDED_INTERRUPTED:
        return Verdict(False, False, "interrupted on another rank of the worker", None)
    if agreed == _ENDED:
        return Verdict(False, False, None, _OTHER_ENDED)
    if agreed in (_PRUNED, _OVER_LIMIT, _GO_ON):
        return Verdict(agreed == _PRUNED, agreed == _OVER_LIMIT, None, None)
    return Verdict(False, False, _REASONS[agreed - 1] if agreed <= len(_REASONS) else "interrupted",
                   None)  # fmt: skip


_OTHER_FAILED = "another rank of the multi-rank worker failed in this evaluation"
_OTHER_ENDED = ("another rank of the multi-rank worker ended this evaluation at an earlier "
                "value: every rank must yield (or report) as many values")  # fmt: skip


def close(agree: Callable[[int], tuple[int, int]], status: str) -> str | None:
    """Wait, on a rank whose loss function ended, until every rank of the worker ended too.

    A collective of the worker's ranks: each rank calls it once its loss function ended, after
    any number of agreements at intermediate values. Its vote (:func:`ended_vote`) outranks
    every other, so a rank still in its loss function stops at its next value; the ranks leave
    together once all voted an end. Without a rank that is late, this is one agreement.

    Parameters
    ----------
    agree : callable
        :meth:`~propulate.comm.WorkerGroup.agree`.
    status : str
        This rank's outcome.

    Returns
    -------
    str or None
        Why this rank's outcome must count as failed (another rank failed), else ``None``.
    """
    mine = ended_vote(status)
    while True:
        largest, smallest = agree(mine)
        if smallest >= _ENDED:
            return _OTHER_FAILED if largest == _ENDED_FAILED and mine != largest else None


#: Seconds an alarm waits for the ranks of a multi-rank worker to finish agreeing.
ALARM_RETRY = 0.01


@contextmanager
def alarm_after(
    seconds: float | None, running: Callable[[], bool], busy: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Within the block, raise :class:`EvaluationTimeout` after ``seconds`` (if ``running()``).

    Only in the main thread (where Python delivers signals) and where ``SIGALRM`` exists;
    elsewhere the limit is checked at intermediate values only. While ``busy()`` (the ranks of
    a multi-rank worker agreeing), the alarm is put off by ``ALARM_RETRY`` seconds: leaving
    half-way would leave the other ranks waiting in the agreement.
    """
    if (
        seconds is None
        or not math.isfinite(seconds)
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if busy is not None and busy():
            signal.setitimer(signal.ITIMER_REAL, ALARM_RETRY)
            return
        if running():
            raise EvaluationTimeout(f"ran longer than max_eval_seconds={seconds:g}")

    previous: Any = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
