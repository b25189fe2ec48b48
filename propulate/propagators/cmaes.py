"""Covariance matrix adaptation evolution strategy (CMA-ES), asynchronous.

The propagator samples from a multivariate normal distribution ``N(m, sigma^2 C)`` over the unit
coordinates of the search space (each float range mapped onto [0, 1], logarithmically for
log-scaled ranges) and adapts ``m``, ``sigma`` and ``C`` as in N. Hansen, "The CMA Evolution
Strategy: A Tutorial", arXiv:1604.00772 (2016); equation numbers below refer to it.

Asynchronous adaptation: there are no synchronized generations. Every call samples one new
individual. The loop tells the propagator every result its island learns
(:meth:`CMAPropagator.tell`), whoever evaluated it; before sampling, a call updates the
distribution once if at least ``lambda`` results have been told since the results earlier
updates used, and counts ``lambda`` of them as used: the learning rates of the tutorial are
calibrated for one update per ``lambda`` evaluations, and updating after every evaluation makes a
single worker's distribution collapse (on a 2-d sphere the median best loss after 300 evaluations
was 7.5e-2 updating every call against 3e-13 this way). Results that arrive together (results of
other workers delivered in a burst) pay for one update per ``lambda`` of them over the next
calls, up to ``MAX_CATCH_UP`` updates, so the rate of adaptation follows the number of
evaluations, not the timing of messages. With many workers results arrive faster and every call
updates.

An update ranks the ``lambda`` best individuals known so far, whoever bred them: the ``mu`` best
get the positive weights, so the mean becomes the weighted mean of the best points ever seen
(elitist, "plus" selection over the whole history). When no new point enters them the evolution
path shrinks and the step size decreases, so the search contracts around them.
:class:`ActiveCMA` also weights bad points negatively in the covariance update; those are this
worker's own samples since its previous update that did not make it into the ``lambda`` best,
i.e. fresh draws of the current distribution known to be worse than the ``lambda`` best (with
``select_worst_all_time=True``, the worst individuals known instead). The propagator knows its
own samples' results exactly: the loop evaluates the very individual a call returned and tells
it back. Negative weights for the
ranks ``mu + 1 .. lambda`` of the elite would punish good points, which stalls the search on
ill-conditioned problems.

Until ``lambda`` individuals with a finite loss are known, new individuals are drawn uniformly
from the search space. The first update initializes the mean at one of the ``pool_size`` best
individuals (chosen at random, so that workers starting together spread over several promising
points), with ``sigma = 0.3`` (the tutorial's advice: 0.3 times the width of the box) and
``C = I``.

The adaptation state is kept in a :class:`CMAParameter` and exported by
:meth:`CMAPropagator.get_state` as plain JSON-able data, so a resumed run continues the same
distribution.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..population import Individual, select_best, select_worst
from ..search_space import Limits, SearchSpace
from ._continuous import UnitBox, loss_of
from .base import Propagator

__all__ = ["CMAParameter", "CMAAdapter", "BasicCMA", "ActiveCMA", "CMAPropagator"]

#: Initial step size in unit coordinates (Hansen's tutorial: about 0.3 of the range).
SIGMA0 = 0.3
#: Largest ratio between the largest and smallest eigenvalue of ``C`` that is kept.
MAX_CONDITION = 1e14
#: Draws of a sample before one that leaves the unit box is clipped into it.
MAX_RESAMPLING = 10
#: Updates a burst of new individuals can pay for at most (one per call, ``lambda`` each).
MAX_CATCH_UP = 10
_STATE_VERSION = 2


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class CMAParameter:
    """The state of a CMA-ES distribution and its constant learning rates.

    Parameters
    ----------
    lambd : int
        ``lambda``: the number of individuals ranked in one update.
    mu : int
        The number of positive recombination weights.
    problem_dimension : int
        The number of dimensions ``n``.
    weights : numpy.ndarray
        The ``lambda`` recombination weights, best first (zero or negative beyond ``mu``).
    mu_eff : float
        The variance effective selection mass of the positive weights.
    c_c : float
        The decay rate of the evolution path for the rank-one update.
    c_1 : float
        The learning rate of the rank-one update.
    c_mu : float
        The learning rate of the rank-mu update.
    limits : Mapping[str, tuple]
        The search space (for reference; all vectors are in unit coordinates).
    initial_mean : numpy.ndarray
        The initial mean, in unit coordinates.
    exploration : bool
        If True, decompose ``C`` after every update; else only every
        ``max(1, floor(1 / (10 n (c_1 + c_mu))))`` updates (the tutorial's lazy update, which
        keeps the O(n^3) decomposition from dominating in high dimensions).

    Attributes
    ----------
    mean : numpy.ndarray
        ``m``.
    sigma : float
        The step size.
    co_matrix : numpy.ndarray
        The covariance matrix ``C``.
    b_matrix, d_matrix : numpy.ndarray
        ``C = B diag(D)^2 B^T`` as of the last decomposition (``D`` is a vector).
    covariance_inv_sqrt : numpy.ndarray
        ``C^(-1/2) = B diag(1/D) B^T``.
    p_sigma, p_c : numpy.ndarray
        The evolution paths of the step size and of ``C``.
    generation : int
        The number of updates done.
    """

    def __init__(
        self,
        lambd: int,
        mu: int,
        problem_dimension: int,
        weights: np.ndarray,
        mu_eff: float,
        c_c: float,
        c_1: float,
        c_mu: float,
        limits: Any,
        initial_mean: np.ndarray,
        exploration: bool,
    ) -> None:
        n = problem_dimension
        self.problem_dimension = n
        self.limits = limits
        self.lambd = lambd
        self.mu = mu
        self.weights = np.asarray(weights, dtype=float)
        self.mu_eff = mu_eff
        self.c_c = c_c
        self.c_1 = c_1
        self.c_mu = c_mu
        self.exploration = exploration
        # Step-size control, eq. (55).
        self.c_sigma = (mu_eff + 2.0) / (n + mu_eff + 5.0)
        self.d_sigma = 1.0 + 2.0 * max(0.0, math.sqrt((mu_eff - 1.0) / (n + 1.0)) - 1.0)
        self.d_sigma += self.c_sigma
        # E||N(0, I)||, the approximation given with eq. (44).
        self.chi_n = math.sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n))
        self.decomposition_interval = (
            1 if exploration else max(1, int(1.0 / (10.0 * n * (c_1 + c_mu))))
        )
        self.mean = np.array(initial_mean, dtype=float)
        self.mean_old = self.mean.copy()
        self.sigma = SIGMA0
        self.sigma_old = SIGMA0
        self.co_matrix = np.eye(n)
        self.b_matrix = np.eye(n)
        self.d_matrix = np.ones(n)
        self.covariance_inv_sqrt = np.eye(n)
        self.p_sigma = np.zeros(n)
        self.p_c = np.zeros(n)
        self.generation = 0
        self.decomposed_at = 0

    def update_mean(self, new_mean: np.ndarray) -> None:
        """Move the mean, remembering the old one for the path and covariance updates."""
        self.mean_old = self.mean
        self.mean = np.asarray(new_mean, dtype=float)

    def update_covariance_matrix(self, new_covariance_matrix: np.ndarray) -> None:
        """Set ``C`` (symmetrized) and decompose it when due."""
        c = np.asarray(new_covariance_matrix, dtype=float)
        self.co_matrix = (c + c.T) / 2.0
        if self.generation + 1 - self.decomposed_at >= self.decomposition_interval:
            self.decompose()
            self.decomposed_at = self.generation + 1

    def decompose(self) -> None:
        """Eigendecompose ``C``, bounding its condition number by :data:`MAX_CONDITION`."""
        eigenvalues, b = np.linalg.eigh(self.co_matrix)
        largest = max(float(eigenvalues.max()), 1e-300)
        floor = largest / MAX_CONDITION
        if eigenvalues.min() < floor:
            # Adding to the diagonal keeps the eigenvectors and lifts the small eigenvalues.
            shift = floor - float(eigenvalues.min())
            self.co_matrix = self.co_matrix + shift * np.eye(self.problem_dimension)
            eigenvalues = eigenvalues + shift
        self.b_matrix = b
        self.d_matrix = np.sqrt(eigenvalues)
        self.covariance_inv_sqrt = (b / self.d_matrix) @ b.T

    def mahalanobis_norm(self, dx: np.ndarray) -> np.ndarray:
        """``||C^(-1/2) dx||`` for a vector, or row-wise for a stack of vectors."""
        dx = np.asarray(dx, dtype=float)
        return np.linalg.norm(dx @ self.covariance_inv_sqrt.T, axis=-1)

    def sample_direction(self, z: np.ndarray) -> np.ndarray:
        """``y = B D z ~ N(0, C)`` for ``z ~ N(0, I)``, eq. (39)."""
        return self.b_matrix @ (self.d_matrix * z)

    # ----- plain state ----------------------------------------------------------------------
    _ARRAYS = (
        "mean",
        "mean_old",
        "co_matrix",
        "b_matrix",
        "d_matrix",
        "covariance_inv_sqrt",
        "p_sigma",
        "p_c",
    )
    _SCALARS = ("sigma", "sigma_old", "generation", "decomposed_at")

    def to_state(self) -> dict[str, Any]:
        """The dynamic state as plain JSON-able values (constants are rebuilt by the owner)."""
        state: dict[str, Any] = {k: getattr(self, k).tolist() for k in self._ARRAYS}
        state.update({k: getattr(self, k) for k in self._SCALARS})
        state["sigma"] = float(state["sigma"])
        state["sigma_old"] = float(state["sigma_old"])
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`to_state`'s output, checking the shapes."""
        n = self.problem_dimension
        for key in self._ARRAYS:
            value = np.asarray(state[key], dtype=float)
            expected = (n, n) if key.endswith("matrix") and key != "d_matrix" else (n,)
            if key == "covariance_inv_sqrt":
                expected = (n, n)
            if value.shape != expected:
                raise ConfigurationError(
                    f"CMA state: {key} has shape {value.shape}, expected {expected}; the state "
                    "belongs to a search space of another dimension."
                )
            setattr(self, key, value)
        self.sigma = float(state["sigma"])
        self.sigma_old = float(state["sigma_old"])
        self.generation = int(state["generation"])
        self.decomposed_at = int(state["decomposed_at"])


