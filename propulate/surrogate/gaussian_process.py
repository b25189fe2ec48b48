"""A small Gaussian-process regression on numpy (the parameter model of the dynamic surrogate)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["GaussianProcess"]


class GaussianProcess:
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
        sq = squared_distances(x, x)
        best = -math.inf
        for length in self.LENGTH_SCALES:
            kernel = matern52(sq, length)
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
            self.chol = np.linalg.cholesky(matern52(sq, self.length) + np.eye(len(z)))
            self.alpha = np.linalg.solve(self.chol.T, np.linalg.solve(self.chol, z))

    def predict(self, x: np.ndarray) -> tuple[float, float]:
        """Mean and variance of the latent function at one point ``x`` (original scale)."""
        k = matern52(squared_distances(x[None, :], self.x), self.length)[0]
        mean = float(k @ self.alpha)
        v = np.linalg.solve(self.chol, k)
        variance = max(1.0 - float(v @ v), 0.0) + self.noise
        return self.mean + self.scale * mean, self.scale**2 * variance


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between the rows of ``a`` and of ``b`` (never negative)."""
    return np.maximum(np.sum(a**2, 1)[:, None] + np.sum(b**2, 1)[None, :] - 2 * a @ b.T, 0.0)


def matern52(squared_distances: np.ndarray, length: float) -> np.ndarray:
    """The Matern-5/2 kernel of unit variance at the given squared distances."""
    r = np.sqrt(5.0 * squared_distances) / length
    return (1.0 + r + r**2 / 3.0) * np.exp(-r)
