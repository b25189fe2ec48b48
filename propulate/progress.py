"""The progress line a run logs now and then: evaluations done, best loss, rate and ETA."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from .reporting import format_duration

__all__ = ["ProgressLine", "Progress"]


@dataclass(frozen=True)
class Progress:
    """Where a worker stands, as the progress line needs it.

    Attributes
    ----------
    island : int
        The worker's island.
    rank : int
        The worker's rank (for the per-worker debug line).
    workers : int
        The number of workers of the island.
    first : bool
        Whether this is the island's first worker (the one that logs at INFO).
    generation, generations : int
        This worker's next generation, and the generations per worker (-1: unbounded).
    own : int
        Evaluations this worker made in this run.
    known : int
        Evaluations of this island the worker knows (resumed ones included; immigrants, bred
        elsewhere, do not count).
    best : float
        The best loss of the island's active individuals (``inf`` if none).
    elapsed : float
        Seconds since the start of the run.
    time_budget : float or None
        The run's time budget in seconds.
    total_evaluations : int or None
        The island's budget of evaluations, if the run has one.
    """

    island: int
    rank: int
    workers: int
    first: bool
    generation: int
    generations: int
    own: int
    known: int
    best: float
    elapsed: float
    time_budget: float | None
    total_evaluations: int | None = None


class ProgressLine:
    """Logs progress lines for one run of one worker.

    The line shows the evaluations of the island the worker knows against the expected total
    (the island's ``total_evaluations``, or ``generations`` times the island's workers) when the
    run is bounded; the best loss seen so far (remembered, since the best individual may later
    leave the island); the evaluations per second, measured from the growth of the known
    evaluations since the first line (before that, estimated from this worker's own pace); and
    an ETA from this worker's pace and remaining generations (or the island's remaining budget
    shared by its workers), or the time budget, whichever ends first. Only the island's first
    worker logs at INFO; the others log their own pace at DEBUG.

    Parameters
    ----------
    logger : logging.Logger, optional
        Where the lines go (default: this module's logger).
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger if logger is not None else logging.getLogger(__name__)
        # (elapsed, evaluations known) at the first line of this run.
        self._baseline: tuple[float, int] | None = None
        self._best_seen = math.inf

    def report(self, now: Progress) -> None:
        """Log the line for ``now``."""
        elapsed = max(now.elapsed, 1e-9)
        pace = elapsed / now.own if now.own else math.nan  # seconds per evaluation, this worker
        etas = []
        if now.generations >= 0 and now.own:
            etas.append(max(now.generations - now.generation, 0) * pace)
        if now.total_evaluations is not None and now.own:
            etas.append(max(now.total_evaluations - now.known, 0) * pace / now.workers)
        if now.time_budget is not None:
            etas.append(max(now.time_budget - elapsed, 0.0))
        eta = f", ETA {format_duration(min(etas))}" if etas else ""
        if not now.first:
            self.log.debug(
                "Rank %d (island %d): generation %d%s, %s per evaluation%s",
                now.rank,
                now.island,
                now.generation,
                f"/{now.generations}" if now.generations >= 0 else "",
                format_duration(pace),
                eta,
            )
            return
        if self._baseline is None:
            self._baseline = (elapsed, now.known)
            rate = now.workers / pace if now.own else 0.0
        else:
            rate = (now.known - self._baseline[1]) / max(elapsed - self._baseline[0], 1e-9)
        self._best_seen = best = min(self._best_seen, now.best)
        expected = now.generations * now.workers if now.generations >= 0 else None
        if now.total_evaluations is not None:
            expected = now.total_evaluations
        if expected is not None:
            done = f"{now.known}/{expected} evaluations ({100 * now.known / max(expected, 1):.0f}%)"
        else:
            done = f"{now.known} evaluations"
        self.log.info(
            "Island %d: %s, best loss %s, %.3g evaluations/s%s",
            now.island,
            done,
            f"{best:.6g}" if math.isfinite(best) else "n/a",
            rate,
            eta,
        )