class CMAAdapter:
    """How a CMA-ES variant weights the ranked individuals and adapts the distribution.

    Subclasses choose the recombination weights (:meth:`compute_weights`); the updates of mean,
    step size and covariance matrix follow the tutorial and are shared.
    """

    #: Whether the variant gives individuals beyond ``mu`` (negative) weights.
    negative_weights = False

    def compute_weights(
        self, mu: int, lamb: int, problem_dimension: int
    ) -> tuple[np.ndarray, float, float, float, float]:
        """The recombination weights and the learning rates.

        Parameters
        ----------
        mu : int
            The number of positive weights.
        lamb : int
            ``lambda``, the number of ranked individuals.
        problem_dimension : int
            The number of dimensions.

        Returns
        -------
        tuple
            ``(weights, mu_eff, c_c, c_1, c_mu)`` with ``lamb`` weights, best first.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement compute_weights")

    @staticmethod
    def compute_learning_rates(mu_eff: float, problem_dimension: int) -> tuple[float, float, float]:
        """The default learning rates of the covariance update.

        Parameters
        ----------
        mu_eff : float
            The variance effective selection mass.
        problem_dimension : int
            The number of dimensions ``n``.

        Returns
        -------
        tuple of float
            ``(c_c, c_1, c_mu)``: eqs. (56), (57) and (58) with ``alpha_cov = 2``.
        """
        n = problem_dimension
        alpha_cov = 2.0
        c_c = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n)  # eq. (56)
        c_1 = alpha_cov / ((n + 1.3) ** 2 + mu_eff)  # eq. (57)
        c_mu = min(  # eq. (58)
            1.0 - c_1,
            alpha_cov * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0) ** 2 + alpha_cov * mu_eff / 2.0),
        )
        return c_c, c_1, c_mu

    @staticmethod
    def _raw_weights(lamb: int) -> np.ndarray:
        """``w'_i = ln((lambda + 1) / 2) - ln(i)``, eq. (49)."""
        return math.log((lamb + 1) / 2.0) - np.log(np.arange(1, lamb + 1))

    def update_mean(self, par: CMAParameter, arx: np.ndarray) -> None:
        """``m <- m + c_m sum_i w_i (x_i - m)`` over the positive weights, eqs. (41) and (54).

        With ``c_m = 1`` and positive weights summing to one this is their weighted mean.

        Parameters
        ----------
        par : CMAParameter
            The distribution.
        arx : numpy.ndarray
            The ranked individuals (unit coordinates), best first, one per row.
        """
        mu = min(par.mu, len(arx))
        w = par.weights[:mu]
        par.update_mean(par.mean + w @ (arx[:mu] - par.mean))

    @staticmethod
    def update_step_size(par: CMAParameter) -> None:
        """Cumulative step-size adaptation: eqs. (43) and (44).

        Uses the mean shift of the last :meth:`update_mean` (with ``c_m = 1``).
        """
        step = (par.mean - par.mean_old) / par.sigma
        par.p_sigma = (1.0 - par.c_sigma) * par.p_sigma + math.sqrt(
            par.c_sigma * (2.0 - par.c_sigma) * par.mu_eff
        ) * (par.covariance_inv_sqrt @ step)  # eq. (43)
        par.sigma_old = par.sigma
        ratio = float(np.linalg.norm(par.p_sigma)) / par.chi_n
        par.sigma *= math.exp(min(par.c_sigma / par.d_sigma * (ratio - 1.0), 1.0))  # eq. (44)
        # In unit coordinates a standard deviation beyond the whole range only produces clipping.
        par.sigma = min(par.sigma, 1.0 / float(par.d_matrix.max()))

    def update_covariance_matrix(
        self, par: CMAParameter, arx: np.ndarray, weights: np.ndarray | None = None
    ) -> None:
        """Rank-one and rank-mu update of ``C``: eqs. (45), (46) and (47).

        Parameters
        ----------
        par : CMAParameter
            The distribution, after :meth:`update_mean` and :meth:`update_step_size`.
        arx : numpy.ndarray
            The ranked individuals (unit coordinates), best first, one per row.
        weights : numpy.ndarray, optional
            One weight per row of ``arx``; by default the first ``len(arx)`` of ``par.weights``.
        """
        n = par.problem_dimension
        # h_sigma stalls the rank-one path while p_sigma is long (text below eq. (45)).
        norm = float(np.linalg.norm(par.p_sigma))
        threshold = (1.4 + 2.0 / (n + 1.0)) * par.chi_n
        decay = math.sqrt(1.0 - (1.0 - par.c_sigma) ** (2 * (par.generation + 1)))
        h_sigma = 1.0 if norm / decay < threshold else 0.0
        step = (par.mean - par.mean_old) / par.sigma_old
        par.p_c = (1.0 - par.c_c) * par.p_c + h_sigma * math.sqrt(
            par.c_c * (2.0 - par.c_c) * par.mu_eff
        ) * step  # eq. (45)
        w = par.weights[: len(arx)] if weights is None else np.asarray(weights, dtype=float)
        y = (arx - par.mean_old) / par.sigma_old
        # eq. (46): negative weights are rescaled by n / ||C^(-1/2) y||^2 so that far-away bad
        # points cannot shrink C without bound.
        distance2 = np.maximum(par.mahalanobis_norm(y) ** 2, 1e-20)
        w_circ = np.where(w >= 0.0, w, w * n / distance2)
        delta_h = (1.0 - h_sigma) * par.c_c * (2.0 - par.c_c)
        rank_one = np.outer(par.p_c, par.p_c)
        rank_mu = (y * w_circ[:, None]).T @ y
        c = (
            (1.0 + par.c_1 * delta_h - par.c_1 - par.c_mu * float(w.sum())) * par.co_matrix
            + par.c_1 * rank_one
            + par.c_mu * rank_mu
        )  # eq. (47)
        if np.all(np.isfinite(c)):
            par.update_covariance_matrix(c)


