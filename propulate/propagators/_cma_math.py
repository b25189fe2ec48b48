"""The mathematics of CMA-ES: the distribution's state and its adaptation rules.

:class:`CMAParameter` holds a distribution ``N(m, sigma^2 C)`` and its evolution paths;
:class:`CMAAdapter` and its variants :class:`BasicCMA` and :class:`ActiveCMA` compute the
recombination weights and learning rates and update mean, step size and covariance matrix, as in
N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016); equation numbers
refer to it. No sampling, no individuals: :class:`~propulate.propagators.cmaes.CMAPropagator`
does that.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ConfigurationError

__all__ = ["CMAParameter", "CMAAdapter", "BasicCMA", "ActiveCMA", "SIGMA0", "MAX_CONDITION"]

#: Initial step size in unit coordinates (Hansen's tutorial: about 0.3 of the range).
SIGMA0 = 0.3
#: Largest ratio between the largest and smallest eigenvalue of ``C`` that is kept.
MAX_CONDITION = 1e14


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
        self.co_matrix = (c + c.T) * 0.5
        if self.generation + 1 - self.decomposed_at >= self.decomposition_interval:
            self.decompose()
            self.decomposed_at = self.generation + 1

    def decompose(self) -> None:
        """Eigendecompose ``C``, bounding its condition number by ``MAX_CONDITION``."""
        eigenvalues, b = np.linalg.eigh(self.co_matrix)  # ascending
        largest = max(float(eigenvalues[-1]), 1e-300)
        floor = largest / MAX_CONDITION
        smallest = float(eigenvalues[0])
        if smallest < floor:
            # Adding to the diagonal keeps the eigenvectors and lifts the small eigenvalues.
            shift = floor - smallest
            self.co_matrix = self.co_matrix + shift * np.eye(self.problem_dimension)
            eigenvalues = eigenvalues + shift
        self.b_matrix = b
        self.d_matrix = np.sqrt(eigenvalues)
        self.covariance_inv_sqrt = (b / self.d_matrix) @ b.T

    def mahalanobis_norm(self, dx: np.ndarray) -> np.ndarray:
        """``||C^(-1/2) dx||`` for a vector, or row-wise for a stack of vectors."""
        dx = np.asarray(dx, dtype=float)
        scaled = dx @ self.covariance_inv_sqrt.T
        return np.sqrt((scaled * scaled).sum(axis=-1))

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
        scale = math.sqrt(par.c_sigma * (2.0 - par.c_sigma) * par.mu_eff) / par.sigma
        par.p_sigma = (1.0 - par.c_sigma) * par.p_sigma + scale * (
            par.covariance_inv_sqrt @ (par.mean - par.mean_old)
        )  # eq. (43)
        par.sigma_old = par.sigma
        ratio = math.sqrt(float(par.p_sigma @ par.p_sigma)) / par.chi_n
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
        norm = math.sqrt(float(par.p_sigma @ par.p_sigma))
        threshold = (1.4 + 2.0 / (n + 1.0)) * par.chi_n
        decay = math.sqrt(1.0 - (1.0 - par.c_sigma) ** (2 * (par.generation + 1)))
        h_sigma = 1.0 if norm / decay < threshold else 0.0
        # Scalars are combined before they touch an array: this runs once per lambda results on
        # every worker, so each array operation saved counts.
        inv_sigma = 1.0 / par.sigma_old
        path_scale = h_sigma * math.sqrt(par.c_c * (2.0 - par.c_c) * par.mu_eff) * inv_sigma
        par.p_c = (1.0 - par.c_c) * par.p_c + path_scale * (par.mean - par.mean_old)  # eq. (45)
        w = par.weights[: len(arx)] if weights is None else np.asarray(weights, dtype=float)
        y = (arx - par.mean_old) * inv_sigma
        # eq. (46): negative weights are rescaled by n / ||C^(-1/2) y||^2 so that far-away bad
        # points cannot shrink C without bound.
        if w.min() < 0.0:
            distance2 = np.maximum(par.mahalanobis_norm(y) ** 2, 1e-20)
            w_circ = np.where(w >= 0.0, w, w * n / distance2)
        else:
            w_circ = w  # no negative weights to rescale (BasicCMA)
        delta_h = (1.0 - h_sigma) * par.c_c * (2.0 - par.c_c)
        c = (1.0 + par.c_1 * delta_h - par.c_1 - par.c_mu * float(w.sum())) * par.co_matrix
        c += np.multiply.outer(par.c_1 * par.p_c, par.p_c)  # rank one
        c += y.T @ (y * (par.c_mu * w_circ)[:, None])  # rank mu; eq. (47)
        if np.isfinite(c).all():
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
