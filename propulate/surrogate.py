"""Early stopping of unpromising evaluations: the surrogate interface and built-in rules.

A loss function that yields intermediate losses (a generator, e.g. one value per epoch), or that
reports them with :func:`~propulate.evaluation.report_intermediate`, can be stopped early. Give
the :class:`~propulate.Propulator` (or :class:`~propulate.Islands`) a ``surrogate_factory``: every
rank creates one :class:`Surrogate` with it, and for every evaluation the loop calls

* ``start_run(ind)`` before the loss function,
* ``cancel(value)`` with every intermediate value; ``True`` stops the evaluation,
* ``update(loss)`` once the evaluation ended (completed, stopped or failed) with its loss: the
  last value, ``inf`` if it failed.

Stopped individuals are recorded with status ``"pruned"``, their learning curve (``ind.curve``,
whose length is the step they reached) and the value at which they were stopped as their loss.

Sharing: every result a rank receives from a peer of its island (and every result read from the
checkpoint on resume) is passed to ``merge``. The built-in rules learn from the result record
itself (its parameters, learning curve, loss and status, see :meth:`Surrogate.result_data`), so
they add nothing to the messages; a surrogate that does not override ``result_data`` has its
``data()`` (JSON-serializable; numpy arrays become lists) attached to each of its rank's results
as the optional ``surrogate`` metadata, which never touches the individual's parameters.

Breeding rule: pruned individuals stay in the population and take part in breeding with the last
intermediate loss they reached. For a decreasing learning curve that value is an upper bound on
what the completed training would have reached, so a pruned individual is never favoured over a
completed one it would have lost to, while the region it explored is remembered as bad instead of
being sampled again. They never count as results: :meth:`~propulate.Propulator.summarize` and
:meth:`~propulate.Propulator.best` consider only completed individuals.

Built-in rules (all cost O(log N) or a bounded amount per call, N being the number of runs seen):

* :class:`StaticSurrogate`: stop a run that falls behind the best completed learning curve by
  more than a margin (Propulate 1.2).
* :class:`DynamicSurrogate`: predict a run's final loss from its parameters (a Gaussian process)
  and its curve so far (a regression on completed curves), stop it if even an optimistic
  prediction is worse than the best loss by a margin (Propulate 1.2, reimplemented on numpy).
* :class:`MedianStoppingRule`: stop a run whose value is worse than the median of earlier runs
  at the same step (Golovin et al., "Google Vizier", KDD 2017; Optuna's ``MedianPruner``).
* :class:`ASHA`: asynchronous successive halving (Li et al., "A System for Massively Parallel
  Hyperparameter Tuning", MLSys 2020): at rungs ``min_resource * reduction_factor**k`` steps a
  run continues only if it is among the best ``1/reduction_factor`` of the runs that reached
  that rung, without waiting for the rung to fill.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sortedcontainers import SortedList

from .errors import ConfigurationError
from .evaluation import Evaluation, evaluate
from .population import Individual, Status
from .search_space import Limits, SearchSpace

__all__ = [
    "Surrogate",
    "StaticSurrogate",
    "DynamicSurrogate",
    "MedianStoppingRule",
    "ASHA",
    "EarlyStopping",
]

log = logging.getLogger(__name__)


class Surrogate:
    """Interface of an early-stopping model (compatible with Propulate 1.2).

    One instance per rank, created by the ``surrogate_factory`` given to the Propulator. See the
    module documentation for the order of calls.
    """

    def start_run(self, ind: Individual) -> None:
        """Start following a new evaluation.

        Parameters
        ----------
        ind : Individual
            The individual about to be evaluated.
        """
        raise NotImplementedError

    def update(self, loss: float) -> None:
        """End the current evaluation.

        Parameters
        ----------
        loss : float
            Its loss: the last intermediate value (also when it was cancelled), ``inf`` if it
            failed.
        """
        raise NotImplementedError

    def cancel(self, loss: float) -> bool:
        """Take the next intermediate value of the current evaluation and decide whether to stop.

        Parameters
        ----------
        loss : float
            The intermediate value (may be ``nan`` or ``inf`` if the training diverges).

        Returns
        -------
        bool
            ``True`` to stop the evaluation now.
        """
        raise NotImplementedError

    def merge(self, data: Any) -> None:
        """Learn from another rank's evaluation.

        Parameters
        ----------
        data : Any
            What the other rank's :meth:`data` returned (after a JSON round trip), or what
            :meth:`result_data` made of its result.
        """
        raise NotImplementedError

    def data(self) -> Any:
        """What other ranks need to learn from this rank's last evaluation (JSON-serializable).

        Returns
        -------
        Any
            The data passed to the peers' :meth:`merge`.
        """
        raise NotImplementedError

    def result_data(self, ind: Individual) -> Any:
        """Make :meth:`merge`'s data from a result record, or ``None`` to ship :meth:`data` instead.

        Overriding this keeps the surrogate's data out of the messages and checkpoints when a
        result already holds everything the surrogate learns from.

        Parameters
        ----------
        ind : Individual
            An evaluated individual (with ``ind.curve`` if its loss function gave one).

        Returns
        -------
        Any
            The data, or ``None``.
        """
        return None


def run_data(ind: Individual) -> dict[str, Any]:
    """What the built-in rules learn from a result: parameters, curve, loss and status.

    Parameters
    ----------
    ind : Individual
        An evaluated individual.

    Returns
    -------
    dict
        ``{"params": ..., "curve": [...], "loss": float, "status": str}``.
    """
    loss = math.inf if ind.loss is None else float(ind.loss)
    curve = getattr(ind, "curve", None)
    return {
        "params": ind.values_dict(),
        "curve": list(curve) if curve else [loss],
        "loss": loss,
        "status": ind.status,
    }


class _CurveRule(Surrogate):
    """Shared bookkeeping of the built-in rules: they learn from finished runs' learning curves.

    Subclasses implement ``_decide(step, value)`` (may the current run go on?) and ``_learn(params,
    curve, loss, completed)`` (remember a finished run).
    """

    def __init__(self) -> None:
        self._params: dict[str, Any] = {}
        self._curve: list[float] = []
        self._cancelled = False
        self._last: dict[str, Any] | None = None
        # The length of the longest completed curve: a run that long is complete, so stopping it
        # at that step would save nothing.
        self.full_length: int | None = None
        self.completed_runs = 0

    def start_run(self, ind: Individual) -> None:
        """Start following a new evaluation (see :meth:`Surrogate.start_run`)."""
        self._params = dict(ind)
        self._curve = []
        self._cancelled = False

    def cancel(self, loss: float) -> bool:
        """Record the next intermediate value; whether to stop (see :meth:`Surrogate.cancel`)."""
        value = float(loss)
        self._curve.append(value)
        if self._cancelled:
            return True
        step = len(self._curve)
        if not math.isfinite(value):
            return False  # a diverged run ends as failed anyway; no rule compares to nan
        if self.full_length is not None and step >= self.full_length:
            return False
        self._cancelled = bool(self._decide(step, value))
        return self._cancelled

    def update(self, loss: float) -> None:
        """End the current evaluation and learn from it (see :meth:`Surrogate.update`)."""
        loss = float(loss)
        if not math.isfinite(loss):
            status = Status.FAILED
        else:
            status = Status.PRUNED if self._cancelled else Status.OK
        self._last = {
            "params": self._params,
            "curve": self._curve if self._curve else [loss],
            "loss": loss,
            "status": status,
        }
        self._absorb(self._last)

    def merge(self, data: Any) -> None:
        """Learn from a run of another rank (the dictionary :meth:`data` returns)."""
        if not isinstance(data, Mapping) or not {"curve", "loss", "status"} <= set(data):
            raise ConfigurationError(
                f"{type(self).__name__}.merge expects the dictionary data() returns, with keys "
                f"'params', 'curve', 'loss' and 'status'; got {type(data).__name__}."
            )
        self._absorb(data)

    def data(self) -> dict[str, Any] | None:
        """The last finished run of this rank: ``params``, ``curve``, ``loss`` and ``status``."""
        return self._last

    def result_data(self, ind: Individual) -> dict[str, Any]:
        """The run a result record describes (so nothing extra is shipped)."""
        return run_data(ind)

    def _absorb(self, data: Mapping[str, Any]) -> None:
        status, loss = data["status"], float(data["loss"])
        if status not in (Status.OK, Status.PRUNED) or not math.isfinite(loss):
            return
        curve = [float(v) for v in data["curve"]]
        completed = status == Status.OK
        if completed:
            self.completed_runs += 1
            self.full_length = max(self.full_length or 0, len(curve))
        self._learn(dict(data.get("params") or {}), curve, loss, completed)

    def _decide(self, step: int, value: float) -> bool:
        raise NotImplementedError

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        raise NotImplementedError


def _loosened(reference: float, margin: float) -> float:
    """``reference`` made worse by the tolerance ``margin`` allows (``reference / margin`` if > 0).

    The relative tolerance ``1 / margin - 1`` applies to the magnitude, so negative losses (e.g.
    negative accuracies) are loosened in the same direction as positive ones.
    """
    return reference + abs(reference) * (1.0 / margin - 1.0)


def _check_margin(margin: float) -> float:
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin <= 1:
        raise ConfigurationError(
            f"margin={margin!r}; give a number in (0, 1]: a run is stopped when its value is "
            "worse than the reference by more than the factor 1/margin (0.8 allows 25 %)."
        )
    return float(margin)


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigurationError(f"{name}={value!r}; give an integer >= {minimum}.")
    return int(value)


class StaticSurrogate(_CurveRule):
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
        self.margin = _check_margin(margin)
        self.baseline: np.ndarray = np.zeros(0)
        self.baseline_loss = math.inf

    def _decide(self, step: int, value: float) -> bool:
        if step > self.baseline.size:
            return False
        return value > _loosened(float(self.baseline[step - 1]), self.margin)

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        if completed and loss < self.baseline_loss:
            self.baseline = np.asarray(curve, dtype=float)
            self.baseline_loss = loss


class MedianStoppingRule(_CurveRule):
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
        self.warmup_steps = _check_count("warmup_steps", warmup_steps, 0)
        self.min_runs = _check_count("min_runs", min_runs, 1)
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


class ASHA(_CurveRule):
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
        self.min_resource = _check_count("min_resource", min_resource, 1)
        self.reduction_factor = _check_count("reduction_factor", reduction_factor, 2)
        if max_resource is not None:
            max_resource = _check_count("max_resource", max_resource, 1)
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


class _GaussianProcess:
    """A small GP regression with an isotropic Matern-5/2 kernel, refitted from scratch.

    Outputs are standardized; the length scale and the noise share are chosen by the log
    marginal likelihood over a fixed grid (Rasmussen & Williams, "Gaussian Processes for Machine
    Learning", eq. 2.30), so a fit costs a few Cholesky factorizations of an n x n matrix.
    """

    LENGTH_SCALES = (0.1, 0.2, 0.4, 0.8, 1.6)
    NOISE_SHARES = (1e-3, 1e-2, 1e-1)

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x = x
        self.mean = float(np.mean(y))
        self.scale = float(np.std(y)) or 1.0
        z = (y - self.mean) / self.scale
        sq = _squared_distances(x, x)
        best = -math.inf
        for length in self.LENGTH_SCALES:
            kernel = _matern52(sq, length)
            for noise in self.NOISE_SHARES:
                try:
                    chol = np.linalg.cholesky(kernel + noise * np.eye(len(z)))
                except np.linalg.LinAlgError:  # numerically singular: try the next candidate
                    continue
                alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, z))
                # log p(z) = -z'a/2 - sum(log diag L) - n/2 log 2 pi  (eq. 2.30)
                evidence = -0.5 * float(z @ alpha) - float(np.sum(np.log(np.diag(chol))))
                if evidence > best:
                    best = evidence
                    self.length, self.noise, self.chol, self.alpha = length, noise, chol, alpha
        if best == -math.inf:  # every candidate singular: all noise, which is always definite
            self.length, self.noise = self.LENGTH_SCALES[0], 1.0
            self.chol = np.linalg.cholesky(_matern52(sq, self.length) + np.eye(len(z)))
            self.alpha = np.linalg.solve(self.chol.T, np.linalg.solve(self.chol, z))

    def predict(self, x: np.ndarray) -> tuple[float, float]:
        """Mean and variance of the latent function at one point ``x`` (original scale)."""
        k = _matern52(_squared_distances(x[None, :], self.x), self.length)[0]
        mean = float(k @ self.alpha)
        v = np.linalg.solve(self.chol, k)
        variance = max(1.0 - float(v @ v), 0.0) + self.noise
        return self.mean + self.scale * mean, self.scale**2 * variance


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum(np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T, 0.0)


def _matern52(squared_distances: np.ndarray, length: float) -> np.ndarray:
    r = np.sqrt(5.0 * squared_distances) / length
    return (1.0 + r + r**2 / 3.0) * np.exp(-r)


class DynamicSurrogate(_CurveRule):
    """Stop a run whose predicted final loss is, even optimistically, worse than the best.

    Two predictions of the final loss are combined by their precisions:

    * from the parameters: a Gaussian process on the unit coordinates of the hyperparameters
      (categoricals one-hot), fitted to the final losses of the last ``window`` completed runs;
    * from the curve so far: at step ``s``, least squares ``final = a + b * value_s + c *
      (value_{s-1} - value_s)`` through the completed runs of the window that went beyond step
      ``s`` (the last improvement tells a slowly converging run from a bad one), with its
      prediction variance.

    A run is stopped at step ``s`` if ``mean - confidence * std`` of the combined prediction is
    worse than the best known final loss loosened by ``margin``. Nothing is stopped before
    ``min_runs`` runs completed, nor while fewer than 3 of them went beyond the step.

    Parameters
    ----------
    limits : Mapping[str, tuple]
        The search space (as given to the propagator).
    margin : float
        In (0, 1]; 0.8 tolerates predictions 25 % worse than the best loss.
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
        margin: float = 0.8,
        confidence: float = 2.0,
        window: int = 64,
        min_runs: int = 5,
    ) -> None:
        super().__init__()
        self.space = SearchSpace.of(limits)
        self.margin = _check_margin(margin)
        if not isinstance(confidence, (int, float)) or not confidence >= 0:
            raise ConfigurationError(f"confidence={confidence!r}; give a number >= 0.")
        self.confidence = float(confidence)
        self.window = _check_count("window", window, 3)
        self.min_runs = _check_count("min_runs", min_runs, 1)
        self.best_loss = math.inf
        self._runs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=self.window)
        self._gp: _GaussianProcess | None = None
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
                self._gp = _GaussianProcess(x, y)
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
        optimistic = mean - self.confidence * math.sqrt(variance)
        return optimistic > _loosened(self.best_loss, self.margin)

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


