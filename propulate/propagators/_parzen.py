"""Parzen estimators over model coordinates: product kernels on mixed spaces.

A :class:`ParzenEstimator` is a weighted mixture of one kernel per observation plus a uniform
prior component. Each kernel is a product over the hyperparameters: a Gaussian truncated to
[0, 1] for numeric coordinates (see :mod:`._coordinates`; integers are coordinates with bins)
and an Aitchison-Aitken kernel for categorical ones (the observed choice with probability
``1 - lambda``, the others sharing ``lambda``). The kernels are *multivariate*: a sample takes
every coordinate from the same observation's kernel, so the estimator keeps the dependencies
between hyperparameters that the good observations show.

Bandwidths follow Scott's rule on the weighted spread of the observations, ``sigma_j = s_j
n^(-1 / (d + 4))``, with ``d`` the number of numeric columns; with few observations, whose
spread says little, the spread is pulled towards the prior's width, and no bandwidth is below
the caller's ``min_bandwidth``.

A NaN coordinate is an inactive conditional parameter (see :mod:`._coordinates`): an
observation without a value for a column has a uniform kernel there (it says nothing about it),
each column's bandwidth comes from the observations that have it, and a point's density is
taken over the columns it has (the others are integrated out).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["ParzenEstimator", "normal_cdf"]

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _erf(x: np.ndarray) -> np.ndarray:
    """Error function, vectorized (Abramowitz and Stegun 7.1.26, absolute error < 1.5e-7)."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-x * x))


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal distribution function, vectorized."""
    return 0.5 * (1.0 + _erf(np.asarray(x, dtype=float) / _SQRT2))


class ParzenEstimator:
    """A mixture of product kernels centred on observations, plus a uniform prior.

    Parameters
    ----------
    observations : numpy.ndarray
        The observations' model coordinates, one row each (may be empty).
    weights : numpy.ndarray
        One non-negative weight per observation.
    numeric : numpy.ndarray of bool
        Which columns are numeric.
    choices : numpy.ndarray of int
        The number of choices of each categorical column (ignored for numeric ones).
    min_bandwidth : numpy.ndarray
        The smallest bandwidth of each numeric column.
    prior_weight : float
        The weight of the uniform prior component, relative to one observation of weight 1.
    fixed : tuple of numpy.ndarray, optional
        More observations (rows) with bandwidths of their own (one row each), weight 1 each;
        they do not enter the spread the other bandwidths come from.
    """

    def __init__(
        self,
        observations: np.ndarray,
        weights: np.ndarray,
        numeric: np.ndarray,
        choices: np.ndarray,
        min_bandwidth: np.ndarray,
        prior_weight: float = 1.0,
        fixed: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.mus = np.asarray(observations, dtype=float).reshape(-1, len(numeric))
        self.numeric = numeric
        self.choices = np.maximum(choices, 1)
        n, d = self.mus.shape
        sigma = self._bandwidths(np.asarray(weights, dtype=float))
        sigma = np.maximum(sigma, min_bandwidth)
        # One bandwidth per observation and column; the first ``shared`` rows share one row.
        self.shared = n
        self.shared_sigma = np.where(numeric, sigma, 1.0)
        self.sigma = np.broadcast_to(self.shared_sigma, (n, d)).copy()
        if fixed is not None and len(fixed[0]):
            rows = np.asarray(fixed[0], dtype=float).reshape(-1, d)
            self.mus = np.vstack([self.mus, rows])
            self.sigma = np.vstack([self.sigma, np.asarray(fixed[1], dtype=float).reshape(-1, d)])
            weights = np.concatenate([np.asarray(weights, dtype=float), np.ones(len(rows))])
            n = len(self.mus)
        total = float(np.sum(weights)) + prior_weight
        self.log_weights = np.log(np.maximum(np.asarray(weights, dtype=float), 1e-300) / total)
        self.log_prior_weight = math.log(prior_weight / total) if prior_weight > 0 else -math.inf
        self.prior_weight_share = prior_weight / total
        self.component_share = np.asarray(weights, dtype=float) / total
        # Truncation to [0, 1]: each kernel's mass inside, per observation and numeric column.
        self.log_mass = np.zeros((n, d))
        self._absent = np.isnan(self.mus)
        self.masked = bool(self._absent.any())
        if n and numeric.any():
            mus, sig = self.mus[:, numeric], self.sigma[:, numeric]
            inside = normal_cdf((1.0 - mus) / sig) - normal_cdf(-mus / sig)
            self.log_mass[:, numeric] = np.log(np.maximum(np.nan_to_num(inside, nan=1.0), 1e-12))
        self._log_mass_rows = self.log_mass.sum(axis=1)
        self._onehot_mus: np.ndarray | None = None  # of the shared block, made on first use
        # Categorical kernels: the observed choice keeps 1 - lambda, the others share lambda.
        k = self.choices.astype(float)
        spread = (k - 1.0) / k / (1.0 + math.sqrt(n))
        self.keep = np.where(numeric, 1.0, 1.0 - spread)
        self.other = np.where(numeric, 0.0, spread / np.maximum(k - 1.0, 1.0))

    def _bandwidths(self, weights: np.ndarray) -> np.ndarray:
        n, d = self.mus.shape
        prior_sigma = 1.0 / math.sqrt(12.0)  # the standard deviation of U(0, 1)
        if n == 0:
            return np.full(d, prior_sigma)
        numeric_dims = max(int(self.numeric.sum()), 1)
        present = ~np.isnan(self.mus)
        if not present.all():
            # Each column from the observations that have it (inactive ones are NaN).
            mus = np.where(present, self.mus, 0.0)
            w_col = weights[:, None] * present
            total = np.maximum(w_col.sum(axis=0), 1e-300)
            mean = (w_col * mus).sum(axis=0) / total
            var = (w_col * (mus - mean) ** 2).sum(axis=0) / total
            count = present.sum(axis=0).astype(float)
            confidence = count / (count + 2.0)
            spread = confidence * np.sqrt(np.maximum(var, 0.0)) + (1.0 - confidence) * prior_sigma
            return spread * np.maximum(count, 1.0) ** (-1.0 / (numeric_dims + 4.0))
        w = weights / max(float(weights.sum()), 1e-300)
        mean = w @ self.mus
        spread = np.sqrt(np.maximum(w @ (self.mus - mean) ** 2, 0.0))
        # With few observations their spread says little: shrink towards the prior's width.
        confidence = n / (n + 2.0)
        spread = confidence * spread + (1.0 - confidence) * prior_sigma
        return spread * n ** (-1.0 / (numeric_dims + 4.0))

    # ----- sampling -------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` points (rows of model coordinates; categoricals as indices)."""
        n, d = self.mus.shape
        shares = np.append(self.component_share, self.prior_weight_share)
        shares = shares / shares.sum()
        picks = rng.choice(n + 1, size=size, p=shares)
        from_prior = picks == n
        out = np.empty((size, d))
        uniform = rng.random((size, d))
        prior_rows = np.where(self.numeric, uniform, np.floor(uniform * self.choices))
        out[from_prior] = prior_rows[from_prior]
        chosen = ~from_prior
        if np.any(chosen):
            mus = self.mus[picks[chosen]]
            out[chosen] = self._sample_kernels(rng, mus, self.sigma[picks[chosen]])
            if self.masked:  # a column the observation lacks: drawn from its uniform kernel
                out = np.where(np.isnan(out), prior_rows, out)
        return out

    def _sample_kernels(
        self, rng: np.random.Generator, mus: np.ndarray, sigma: np.ndarray
    ) -> np.ndarray:
        m, d = mus.shape
        # Numeric: truncated normals by rejection (a few rounds; the rest clipped).
        draws = mus + sigma * rng.standard_normal((m, d))
        for _ in range(8):
            outside = self.numeric & ((draws < 0.0) | (draws > 1.0))
            if not outside.any():
                break
            fresh = mus + sigma * rng.standard_normal((m, d))
            draws = np.where(outside, fresh, draws)
        draws = np.where(self.numeric, np.clip(draws, 0.0, 1.0), draws)
        # Categorical: keep the observed choice, or move to one of the others uniformly.
        move = rng.random((m, d)) >= self.keep
        offset = 1.0 + np.floor(rng.random((m, d)) * np.maximum(self.choices - 1, 1))
        moved = np.mod(mus + offset, self.choices)
        categorical = np.where(move & (self.choices > 1), moved, mus)
        return np.where(self.numeric, draws, categorical)

    # ----- density --------------------------------------------------------------------------
    def log_pdf(self, points: np.ndarray) -> np.ndarray:
        """The log density at each row of ``points`` (a mass per choice for categoricals)."""
        points = np.asarray(points, dtype=float)
        c = len(points)
        log_choices = np.log(np.where(self.numeric, 1.0, self.choices))
        masked = self.masked or bool(np.isnan(points).any())
        if masked:  # the prior over the columns each point has
            prior: Any = -np.where(np.isnan(points), 0.0, log_choices).sum(axis=1)
        else:
            prior = float(-np.sum(log_choices))
        if len(self.mus) == 0:
            return np.full(c, prior, dtype=float)
        # Per point and component: the log of the component's weight and kernel at the point.
        if masked:
            blocks = [self._masked_block(points)]
        else:
            blocks = [self._shared_block(points)]
            if len(self.mus) > self.shared:
                blocks.append(self._own_block(points))
        total = np.hstack(blocks) + self.log_weights
        peak = total.max(axis=1)
        mixture = peak + np.log(np.exp(total - peak[:, None]).sum(axis=1))
        return np.logaddexp(mixture, self.log_prior_weight + prior)

    def _shared_block(self, points: np.ndarray) -> np.ndarray:
        """The log kernels of the components sharing one bandwidth row, by matrix products.

        With one bandwidth per column, ``sum_j ((x_j - mu_ij) / s_j)^2`` expands into
        ``|x / s|^2 + |mu_i / s|^2 - 2 (x / s) . (mu_i / s)``, and the categorical kernels into a
        product of one-hot encodings: no loop over components or columns, which keeps a
        proposal fast with thousands of results known.
        """
        mus = self.mus[: self.shared]
        numeric = self.numeric
        sigma = self.shared_sigma[numeric]
        a = points[:, numeric] / sigma
        b = mus[:, numeric] / sigma
        squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
        log_norm = float(np.sum(np.log(sigma))) + _LOG_SQRT_2PI * len(sigma)
        block = -0.5 * np.maximum(squared, 0.0) - log_norm - self._log_mass_rows[: self.shared]
        categorical = np.flatnonzero(~numeric)
        if len(categorical):
            keep = np.log(self.keep[categorical])
            other = np.log(np.maximum(self.other[categorical], 1e-300))
            block += float(other.sum())
            if self._onehot_mus is None:
                gain = np.repeat(keep - other, self.choices[categorical])
                self._onehot_mus = self._onehot(mus[:, categorical], categorical) * gain
            block += self._onehot(points[:, categorical], categorical) @ self._onehot_mus.T
        return block

    def _own_block(self, points: np.ndarray) -> np.ndarray:
        """The log kernels of the components with bandwidths of their own (a few rows)."""
        mus, sigma = self.mus[self.shared :], self.sigma[self.shared :]
        log_mass = self.log_mass[self.shared :]
        block = np.zeros((len(points), len(mus)))
        for j in range(len(self.numeric)):
            if self.numeric[j]:
                z = (points[:, j, None] - mus[None, :, j]) / sigma[None, :, j]
                block += -0.5 * z * z - (_LOG_SQRT_2PI + np.log(sigma[None, :, j]))
                block -= log_mass[None, :, j]
            else:
                same = points[:, j, None] == mus[None, :, j]
                keep, other = math.log(self.keep[j]), math.log(max(self.other[j], 1e-300))
                block += np.where(same, keep, other)
        return block

    def _masked_block(self, points: np.ndarray) -> np.ndarray:
        """The log kernels of every component where points or observations lack columns.

        A column a point lacks is left out (integrated out); a column an observation lacks has
        that observation's uniform kernel, density 1 (numeric) or ``1 / k`` (categorical).
        """
        mus, sigma = self.mus, self.sigma
        block = np.zeros((len(points), len(mus)))
        for j in range(len(self.numeric)):
            x, mu = points[:, j, None], mus[None, :, j]
            if self.numeric[j]:
                z = (x - mu) / sigma[None, :, j]
                term = -0.5 * z * z - (_LOG_SQRT_2PI + np.log(sigma[None, :, j]))
                term = np.where(np.isnan(mu), 0.0, term - self.log_mass[None, :, j])
            else:
                keep, other = math.log(self.keep[j]), math.log(max(self.other[j], 1e-300))
                term = np.where(x == mu, keep, other)
                term = np.where(np.isnan(mu), -math.log(self.choices[j]), term)
            block += np.where(np.isnan(x), 0.0, term)
        return block

    def _onehot(self, indices: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """One-hot rows of categorical indices, the choices of every column side by side."""
        sizes = self.choices[columns]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        out = np.zeros((len(indices), int(sizes.sum())))
        rows = np.arange(len(indices))[:, None]
        out[rows, (indices.astype(int) + offsets[None, :])] = 1.0
        return out
