"""Graceful stop on SIGTERM / SIGINT: finish the current evaluation, then shut down cleanly."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

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

    A second SIGINT raises :class:`KeyboardInterrupt` at once, for a user who really wants out.
    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("Received %s: stopping after the current evaluation.", name)
        stop.set(name)

    for signum in (signal.SIGTERM.value, signal.SIGINT.value):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