class BasicCMA(CMAAdapter):
    """The original CMA-ES: only the ``mu`` best individuals are weighted (positively)."""

    def compute_weights(
        self, mu: int, lamb: int, problem_dimension: int
    ) -> tuple[np.ndarray, float, float, float, float]:
        """Positive weights from eq. (49) for the ``mu`` best, normalized to one; zero beyond.

        Returns
        -------
        tuple
            ``(weights, mu_eff, c_c, c_1, c_mu)``.
        """
        raw = self._raw_weights(lamb)
        weights = np.zeros(lamb)
        weights[:mu] = raw[:mu] / raw[:mu].sum()
        mu_eff = 1.0 / float((weights[:mu] ** 2).sum())
        c_c, c_1, c_mu = self.compute_learning_rates(mu_eff, problem_dimension)
        return weights, mu_eff, c_c, c_1, c_mu


class ActiveCMA(CMAAdapter):
    """Active CMA-ES: bad individuals get negative weights in the covariance update.

    This actively shrinks the variance in directions that lead to bad points (Jastrebski and
    Arnold, CEC 2006); the mean still moves towards the ``mu`` best only.
    """

    negative_weights = True

    def compute_weights(
        self, mu: int, lamb: int, problem_dimension: int
    ) -> tuple[np.ndarray, float, float, float, float]:
        """Weights of eq. (53) with the bounds of eqs. (50)-(52).

        Returns
        -------
        tuple
            ``(weights, mu_eff, c_c, c_1, c_mu)``.
        """
        n = problem_dimension
        raw = self._raw_weights(lamb)
        positive, negative = raw[:mu], raw[mu:]
        mu_eff = float(positive.sum() ** 2 / (positive**2).sum())
        c_c, c_1, c_mu = self.compute_learning_rates(mu_eff, n)
        weights = np.zeros(lamb)
        weights[:mu] = positive / positive.sum()
        if negative.size and np.any(negative < 0):
            negative = np.minimum(negative, 0.0)
            mu_eff_minus = float(negative.sum() ** 2 / (negative**2).sum())
            alpha_mu = 1.0 + c_1 / c_mu  # eq. (50)
            alpha_mu_eff = 1.0 + 2.0 * mu_eff_minus / (mu_eff + 2.0)  # eq. (51)
            alpha_posdef = (1.0 - c_1 - c_mu) / (n * c_mu)  # eq. (52)
            scale = min(alpha_mu, alpha_mu_eff, alpha_posdef) / float(-negative.sum())
            weights[mu:] = scale * negative  # eq. (53)
        return weights, mu_eff, c_c, c_1, c_mu