class _LeaderStopped(Exception):
    """The first rank of a multi-rank worker stopped in the middle of an evaluation."""


class EarlyStopping:
    """The Propulator's hook around a rank's :class:`Surrogate`.

    Parameters
    ----------
    surrogate : Surrogate
        This rank's surrogate.

    Notes
    -----
    In a multi-rank worker only the first rank's surrogate decides; it shares every decision with
    the other ranks, whose loss function must yield (or report) the same number of values.
    """

    def __init__(self, surrogate: Surrogate) -> None:
        for method in ("start_run", "update", "cancel", "merge", "data"):
            if not callable(getattr(surrogate, method, None)):
                raise ConfigurationError(
                    f"surrogate_factory made a {type(surrogate).__name__}, which has no "
                    f"{method}() method; return a propulate.Surrogate (e.g. "
                    "surrogate_factory=lambda: propulate.MedianStoppingRule())."
                )
        self.surrogate = surrogate

    @classmethod
    def from_factory(cls, factory: Callable[[], Surrogate] | None) -> EarlyStopping | None:
        """The hook for ``factory()``'s surrogate, or ``None`` without a factory."""
        if factory is None:
            return None
        if not callable(factory):
            raise ConfigurationError(
                f"surrogate_factory must be callable (it makes one surrogate per rank); got "
                f"{type(factory).__name__}. Pass e.g. lambda: propulate.MedianStoppingRule()."
            )
        return cls(factory())

    def evaluate(
        self, loss_fn: Callable[..., Any], params: Individual, comm: Any, group: Any
    ) -> Evaluation | None:
        """Evaluate ``params``, stopping early when the surrogate says so.

        Parameters
        ----------
        loss_fn : callable
            The loss function.
        params : Individual
            The individual.
        comm : Any
            The communicator passed to the loss function (``None`` for a one-rank worker).
        group : WorkerGroup
            The worker's ranks, which share the decisions.

        Returns
        -------
        Evaluation or None
            The outcome; ``None`` on a worker's other rank when its first rank stopped.
        """
        if group is not None and group.rank != 0:
            try:
                return evaluate(loss_fn, params, comm, should_stop=_follower(group))
            except _LeaderStopped:
                return None
        surrogate = self.surrogate
        surrogate.start_run(params)
        shared = group is not None and group.size > 1

        def should_stop(step: int, value: float) -> bool:
            stop = bool(surrogate.cancel(value))
            if shared:
                group.share(stop)
            return stop

        outcome = evaluate(loss_fn, params, comm, should_stop=should_stop)
        surrogate.update(outcome.loss)
        if outcome.status == Status.PRUNED:
            log.debug("Stopped %r at step %d (%.6g).", params, len(outcome.curve), outcome.loss)
        return outcome

    def annotate(self, ind: Individual) -> None:
        """Attach the surrogate's data to this rank's result if peers cannot learn from it alone."""
        if self.surrogate.result_data(ind) is None:
            ind.surrogate = _jsonable(self.surrogate.data())  # type: ignore[attr-defined]  # optional metadata

    def on_result(self, ind: Individual) -> None:
        """Let the surrogate learn from a result of another rank (or one read on resume)."""
        data = self.surrogate.result_data(ind)
        if data is None:
            data = getattr(ind, "surrogate", None)
        if data is not None:
            self.surrogate.merge(data)


def _follower(group: Any) -> Callable[[int, float], bool]:
    def should_stop(step: int, value: float) -> bool:
        decision = group.share(None)
        if decision is None:  # the first rank gave up (an exception) and said so
            raise _LeaderStopped
        return bool(decision)

    return should_stop


def _jsonable(data: Any) -> Any:
    """``data`` with numpy arrays and scalars and tuples turned into JSON types."""
    if isinstance(data, np.ndarray):
        return data.tolist()
    if isinstance(data, np.generic):
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    if isinstance(data, Mapping):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ConfigurationError(
        f"Surrogate.data() returned a {type(data).__name__}; peers receive it through messages "
        "and checkpoints, so return numbers, strings, lists, dicts or numpy arrays."
    )
