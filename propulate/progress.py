"""The progress line a run logs now and then: evaluations done, best loss, rate and ETA.

The ETA is the island's, not only the logging worker's: :class:`IslandPace` learns from every
result bred on the island (this worker's and its peers') when each worker finished its last
evaluation and which generation it was, and counts the evaluations the other workers have under
way, so that the line still shows time left while other ranks train.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .population import Individual
from .reporting import format_duration

__all__ = ["ProgressLine", "Progress", "IslandPace", "ValueFormat", "format_loss"]

ValueFormat = Callable[[float], str]
"""Shows a loss with its name, e.g. ``"loss 0.0123"`` or ``"accuracy 98.1 %"``."""


def format_loss(value: float) -> str:
    """``"loss 0.0123"``: the default :data:`ValueFormat` (``"loss n/a"`` if not finite)."""
    return f"loss {value:.6g}" if math.isfinite(value) else "loss n/a"


@dataclass(frozen=True)
class Progress:
    """Where a worker stands, as the progress line needs it.

    Attributes
    ----------
    island : int
        The worker's island.
    rank : int
        The worker's rank (for the per-worker debug line; the ``worker`` of its individuals).
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


class IslandPace:
    """What the island's workers are doing, learned from their results, to estimate its end.

    Each result tells when its worker finished it (``evaltime``, Unix time), which generation
    it was and how long it took. A worker with generations left is taken to be evaluating its
    next individual since its last result (since the run began if none arrived yet); that
    evaluation is expected to last the mean duration of that worker's results in this run (of
    the island's, before its first; at least as long as the one under way has run), less the
    time it has run already. Workers on other hosts
    are compared by their clocks: a skew between hosts shifts the estimate by as much. The work
    per result is constant.

    Parameters
    ----------
    island : int
        The island whose results count (immigrants, bred elsewhere, are ignored).
    clock : callable
        Unix time now (a fake clock in tests).
    """

    def __init__(self, island: int, clock: Callable[[], float] = time.time) -> None:
        self.island = island
        self.clock = clock
        self.began = clock()
        # worker -> [Unix time its last result finished, its next generation, seconds, results]
        self.workers: dict[int, list[float]] = {}
        self.seconds = 0.0
        self.count = 0

    def learn(self, ind: Individual) -> None:
        """Take note of a result of this run (this worker's or a peer's)."""
        if ind.island != self.island:
            return
        finished = float(ind.evaltime) if math.isfinite(ind.evaltime) else self.clock()
        worker = self.workers.setdefault(ind.worker, [-math.inf, 0, 0.0, 0])
        if finished >= worker[0]:
            worker[0], worker[1] = finished, ind.generation + 1
        if math.isfinite(ind.evalperiod) and ind.evalperiod >= 0:
            worker[2] += ind.evalperiod
            worker[3] += 1
            self.seconds += ind.evalperiod
            self.count += 1

    @property
    def mean_duration(self) -> float | None:
        """The mean duration of this run's evaluations, in seconds (``None`` before any)."""
        return self.seconds / self.count if self.count else None

    def estimate(self, now: Progress) -> tuple[float | None, int]:
        """The seconds until the island is done, and how many evaluations other workers run.

        The worker ``now`` describes is between two evaluations. The seconds are ``None`` for
        an unbounded run (no ``generations``, no ``total_evaluations``) or before any result.
        With ``generations``, the island is done when its slowest worker is: each worker needs
        the rest of its current evaluation and one mean duration per generation left. With
        ``total_evaluations``, the evaluations left are shared by all workers, once those under
        way are done.
        """
        duration = self.mean_duration
        start = max(now.generation - now.own, 0)  # where this worker began this run
        clock = self.clock()
        own = self.workers.get(now.rank)
        mine = own[2] / own[3] if own and own[3] else duration
        lefts = [0.0]  # this worker starts its next evaluation now
        plans = [0.0 if mine is None else max(now.generations - now.generation, 0) * mine]
        others = [v for worker, v in self.workers.items() if worker != now.rank]
        # Peers not heard from in this run began when this worker did, at the same generation.
        others += [[self.began, start, 0.0, 0]] * max(now.workers - 1 - len(others), 0)
        for finished, generation, seconds, count in others:
            if 0 <= now.generations <= generation:
                continue  # this worker is done
            pace = seconds / count if count else duration
            if pace is not None:
                # An evaluation under way for longer than the mean takes at least that long.
                pace = max(pace, clock - finished)
            left = 0.0 if pace is None else max(pace - (clock - finished), 0.0)
            lefts.append(left)
            if now.generations >= 0 and pace is not None:
                plans.append(left + (now.generations - generation - 1) * pace)
        if now.total_evaluations is not None:
            # No worker starts an evaluation beyond the budget: at most what is left of it runs.
            left_to_start = max(now.total_evaluations - now.known, 0)
            lefts = [0.0, *sorted(lefts[1:], reverse=True)[:left_to_start]]
        running = len(lefts) - 1
        if duration is None:
            return None, running
        if now.total_evaluations is not None:
            rest = max(now.total_evaluations - now.known - running, 0)
            return max(max(lefts), (sum(lefts) + rest * duration) / max(now.workers, 1)), running
        if now.generations >= 0:
            return max(plans), running
        return None, running


class ProgressLine:
    """Logs progress lines for one run of one worker.

    The line shows the evaluations of the island the worker knows against the expected total
    (the island's ``total_evaluations``, or ``generations`` times the island's workers) when the
    run is bounded, and how many evaluations other workers have under way; the best loss seen
    so far (remembered, since the best individual may later leave the island); the evaluations
    per second, measured from the growth of the known evaluations since the first line (before
    that, estimated from this worker's own pace); and the island's ETA (see
    :class:`IslandPace`), or the time budget left, whichever ends first. Only the island's
    first worker logs at INFO; the others log their own pace at DEBUG.

    Parameters
    ----------
    logger : logging.Logger, optional
        Where the lines go (default: this module's logger).
    island : int
        The worker's island (whose results the ETA counts).
    value_format : callable, optional
        Shows the best loss (default :func:`format_loss`), e.g. as an accuracy.
    clock : callable
        Unix time now (a fake clock in tests).
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        island: int = 0,
        value_format: ValueFormat | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log = logger if logger is not None else logging.getLogger(__name__)
        self.pace = IslandPace(island, clock)
        self.value_format = value_format or format_loss
        # (elapsed, evaluations known) at the first line of this run.
        self._baseline: tuple[float, int] | None = None
        self._best_seen = math.inf

    def learn(self, ind: Individual) -> None:
        """Take note of a result of this run (see :meth:`IslandPace.learn`)."""
        self.pace.learn(ind)

    def report(self, now: Progress) -> None:
        """Log the line for ``now``."""
        elapsed = max(now.elapsed, 1e-9)
        pace = elapsed / now.own if now.own else math.nan  # seconds per evaluation, this worker
        island_eta, running = self.pace.estimate(now)
        etas = [] if island_eta is None else [island_eta]
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
            "Island %d: %s%s, best %s, %.3g evaluations/s%s",
            now.island,
            done,
            f", {running} running" if running else "",
            self.value_format(best),
            rate,
            eta,
        )
