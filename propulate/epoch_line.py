"""Live feedback from long evaluations: every rank's intermediate values on the console.

While a loss function trains, each intermediate value it yields (or hands to
:func:`~propulate.report_intermediate`) may be shown as a line such as
``rank 3 · ind 12 · epoch 4 · loss 0.0931 · 2 min 10 s``: the worker's rank, the generation
of the individual on that rank, the step, the value (shown by a
:data:`~propulate.progress.ValueFormat`, e.g. as an accuracy) and how long the evaluation has
run. The lines of one rank come at most
every ``epoch_seconds`` seconds, so a fast training does not flood the console. They are logged
at INFO and marked to pass :func:`~propulate.set_logger_config`'s filter on every rank, which
otherwise lets only rank 0's INFO lines through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from .population import Individual
from .progress import ValueFormat, format_loss
from .reporting import EVERY_RANK, format_duration
from .validation import check_number

__all__ = ["EpochLine", "check_epoch_seconds", "EPOCH_SECONDS"]

EPOCH_SECONDS = 30.0  # the default pause between two lines of one rank


def check_epoch_seconds(owner: str, value: Any) -> float | None:
    """``epoch_seconds`` checked: ``None`` (no lines) or a number of seconds >= 0."""
    if value is None:
        return None
    return check_number(owner, "epoch_seconds", value, 0, example=EPOCH_SECONDS,
                        note="0 shows every value, None none")  # fmt: skip


class EpochLine:
    """Shows one rank's intermediate values, at most once every ``seconds``.

    Parameters
    ----------
    rank : int
        The rank shown in the lines.
    seconds : float or None
        The least time between two lines (0: every value; ``None``: no lines).
    logger : logging.Logger, optional
        Where the lines go (default: this module's logger).
    value_format : callable, optional
        Shows a value (default :func:`~propulate.progress.format_loss`).
    clock : callable
        Seconds on a monotonic clock (a fake clock in tests).
    """

    def __init__(
        self,
        rank: int,
        seconds: float | None = EPOCH_SECONDS,
        logger: logging.Logger | None = None,
        value_format: ValueFormat | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rank = rank
        self.seconds = seconds
        self.log = logger if logger is not None else logging.getLogger(__name__)
        self.value_format = value_format or format_loss
        self.clock = clock
        self._last: float | None = None  # when the last line was logged

    def hook(self, child: Individual) -> Callable[[int, float, float], None] | None:
        """The ``on_value`` hook that shows ``child``'s intermediate values (``None``: silent)."""
        if self.seconds is None:
            return None
        generation = child.generation

        def on_value(step: int, value: float, seconds: float) -> None:
            self.show(generation, step, value, seconds)

        return on_value

    def show(self, generation: int, step: int, value: float, seconds: float) -> bool:
        """Log a line for this value unless the last one is too recent; return whether logged."""
        if self.seconds is None:
            return False
        now = self.clock()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        self.log.info(
            "rank %d · ind %d · epoch %d · %s · %s",
            self.rank,
            generation,
            step,
            self.value_format(value),
            format_duration(seconds),
            extra={EVERY_RANK: True},
        )
        return True
