"""The geometry of a Nelder-Mead simplex in the unit box: its edges, and when it is degenerate.

Pure functions of arrays (and a random generator where a direction is drawn), used by
:class:`~propulate.propagators.nm.ParallelNelderMead`, which keeps the simplex and its losses.
"""

from __future__ import annotations

import random

import numpy as np

__all__ = [
    "COLLAPSE_TOLERANCE",
    "FLATNESS_TOLERANCE",
    "axis_edges",
    "random_edges",
    "inside_edge",
    "degenerate_edge",
]

#: A simplex whose vertices all lie this close to the best one (unit coordinates) is rebuilt.
COLLAPSE_TOLERANCE = 1e-9
#: A simplex whose edges span less than this share of their largest extent in some direction is
#: rebuilt (taking in other workers' points can leave all vertices on one line).
FLATNESS_TOLERANCE = 1e-6


def axis_edges(center: np.ndarray, scale: float) -> np.ndarray:
    """The edges of the initial simplex: one per axis, ``scale`` long, towards the farther bound.

    The caller clips the vertices ``center + edge`` at the bounds.
    """
    return np.diag(np.where(center <= 0.5, scale, -scale))


def random_edges(center: np.ndarray, length: float, rng: random.Random) -> np.ndarray:
    """The edges of a restart: along a random orthonormal basis, each shortened to fit the box.

    Rebuilding the same simplex around the same point would retrace the same steps, and clipping
    long edges would put vertices on the same corners again and again. Draws ``n * n`` Gaussian
    numbers from ``rng``.
    """
    n = len(center)
    gaussian = np.array([[rng.gauss(0.0, 1.0) for _ in range(n)] for _ in range(n)])
    directions = np.linalg.qr(gaussian)[0].T
    return np.array([inside_edge(center, d, length) for d in directions])


def inside_edge(center: np.ndarray, direction: np.ndarray, length: float) -> np.ndarray:
    """``t * direction`` or its opposite, as long as possible up to ``length`` in the box."""
    best = np.zeros_like(direction)
    for d in (direction, -direction):
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(d > 0, (1.0 - center) / d, np.where(d < 0, -center / d, np.inf))
        t = min(length, float(room.min()))
        if t * np.abs(d).max() > np.abs(best).max():
            best = t * d
    if np.abs(best).max() < 1e-6 * length:  # in a corner: clip a full-length edge
        best = length * direction
    return best


def degenerate_edge(vertices: np.ndarray, best: int, scale: float) -> float | None:
    """The edge length to rebuild a degenerate simplex with; None if it is sound.

    Collapsed (every vertex within ``COLLAPSE_TOLERANCE`` of the best): ``scale``, a restart.
    Flat (the edges' smallest singular value below ``FLATNESS_TOLERANCE`` times the largest): its
    longest edge from the best vertex (at most ``scale``), keeping its size.
    """
    edges = np.delete(vertices, best, axis=0) - vertices[best]
    if np.abs(edges).max() < COLLAPSE_TOLERANCE:
        return scale
    extents = np.linalg.svd(edges, compute_uv=False)
    if extents[-1] < FLATNESS_TOLERANCE * extents[0]:
        return min(scale, float(np.linalg.norm(edges, axis=1).max()))
    return None
