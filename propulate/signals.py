"""Graceful stop on SIGTERM / SIGINT: end the current evaluation, then shut down cleanly.

The first signal sets the run's :class:`StopRequest`: no evaluation starts any more, and the one
in progress is interrupted at its next intermediate value (see :mod:`propulate.interruption`),
or finishes if its loss function never yields. A second signal during an evaluation raises
:class:`~propulate.interruption.EvaluationInterrupted` inside the loss function, which leaves it
at once (recorded as interrupted, resumed by the next run); a second SIGINT outside an
evaluation raises :class:`KeyboardInterrupt`. The ranks of a multi-rank worker catch them
each; a signal to any one of them stops the worker's evaluation at its next intermediate value
(see :mod:`propulate.interruption`).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from .evaluation import in_evaluation, settling
from .interruption import EvaluationInterrupted

__all__ = ["StopRequest", "stop_on_signals"]

log = logging.getLogger(__name__)


class StopRequest:
    """A flag set when the run should stop after the current evaluation."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def __bool__(self) -> bool:
        return self.reason is not None

    def set(self, reason: str) -> None:
        """Ask the run to stop (the first reason given is kept)."""
        if self.reason is None:
            self.reason = reason


@contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Within the block, SIGTERM and SIGINT set ``stop`` instead of killing the process.

    A second signal leaves the evaluation in progress at once (see the module's docstring); a
    second SIGINT outside one raises :class:`KeyboardInterrupt`, for a user who really wants out.
    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop and settling():
            # The ranks of a multi-rank worker are agreeing, and this rank votes to stop: the
            # evaluation ends as soon as they agreed. Leaving half-way would strand the others.
            log.warning("Received %s again while the worker's ranks agree to stop.", name)
            return
        if stop and in_evaluation():
            log.warning("Received %s again: leaving the evaluation in progress now; the next "
                        "run resumes it.", name)  # fmt: skip
            raise EvaluationInterrupted(f"{name} twice")
        if stop and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("Received %s: stopping at the current evaluation's next intermediate value "
                    "(or when it ends).", name)  # fmt: skip
        stop.set(name)

    for signum in (signal.SIGTERM.value, signal.SIGINT.value):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
