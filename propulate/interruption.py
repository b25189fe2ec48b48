"""Ending an evaluation before its loss function returns: interruptions and the time limit.

An evaluation in progress is *interrupted* when the run must end before it does: on SIGTERM or
SIGINT (see :mod:`propulate.signals`) or once the run's ``time_budget`` is used up. A loss
function that yields intermediate values (or calls :func:`~propulate.report_intermediate`) is
stopped at its next one; the individual is kept with status ``"interrupted"`` and its curve,
and the next run on the checkpoint resumes it first (see :mod:`propulate.unfinished`). A loss
function that never yields is not stopped by the first signal; a second one raises
:class:`EvaluationInterrupted` inside it, with the same outcome.

An evaluation that runs longer than ``max_eval_seconds`` is stopped too, at its next
intermediate value or, in the main thread of a one-rank worker, by an alarm that raises
:class:`EvaluationTimeout` inside the loss function; it is recorded as failed and not resumed.
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
from typing import Any

__all__ = ["EvaluationInterrupted", "EvaluationTimeout", "Circumstances", "alarm_after"]


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
    """

    workdir: Path | None = None
    interrupt: Callable[[], str | None] | None = None
    max_seconds: float | None = None
    curve: tuple[float, ...] = ()
    duration: float = 0.0
    on_value: Callable[[int, float, float], None] | None = None


@contextmanager
def alarm_after(seconds: float | None, running: Callable[[], bool]) -> Iterator[None]:
    """Within the block, raise :class:`EvaluationTimeout` after ``seconds`` (if ``running()``).

    Only in the main thread (where Python delivers signals) and where ``SIGALRM`` exists;
    elsewhere the limit is checked at intermediate values only.
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
        if running():
            raise EvaluationTimeout(f"ran longer than max_eval_seconds={seconds:g}")

    previous: Any = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