class CMAPropagator(Propagator):
    """Asynchronous CMA-ES (see the module documentation for how it adapts).

    Parameters
    ----------
    adapter : CMAAdapter
        The variant: :class:`BasicCMA` or :class:`ActiveCMA`.
    limits : Mapping[str, tuple] or SearchSpace
        The search space; every parameter must be a float range.
    decompose_in_each_generation : bool
        If True, eigendecompose ``C`` after every update; else lazily (identical in low
        dimensions, cheaper beyond about 40 dimensions).
    select_worst_all_time : bool
        For :class:`ActiveCMA`: if True, the negatively weighted individuals are the
        ``lambda - mu`` worst known; else this worker's recent samples that are not among the
        ``lambda`` best (see the module documentation). The default works much better: the
        worst points of all time are the same stale points update after update, and shrinking
        ``C`` along their directions again and again slows the search down (on a 10-d
        ellipsoid it stalls). Ignored by :class:`BasicCMA`.
    pop_size : int, optional
        ``lambda``, the number of best individuals an update ranks; default
        ``4 + floor(3 ln n)`` (eq. (48)). At least 2.
    pool_size : int
        The first update starts the mean at one of the ``pool_size`` best individuals, chosen
        uniformly at random. At least 1.
    rng : random.Random, optional
        The random number generator.

    Raises
    ------
    ConfigurationError
        If a parameter is not a float range or a size is invalid.

    Notes
    -----
    Stateful: :meth:`get_state` returns the distribution (mean, step size, covariance matrix and
    evolution paths), how many individuals of the population updates have used and the recent
    samples as plain data, and :meth:`set_state` restores it. Cost per call: O(lambda log N)
    selection on a sorted population view plus O(n^2) sampling; an update adds O(lambda n^2)
    and, when due, an O(n^3) eigendecomposition.
    """

    def __init__(
        self,
        adapter: CMAAdapter,
        limits: Limits | SearchSpace,
        decompose_in_each_generation: bool = False,
        select_worst_all_time: bool = False,
        pop_size: int | None = None,
        pool_size: int = 3,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(parents=-1, offspring=1, rng=rng)
        if not isinstance(adapter, CMAAdapter):
            raise ConfigurationError(
                f"CMAPropagator: adapter={adapter!r}; give a CMAAdapter such as BasicCMA() or "
                "ActiveCMA()."
            )
        self.box = UnitBox(limits, "CMAPropagator")
        self.space = self.box.space
        self.limits = self.space.limits
        n = self.box.dim
        lambd = 4 + int(math.floor(3.0 * math.log(n))) if pop_size is None else pop_size
        if not _is_count(lambd) or lambd < 2:
            raise ConfigurationError(
                f"CMAPropagator: pop_size={pop_size!r}; give an int >= 2 or None for the default "
                f"4 + floor(3 ln n) = {4 + int(math.floor(3.0 * math.log(n)))}."
            )
        if (
            isinstance(pool_size, bool)
            or not isinstance(pool_size, (int, np.integer))
            or pool_size < 1
        ):
            raise ConfigurationError(f"CMAPropagator: pool_size={pool_size!r}; give an int >= 1.")
        self.adapter = adapter
        self.lambd = int(lambd)
        self.mu = self.lambd // 2
        self.pool_size = int(pool_size)
        self.decompose_in_each_generation = bool(decompose_in_each_generation)
        self.select_worst_all_time = bool(select_worst_all_time)
        self.weights, self.mu_eff, self.c_c, self.c_1, self.c_mu = adapter.compute_weights(
            self.mu, self.lambd, n
        )
        self.par: CMAParameter | None = None
        # One update per lambda results: the rate the learning rates are calibrated for.
        self.update_every = self.lambd
        self._unused = 0  # results told that no update has used yet
        # This worker's own samples since the last update, with their results: (key, unit row).
        self._recent: list[tuple[tuple[int, int], np.ndarray]] = []
        self._last_sample: Individual | None = None  # the last individual a call returned

    def _new_parameter(self, mean: np.ndarray) -> CMAParameter:
        return CMAParameter(
            self.lambd,
            self.mu,
            self.box.dim,
            self.weights,
            self.mu_eff,
            self.c_c,
            self.c_1,
            self.c_mu,
            self.limits,
            mean,
            self.decompose_in_each_generation,
        )

    def __call__(self, inds: Sequence[Individual]) -> Individual:
        """Update the distribution from the best individuals known and sample one individual.

        Parameters
        ----------
        inds : Sequence[Individual]
            The evaluated individuals known (not modified).

        Returns
        -------
        Individual
            A new, unevaluated individual.
        """
        best = select_best(inds, self.lambd)
        if len(best) < self.lambd or loss_of(best[-1]) == math.inf:
            # Not enough information to rank a generation yet: explore uniformly.
            return self.box.individual(np.array([self.rng.random() for _ in range(self.box.dim)]))
        if self.par is None:
            start = self.rng.choice(best[: self.pool_size])
            self.par = self._new_parameter(np.clip(self.box.of(start), 0.0, 1.0))
            self._unused = max(self._unused, self.update_every)  # the first update: all known
        if self._unused >= self.update_every:
            # Count lambda of the results as used and carry the rest over: results that arrive
            # together (a worker descheduled for a while, a batch of immigrants) pay for one
            # update per lambda of them, one per call, instead of one in all. Counting all of
            # them dropped those updates: with 4 simulated workers seeing each other's results
            # every 10 evaluations, a 10-d sphere got 25 updates instead of 97 in 1000
            # evaluations and ended at 8e-2 instead of 6e-7 (median of 5 seeds).
            self._unused = min(self._unused - self.update_every, MAX_CATCH_UP * self.update_every)
            self._update(self.par, inds, best)
        return self._sample(self.par)

    def _update(
        self, par: CMAParameter, inds: Sequence[Individual], best: list[Individual]
    ) -> None:
        ranked = self.box.stack(best[: self.mu])
        weights = par.weights[: len(ranked)]
        if self.adapter.negative_weights:
            n_bad = self.lambd - self.mu
            if self.select_worst_all_time:
                bad = self.box.stack(select_worst(inds, n_bad)[::-1])
                bad_weights = par.weights[self.mu : self.mu + len(bad)]
            else:
                # This worker's samples since the last update that did not make it into the
                # lambda best: fresh draws of the current distribution known to be bad. (The
                # lambda best themselves are good points of the whole history; weighting them
                # negatively would shrink C along directions that work.) Their order among each
                # other is unknown, so each gets the mean negative weight.
                elite = {ind.key for ind in best}
                rows = [row for key, row in self._recent if key not in elite][-n_bad:]
                bad = np.array(rows, dtype=float).reshape(-1, self.box.dim)
                bad_weights = np.full(len(bad), float(par.weights[self.mu :].mean()))
            ranked = np.vstack([ranked, bad])
            weights = np.concatenate([weights, bad_weights])
        self._recent.clear()
        self.adapter.update_mean(par, ranked)
        self.adapter.update_step_size(par)
        self.adapter.update_covariance_matrix(par, ranked, weights=weights)
        par.generation += 1

    def _sample(self, par: CMAParameter) -> Individual:
        """Draw ``x = m + sigma B D z`` (eqs. (38)-(40)), resampled a few times to stay inside."""
        x = par.mean
        for _ in range(MAX_RESAMPLING):
            z = np.array([self.rng.gauss(0.0, 1.0) for _ in range(par.problem_dimension)])
            x = par.mean + par.sigma * par.sample_direction(z)
            if np.all((x >= 0.0) & (x <= 1.0)):
                break
        child = self.box.individual(np.clip(x, 0.0, 1.0))
        self._last_sample = child
        return child

    def tell(self, ind: Individual) -> None:
        """Count a result for the next update; remember it if it is this worker's own sample.

        Parameters
        ----------
        ind : Individual
            An evaluated individual of the island (any worker's), or this propagator's last
            sample with its result.
        """
        self._unused += 1
        if ind is self._last_sample:
            self._last_sample = None
            self._recent.append((ind.key, self.box.of(ind)))
            del self._recent[: -self.lambd]

    # ----- plain state ----------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The adaptation state as plain JSON-able data.

        ``distribution`` is None before the first update.
        """
        return {
            "format_version": _STATE_VERSION,
            "dimension": self.box.dim,
            "lambda": self.lambd,
            "unused": self._unused,
            "recent": [[*key, *row.tolist()] for key, row in self._recent],
            "distribution": None if self.par is None else self.par.to_state(),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`get_state`'s output; ``{}`` resets to the initial state.

        Raises
        ------
        ConfigurationError
            If the state comes from another version, dimension or ``pop_size``.
        """
        if not state:
            self.par, self._unused, self._recent, self._last_sample = None, 0, [], None
            return
        version = state.get("format_version")
        if version not in (1, _STATE_VERSION):
            raise ConfigurationError(
                f"CMAPropagator.set_state: format_version={version!r}; this version reads 1 and "
                f"{_STATE_VERSION}. Restore a state saved by the same configuration."
            )
        for key, value in (("dimension", self.box.dim), ("lambda", self.lambd)):
            if state.get(key) != value:
                raise ConfigurationError(
                    f"CMAPropagator.set_state: {key}={state.get(key)!r} but this propagator has "
                    f"{value!r}; restore a state saved by the same configuration."
                )
        self._last_sample = None
        if version == 1:
            # Version 1 counted population growth; its counts mean nothing here.
            self._unused, self._recent = 0, []
        else:
            self._unused = int(state["unused"])
            self._recent = [
                ((int(entry[0]), int(entry[1])), np.asarray(entry[2:], dtype=float))
                for entry in state.get("recent", [])
            ]
        distribution = state["distribution"]
        if distribution is None:
            self.par = None
            return
        par = self._new_parameter(np.asarray(distribution["mean"], dtype=float))
        par.load_state(distribution)
        self.par = par

    def __repr__(self) -> str:
        return (
            f"CMAPropagator({type(self.adapter).__name__}(), lambda={self.lambd}, mu={self.mu}, "
            f"pool_size={self.pool_size})"
        )
