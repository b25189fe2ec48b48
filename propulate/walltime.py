"""Walltime awareness: do not start an evaluation that cannot finish before the job ends.

The job ends at the allocation's end, ``SLURM_JOB_END_TIME`` (Unix seconds; SLURM sets it in a
job's environment), or when the run's ``time_budget`` is used up, whichever comes first. Before
a worker breeds a new individual it compares the time left with how long an evaluation takes:
the longest of the last :data:`WINDOW` durations it knows (its island's, the checkpoint's
included, so a resumed job knows from its start). If the time left is shorter, it starts no new
evaluation, says why, and the run ends as at its ``time_budget``; the allocation's remaining
time is not spent on an evaluation that would be killed, or interrupted, before it ends.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Iterable, Mapping

__all__ = ["Walltime", "allocation_end", "WINDOW"]

log = logging.getLogger("propulate.propulator")
#: The number of recent durations an estimate looks at.
WINDOW = 20
END_VARIABLE = "SLURM_JOB_END_TIME"


def allocation_end(environ: Mapping[str, str] | None = None) -> float | None:
    """The Unix time at which the allocation ends (``SLURM_JOB_END_TIME``), if known."""
    value = (os.environ if environ is None else environ).get(END_VARIABLE)
    if value is None or not value.strip():
        return None
    try:
        end = float(value)
    except ValueError:
        log.warning("%s=%r is not a Unix time in seconds; ignored.", END_VARIABLE, value)
        return None
    return end if math.isfinite(end) and end > 0 else None


class Walltime:
    """The end of the job and the estimate of an evaluation's duration, for one worker.

    Parameters
    ----------
    end : float or None
        The Unix time at which the job ends (``None``: no end known).
    durations : iterable of float
        Durations already known (e.g. read from the checkpoint), oldest first.
    """

    def __init__(self, end: float | None, durations: Iterable[float] = ()) -> None:
        self.end = end
        self.durations: deque[float] = deque(maxlen=WINDOW)
        for duration in durations:
            self.record(duration)

    @classmethod
    def for_run(
        cls, time_budget: float | None, durations: Iterable[float] = (), now: float | None = None
    ) -> Walltime:
        """The allocation's end or the end of ``time_budget`` from ``now``, whichever is first."""
        now = time.time() if now is None else now
        ends = [end for end in (allocation_end(),) if end is not None]
        if time_budget is not None:
            ends.append(now + time_budget)
        return cls(min(ends) if ends else None, durations)

    def record(self, duration: float | None) -> None:
        """Take in the duration of an evaluation (ignored if not a positive number)."""
        if duration is not None and math.isfinite(duration) and duration > 0:
            self.durations.append(float(duration))

    @property
    def estimate(self) -> float | None:
        """How long a new evaluation is expected to take (``None``: nothing known yet)."""
        return max(self.durations) if self.durations else None

    def too_late(self, now: float | None = None) -> str | None:
        """Why a new evaluation should not start now (``None``: it may)."""
        estimate = self.estimate
        if self.end is None or estimate is None:
            return None
        left = self.end - (time.time() if now is None else now)
        if left >= estimate:
            return None
        return (
            f"{max(left, 0.0):.1f} s are left before the job ends, and an evaluation takes up to "
            f"{estimate:.1f} s (the longest of the last {len(self.durations)})"
        )
