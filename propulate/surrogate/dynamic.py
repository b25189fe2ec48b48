"""The dynamic surrogate: predict a run's final loss from its parameters and its curve so far."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..population import Individual
from ..search_space import Limits, SearchSpace
from ..validation import check_int, check_number
from .base import CurveRule, check_margin, loosened
from .gaussian_process import GaussianProcess

__all__ = ["DynamicSurrogate", "geometric_extrapolation"]


class DynamicSurrogate(CurveRule):
    """Stop a run whose predicted final loss is, even optimistically, worse than the best.

    Two predictions of the final loss are combined by their precisions:

    * from the parameters: a Gaussian process on the unit coordinates of the hyperparameters
      (categoricals one-hot), fitted to the final losses of the last ``window`` completed runs;
    * from the curve so far: at step ``s``, least squares ``final = a + b * value_s + c *
      (value_{s-1} - value_s)`` through the completed runs of the window that went beyond step
      ``s`` (the last improvement tells a slowly converging run from a bad one), with its
      prediction variance.

    Pooled over other runs, the curve model cannot tell a late bloomer (a slow learning rate that
    ends as well as the best) from a bad run. So the run's own curve gets a say too: its
    :func:`geometric_extrapolation` (where it ends if its improvements keep shrinking at their
    last rate) is a second optimistic guess. A run is stopped at step ``s`` only if both
    ``mean - confidence * std`` of the combined prediction and its own extrapolation are worse than
    the best known final loss loosened by ``margin``. Nothing is stopped before ``min_runs`` runs
    completed, nor while fewer than 3 of them went beyond the step.

    Parameters
    ----------
    limits : Mapping[str, tuple]
        The search space (as given to the propagator).
    margin : float
        In (0, 1]; 0.9 tolerates predictions 11 % worse than the best loss.
    confidence : float
        Standard deviations of optimism (0: stop on the mean prediction).
    window : int
        Completed runs the models learn from (the most recent ones): bounds the cost per call.
    min_runs : int
        Completed runs needed before anything is stopped.

    Notes
    -----
    Cost, bounded by ``window`` however many runs accumulate: refitting the GP after a run
    completed is O(window^3) (a fixed grid of 15 fits), a start of run O(window^2); the curve
    model of a step is fitted in O(window) once per change of the window, after which each
    intermediate value costs O(1).
    """

    def __init__(
        self,
        limits: Limits | SearchSpace,
        margin: float = 0.9,
        confidence: float = 2.0,
        window: int = 64,
        min_runs: int = 5,
    ) -> None:
        super().__init__()
        self.space = SearchSpace.of(limits)
        owner = "DynamicSurrogate"
        self.margin = check_margin(owner, margin)
        self.confidence = check_number(owner, "confidence", confidence, 0, example=2.0)
        self.window = check_int(owner, "window", window, 3, example=64)
        self.min_runs = check_int(owner, "min_runs", min_runs, 1, example=5)
        self.best_loss = math.inf
        self._runs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=self.window)
        self._gp: GaussianProcess | None = None
        self._gp_stale = False
        self._prior: tuple[float, float] | None = None
        self._fits: dict[tuple[int, bool], Any] = {}

    def features(self, params: Mapping[str, Any]) -> np.ndarray:
        """Unit coordinates of the parameters (numeric in [0, 1], categoricals one-hot)."""
        out: list[float] = []
        for d in self.space:
            value = params[d.name]
            if d.kind == "categorical":
                out.extend(1.0 if value == choice else 0.0 for choice in d.choices)
            else:
                out.append(d.to_unit(float(value)))
        return np.asarray(out)

    def start_run(self, ind: Individual) -> None:
        """Start a run: predict its final loss from its parameters."""
        super().start_run(ind)
        self._prior = None
        if len(self._runs) >= self.min_runs:
            if self._gp is None or self._gp_stale:
                x = np.stack([run[0] for run in self._runs])
                y = np.array([run[2] for run in self._runs])
                self._gp = GaussianProcess(x, y)
                self._gp_stale = False
            self._prior = self._gp.predict(self.features(self._params))

    def predict(
        self, step: int, value: float, previous: float | None = None
    ) -> tuple[float, float] | None:
        """Mean and variance of the final loss of a run at ``value`` after ``step`` steps.

        Parameters
        ----------
        step : int
            The steps the run took (from 1).
        value : float
            Its value at ``step``.
        previous : float, optional
            Its value at ``step - 1``: the last improvement tells a slow run from a bad one.

        Returns
        -------
        tuple of float, or None
            Mean and variance (combined with the prediction from the parameters given to the
            last :meth:`start_run`); ``None`` when too few completed runs went beyond ``step``.
        """
        use_trend = previous is not None and step >= 2 and math.isfinite(previous)
        key = (step, use_trend)
        if key not in self._fits:  # refitted only after the window changed
            self._fits[key] = self._fit(step, use_trend)
        fit = self._fits[key]
        if fit is None:
            return None
        coefficients, inverse, scale, s2 = fit
        terms = len(coefficients)
        x0 = np.array([1.0, value, (previous or 0.0) - value])[:terms] / scale
        mean = float(x0 @ coefficients)
        variance = s2 * (1.0 + float(x0 @ inverse @ x0))
        if self._prior is not None:
            prior_mean, prior_variance = self._prior
            precision = 1.0 / variance + 1.0 / prior_variance
            mean = (mean / variance + prior_mean / prior_variance) / precision
            variance = 1.0 / precision
        return mean, variance

    def _fit(
        self, step: int, use_trend: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
        """Least squares ``final = b0 + b1 * value + b2 * last improvement`` at ``step``.

        Uses as many terms as the runs that went beyond ``step`` support (at least 2 residual
        degrees of freedom); returns the coefficients, the inverse Gram matrix and the column
        scales of the design, and the residual variance, or ``None`` with fewer than 3 runs.
        """
        rows = [
            (curve[step - 1], curve[step - 2] - curve[step - 1] if use_trend else 0.0, loss)
            for _, curve, loss in self._runs
            if curve.size > step
        ]
        if len(rows) < 3:
            return None
        data = np.array(rows)
        targets = data[:, 2]
        terms = 3 if use_trend and len(rows) >= 5 else 2
        design = np.column_stack([np.ones(len(rows)), data[:, 0], data[:, 1]])[:, :terms]
        scale = np.maximum(np.abs(design).max(axis=0), 1e-12)
        design = design / scale
        inverse = np.linalg.inv(design.T @ design + 1e-9 * np.eye(terms))  # ridge: invertible
        coefficients = inverse @ (design.T @ targets)
        residuals = targets - design @ coefficients
        s2 = float(residuals @ residuals) / max(len(rows) - terms, 1)
        return coefficients, inverse, scale, s2 + 1e-12 * (1.0 + float(np.mean(targets)) ** 2)

    def _decide(self, step: int, value: float) -> bool:
        if self.completed_runs < self.min_runs or not math.isfinite(self.best_loss):
            return False
        previous = self._curve[-2] if len(self._curve) >= 2 else None
        prediction = self.predict(step, value, previous)
        if prediction is None:
            return False
        mean, variance = prediction
        threshold = loosened(self.best_loss, self.margin)
        if mean - self.confidence * math.sqrt(variance) <= threshold:
            return False
        horizon = self.full_length or step
        return geometric_extrapolation(self._curve, horizon) > threshold

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        if not completed:
            return  # a stopped run's final loss is unknown
        self.best_loss = min(self.best_loss, loss)
        try:
            x = self.features(params)
        except (KeyError, TypeError, ValueError):
            return  # a record of another search space (e.g. a foreign migrant): not comparable
        self._runs.append((x, np.asarray(curve, dtype=float), loss))
        self._gp_stale = True
        self._fits.clear()


def geometric_extrapolation(curve: Sequence[float], horizon: int) -> float:
    """Where a decreasing curve ends if each improvement shrinks by the ratio of its last two.

    With improvements ``d1 = curve[-3] - curve[-2]`` and ``d2 = curve[-2] - curve[-1]`` and ratio
    ``r = d2 / d1``, the remaining ``k = horizon - len(curve)`` steps improve by ``d2 * (r + r**2
    + ... + r**k)``. Exact for exponential decays; an optimistic guess for curves that flatten
    more slowly than geometrically (power laws), because ``r`` shrinks less then.

    Parameters
    ----------
    curve : Sequence[float]
        The values so far (lower is better).
    horizon : int
        The step at which the run ends.

    Returns
    -------
    float
        The extrapolated final value: the last value if the curve stopped improving, ``-inf``
        (no bound) with fewer than 3 values or improvements that do not shrink.
    """
    if len(curve) < 3:
        return -math.inf
    first, second = curve[-3] - curve[-2], curve[-2] - curve[-1]
    if not second > 0:
        return float(curve[-1])  # got worse (or flat) at the last step: no progress to extend
    if not 0 < second < first:
        return -math.inf
    ratio = second / first
    remaining = max(horizon - len(curve), 0)
    return float(curve[-1] - second * ratio * (1.0 - ratio**remaining) / (1.0 - ratio))
