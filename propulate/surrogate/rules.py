"""Rules that compare a run's learning curve with earlier runs': static, median, ASHA."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sortedcontainers import SortedList

from ..validation import check_int
from .base import CurveRule, check_margin, loosened

__all__ = ["StaticSurrogate", "MedianStoppingRule", "ASHA"]


class StaticSurrogate(CurveRule):
    """Stop a run that falls behind the best completed learning curve by more than a margin.

    The reference (*baseline*) is the curve of the completed run with the lowest loss that this
    rank knows, its own or a peer's. At step ``s`` a run is stopped if its value is worse than
    the baseline's value at step ``s`` loosened by the margin (for positive losses: larger than
    ``baseline[s] / margin``). Nothing is stopped before the first run completed, nor past the
    baseline's length.

    Parameters
    ----------
    margin : float
        In (0, 1]; 0.8 tolerates values 25 % worse than the baseline, 1 none.
    """

    def __init__(self, margin: float = 0.8) -> None:
        super().__init__()
        self.margin = check_margin("StaticSurrogate", margin)
        self.baseline: np.ndarray = np.zeros(0)
        self.baseline_loss = math.inf

    def _decide(self, step: int, value: float) -> bool:
        if step > self.baseline.size:
            return False
        return value > loosened(float(self.baseline[step - 1]), self.margin)

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        if completed and loss < self.baseline_loss:
            self.baseline = np.asarray(curve, dtype=float)
            self.baseline_loss = loss


class MedianStoppingRule(CurveRule):
    """Stop a run whose value is worse than the median of earlier runs at the same step.

    At step ``s`` the reference is the median of the values at step ``s`` of every earlier run
    (completed or pruned) that reached it. The rule applies only after ``warmup_steps`` steps,
    once ``min_runs`` runs completed, and where at least ``min_runs`` earlier runs reached the
    step; it never stops a run at the step where the longest completed run ended.

    Parameters
    ----------
    warmup_steps : int
        Steps every run may take before the rule applies.
    min_runs : int
        Completed runs (and earlier runs at the step) needed before the rule applies.

    Notes
    -----
    Each step keeps its values in a sorted list: recording a run costs O(L log N) and each
    decision O(log N), for N runs of L steps.
    """

    def __init__(self, warmup_steps: int = 0, min_runs: int = 5) -> None:
        super().__init__()
        self.warmup_steps = check_int(
            "MedianStoppingRule", "warmup_steps", warmup_steps, 0, example=1
        )
        self.min_runs = check_int("MedianStoppingRule", "min_runs", min_runs, 1, example=5)
        self._by_step: list[SortedList] = []

    def median(self, step: int) -> float:
        """The median value at ``step`` (counted from 1) of the runs seen; ``nan`` if none."""
        if step > len(self._by_step):
            return math.nan
        values = self._by_step[step - 1]
        n = len(values)
        if n == 0:
            return math.nan
        if n % 2:
            return float(values[n // 2])
        return 0.5 * (float(values[n // 2 - 1]) + float(values[n // 2]))

    def _decide(self, step: int, value: float) -> bool:
        if step <= self.warmup_steps or self.completed_runs < self.min_runs:
            return False
        if step > len(self._by_step) or len(self._by_step[step - 1]) < self.min_runs:
            return False
        return value > self.median(step)

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        while len(self._by_step) < len(curve):
            self._by_step.append(SortedList())
        for values, value in zip(self._by_step, curve, strict=False):  # _by_step may be longer
            if math.isfinite(value):
                values.add(value)


class ASHA(CurveRule):
    """Asynchronous successive halving: keep the best ``1/reduction_factor`` at every rung.

    Rungs lie at ``min_resource * reduction_factor**k`` steps (k = 0, 1, ...; below
    ``max_resource``). A run reaching a rung with value ``v`` is compared with the values every
    earlier run had there; it continues only if ``v`` ranks among the best
    ``max(1, n // reduction_factor)`` of the ``n`` values including its own (ties favour it).
    Nobody waits for a rung to fill: the first run to reach a rung always continues.

    Parameters
    ----------
    min_resource : int
        Steps of the first rung.
    reduction_factor : int
        ``eta``: the factor between rungs and the inverse of the share that continues.
    max_resource : int, optional
        The steps of a complete run; no rung at or beyond it. By default the length of the
        longest completed run, once one completed.

    Notes
    -----
    Each rung keeps its values in a sorted list: a decision costs O(log N).
    """

    def __init__(
        self, min_resource: int = 1, reduction_factor: int = 3, max_resource: int | None = None
    ) -> None:
        super().__init__()
        self.min_resource = check_int("ASHA", "min_resource", min_resource, 1, example=1)
        self.reduction_factor = check_int(
            "ASHA", "reduction_factor", reduction_factor, 2, example=3
        )
        if max_resource is not None:
            max_resource = check_int("ASHA", "max_resource", max_resource, 1, example=100)
        self.max_resource = max_resource
        self._rungs: dict[int, SortedList] = {}

    def rung_steps(self, up_to: int) -> list[int]:
        """The rungs (in steps) at or below ``up_to``, and below ``max_resource``."""
        steps = []
        step = self.min_resource
        limit = up_to if self.max_resource is None else min(up_to, self.max_resource - 1)
        while step <= limit:
            steps.append(step)
            step *= self.reduction_factor
        return steps

    def _is_rung(self, step: int) -> bool:
        if step < self.min_resource or step % self.min_resource:
            return False
        if self.max_resource is not None and step >= self.max_resource:
            return False
        ratio = step // self.min_resource
        while ratio % self.reduction_factor == 0:
            ratio //= self.reduction_factor
        return ratio == 1

    def _decide(self, step: int, value: float) -> bool:
        if not self._is_rung(step):
            return False
        earlier = self._rungs.get(step)
        if not earlier:
            return False
        rank = earlier.bisect_left(value)  # earlier values strictly better than this one
        keep = max(1, (len(earlier) + 1) // self.reduction_factor)
        return rank >= keep

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        for step in self.rung_steps(len(curve)):
            value = curve[step - 1]
            if math.isfinite(value):
                self._rungs.setdefault(step, SortedList()).add(value)
