"""Parallel, asynchronous Nelder-Mead simplex search.

The classic method (J. A. Nelder and R. Mead, "A simplex method for function minimization", The
Computer Journal 7, 1965) moves a simplex of ``n + 1`` points by reflecting a bad vertex through
the centroid of the others, expanding, contracting or shrinking. Its parallel variant (D. Lee and
M. Wiswall, "A parallel implementation of the simplex function minimization routine",
Computational Economics 29, 2007) lets each of ``P`` workers update a different one of the ``P``
worst vertices at the same time.

Here every worker's propagator runs that variant asynchronously, one evaluation per call:

* Each worker keeps its own simplex (in unit coordinates: each float range mapped onto [0, 1],
  logarithmically for log-scaled ranges) and its position in the Nelder-Mead step.
* A step starts by taking in the other workers' progress: every individual of the population that
  beats the simplex's best vertex replaces its worst vertex. Workers therefore share the best
  points found without talking to each other.
* The worker then updates the ``k``-th worst vertex, ``k = rank mod n`` (0 = worst): reflection,
  then expansion, outside or inside contraction as the losses dictate, each a separate call. The
  worker learns its rank from the result of its first proposal.
* The points of the initial simplex and of a shrink are spread over the workers: each worker
  proposes, in random order, those whose loss nobody has reported yet (a result told by another
  worker fills in the vertex it hit exactly).
* A simplex that has collapsed (all vertices within 1e-9 of the best in unit coordinates) is
  rebuilt around its best vertex, randomly oriented, with edges up to ``scale`` (a restart). A
  flat one (its vertices on a line or plane: smallest singular value of its edges below
  ``FLATNESS_TOLERANCE`` times the largest) can no longer move across that line, so it is
  rebuilt the same way, with edges as long as its longest edge from the best vertex.

The loop tells the propagator the result of the very individual it proposed
(:meth:`ParallelNelderMead.tell`), so its bookkeeping is exact and costs O(1) per result. The
simplex and step are the propagator's state, exported as plain JSON-able data by
:meth:`ParallelNelderMead.get_state`. A proposal whose result a restored state does not know
(the run stopped while it was evaluated) is proposed again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..population import Individual, select_best
from ..search_space import Limits, SearchSpace
from ..validation import check_number
from ._continuous import UnitBox, loss_of
from ._simplex import COLLAPSE_TOLERANCE as COLLAPSE_TOLERANCE
from ._simplex import FLATNESS_TOLERANCE as FLATNESS_TOLERANCE
from ._simplex import axis_edges, degenerate_edge, random_edges
from .base import Propagator

__all__ = ["ParallelNelderMead"]
# COLLAPSE_TOLERANCE and FLATNESS_TOLERANCE (the geometry's, in ._simplex) stay importable here.

_STATE_VERSION = 1

Key = tuple[float, ...]


class ParallelNelderMead(Propagator):
    """Nelder-Mead where workers update different vertices of a shared simplex.

    See the module documentation for the algorithm.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space; every parameter must be a float range.
    rng : random.Random
        The random number generator (it orders the initial and shrink points a worker proposes).
    start : numpy.ndarray
        The values (in the order of ``limits``) around which the initial simplex is built; must
        lie inside the limits.
    alpha : float
        The reflection coefficient, > 0.
    gamma : float
        The expansion coefficient, > 1 and > ``alpha``.
    rho : float
        The contraction coefficient, in (0, 1).
    sigma : float
        The shrink coefficient, in (0, 1).
    scale : float
        The edge length of the initial simplex as a fraction of each parameter's range: vertex
        ``i`` moves parameter ``i`` of ``start`` by ``scale`` towards the farther bound (clipped
        at the bound).

    Raises
    ------
    ConfigurationError
        If a parameter is not a float range, ``start`` has the wrong length or lies outside the
        limits, or a coefficient is out of range.

    Notes
    -----
    Stateful: :meth:`get_state` returns the simplex, the losses known and the step in progress;
    :meth:`set_state` restores them.
    """

    #: Ranks by :attr:`Individual.loss` alone: with several objectives, the first one (a
    #: warning at the start of a run says so; see :mod:`propulate.objectives`).
    first_objective_only = True

    def __init__(
        self,
        limits: Limits | SearchSpace,
        rng: random.Random,
        start: np.ndarray,
        alpha: float = 1.0,
        gamma: float = 2.0,
        rho: float = 0.5,
        sigma: float = 0.5,
        scale: float = 1.0,
    ) -> None:
        super().__init__(parents=-1, offspring=1, rng=rng)
        self.box = UnitBox(limits, "ParallelNelderMead")
        self.space = self.box.space
        self.limits = self.space.limits
        n = self.box.dim
        owner = "ParallelNelderMead"
        alpha = check_number(owner, "alpha", alpha, 0, low_open=True, example=1)
        low = max(1.0, alpha)  # an expansion goes further than the reflection
        gamma = check_number(owner, "gamma", gamma, low, low_open=True, example=max(2, 2 * alpha),
                             note="gamma > 1 and gamma > alpha")  # fmt: skip
        rho = check_number(owner, "rho", rho, 0, 1, low_open=True, high_open=True, example=0.5)
        sigma = check_number(owner, "sigma", sigma, 0, 1, low_open=True, high_open=True,
                             example=0.5)  # fmt: skip
        scale = check_number(owner, "scale", scale, 0, low_open=True, example=1)
        start_values = np.asarray(start, dtype=float).reshape(-1)
        if start_values.shape != (n,):
            raise ConfigurationError(
                f"ParallelNelderMead: start has {start_values.size} value(s); give one per "
                f"parameter, in the order {list(self.box.names)}."
            )
        for d, value in zip(self.box.space, start_values, strict=True):
            if not d.low <= value <= d.high:
                raise ConfigurationError(
                    f"ParallelNelderMead: start value {value!r} for {d.name!r} lies outside "
                    f"limits[{d.name!r}] = {self.limits[d.name]!r}; start inside the limits."
                )
        self.start = start_values
        self.alpha, self.gamma, self.rho, self.sigma = alpha, gamma, rho, sigma
        self.scale = scale
        self.rank: int | None = None  # learned from the result of this worker's first proposal
        self._pending: Individual | None = None  # the individual of the awaited proposal
        self._wanted: dict[Key, list[int]] = {}  # vertices of unknown loss, by their values
        self._proposal_loss = math.inf
        self._centroid = np.zeros(n)
        self._expanded = np.zeros(n)
        self._contracted = np.zeros(n)
        self._reset(self.box.to_unit(start_values))

    # ----- state ----------------------------------------------------------------------------
    def _reset(
        self,
        center: np.ndarray,
        center_loss: float | None = None,
        rotate: bool = False,
        edge: float | None = None,
    ) -> None:
        """Start over with a simplex built around ``center``; all but its loss unknown.

        The initial simplex is axis-aligned (``axis_edges``); a restart (``rotate``) orients its
        edges at random (``random_edges``), ``edge`` long (default: ``scale``).
        """
        center = np.clip(center, 0.0, 1.0)
        if not rotate:
            edges = axis_edges(center, self.scale)
        else:
            edges = random_edges(center, self.scale if edge is None else edge, self.rng)
        self.vertices = np.vstack([center, np.clip(center + edges, 0.0, 1.0)])
        self.losses: list[float | None] = [center_loss] + [None] * self.box.dim
        self._begin_batch()

    def _begin_batch(self) -> None:
        """Evaluate every vertex whose loss is unknown (initial simplex or shrink)."""
        self.phase = "batch"
        self.target = -1
        self.trial = np.zeros(self.box.dim)
        self.trial_loss = math.inf
        self.proposal: np.ndarray | None = None
        self._pending = None
        self._index_unknown()

    def _index_unknown(self) -> None:
        """Index the vertices whose loss is unknown by the exact values they are bred with."""
        self._wanted = {}
        if self.phase == "batch":
            for i, loss in enumerate(self.losses):
                if loss is None:
                    self._wanted.setdefault(self.box.key(self.vertices[i]), []).append(i)

    # ----- one call ---------------------------------------------------------------------------
    def __call__(self, inds: Sequence[Individual]) -> Individual:
        """Advance this worker's Nelder-Mead step and return the next point to evaluate.

        Parameters
        ----------
        inds : Sequence[Individual]
            The evaluated individuals known (not modified).

        Returns
        -------
        Individual
            A new, unevaluated individual.
        """
        if self.proposal is not None:
            # No result for the last proposal (a restored state): propose it again.
            return self._individual(self.proposal)
        # A pass proposes a point or completes a step (accept, shrink, restart); a new step
        # always proposes its reflection, so a few passes suffice.
        for _ in range(8):
            point = self._next(inds)
            if point is not None:
                self.proposal = point
                return self._individual(point)
        raise RuntimeError(f"ParallelNelderMead made no proposal in phase {self.phase!r} (a bug)")

    def _individual(self, point: np.ndarray) -> Individual:
        self._pending = self.box.individual(point)
        return self._pending

    def tell(self, ind: Individual) -> None:
        """Take in a result: of this worker's proposal, or of a vertex another worker evaluated.

        Parameters
        ----------
        ind : Individual
            An evaluated individual of the island, or this propagator's last proposal with its
            result (a failed evaluation counts as an infinite loss).
        """
        if ind is self._pending and self.proposal is not None:
            if ind.worker >= 0:
                self.rank = int(ind.rank)
            if self.phase == "batch":
                self._fill(self.box.key(self.proposal), loss_of(ind))
            else:
                self._proposal_loss = loss_of(ind)
            self.proposal = self._pending = None
        elif self._wanted:
            self._fill(UnitBox.key_of(ind), loss_of(ind))

    def _fill(self, key: Key, loss: float) -> None:
        """Set the loss of every vertex of unknown loss at exactly these values."""
        for i in self._wanted.pop(key, []):
            if self.losses[i] is None:
                self.losses[i] = loss

    def _next(self, inds: Sequence[Individual]) -> np.ndarray | None:
        """Advance the step; return a point to evaluate, or None when a step just completed."""
        if self.phase == "batch":
            unknown = [i for i, loss in enumerate(self.losses) if loss is None]
            if unknown:
                return self.vertices[self.rng.choice(unknown)].copy()
            self.phase = "start"
            return None
        if self.phase == "start":
            return self._start_step(inds)
        loss = self._proposal_loss
        f = np.array(self.losses, dtype=float)
        j = self.target
        others = np.delete(f, j)
        if self.phase == "reflect":
            self.trial_loss = loss
            if loss < f.min():
                self._expanded = self._along(self.trial, self.gamma)
                return self._propose("expand", self._expanded)
            if loss < others.max():
                self._accept(self.trial, loss)
                return None
            if loss < f[j]:
                self._contracted = self._along(self.trial, self.rho)
                return self._propose("outside", self._contracted)
            self._contracted = self._along(self.vertices[j], self.rho)
            return self._propose("inside", self._contracted)
        if self.phase == "expand":
            if loss < self.trial_loss:
                self._accept(self._expanded, loss)
            else:
                self._accept(self.trial, self.trial_loss)
        elif self.phase == "outside" and loss <= self.trial_loss:
            self._accept(self._contracted, loss)
        elif self.phase == "inside" and loss < f[j]:
            self._accept(self._contracted, loss)
        else:
            self._shrink()
        return None

    def _start_step(self, inds: Sequence[Individual]) -> np.ndarray | None:
        self._absorb(inds)
        best = self._best_index()
        edge = degenerate_edge(self.vertices, best, self.scale)
        if edge is not None:
            self._reset(self.vertices[best], self.losses[best], rotate=True, edge=edge)
            return None
        order = np.argsort(-np.array(self.losses, dtype=float), kind="stable")
        lane = 0 if self.rank is None else self.rank % self.box.dim
        self.target = int(order[lane])
        self._centroid = np.delete(self.vertices, self.target, axis=0).mean(axis=0)
        self.trial = self._clip(
            self._centroid + self.alpha * (self._centroid - self.vertices[self.target])
        )
        self.phase = "reflect"
        return self.trial.copy()

    def _absorb(self, inds: Sequence[Individual]) -> None:
        """Replace the worst vertex by each known individual better than the best vertex.

        Only improvements on the best vertex count as progress: taking in anything that merely
        beats the worst vertex would pull back points a shrink has just left, and cycle.
        """
        keys = {self.box.key(v) for v in self.vertices}
        for ind in select_best(inds, self.box.dim + 1):
            loss = loss_of(ind)
            f = np.array(self.losses, dtype=float)  # all known at the start of a step
            if not loss < f.min():
                break
            key = UnitBox.key_of(ind)
            if key in keys:
                continue
            worst = int(np.argmax(f))
            self.vertices[worst] = np.clip(self.box.of(ind), 0.0, 1.0)
            self.losses[worst] = loss
            keys.add(key)

    def _along(self, point: np.ndarray, coefficient: float) -> np.ndarray:
        """``c + coefficient (point - c)`` for the current centroid ``c``, inside the box."""
        return self._clip(self._centroid + coefficient * (point - self._centroid))

    def _propose(self, phase: str, point: np.ndarray) -> np.ndarray:
        self.phase = phase
        return point.copy()

    def _accept(self, point: np.ndarray, loss: float) -> None:
        """Put ``point`` in place of the target vertex; the step is complete."""
        self.vertices[self.target] = point
        self.losses[self.target] = loss
        self.phase = "start"

    def _shrink(self) -> None:
        """Move every vertex halfway (``sigma``) to the best; their losses must be evaluated."""
        best = self._best_index()
        for i in range(len(self.vertices)):
            if i != best:
                self.vertices[i] = self.vertices[best] + self.sigma * (
                    self.vertices[i] - self.vertices[best]
                )
                self.losses[i] = None
        self._begin_batch()

    def _best_index(self) -> int:
        return int(np.argmin(np.array([math.inf if x is None else x for x in self.losses])))

    @staticmethod
    def _clip(point: np.ndarray) -> np.ndarray:
        return np.clip(point, 0.0, 1.0)

    # ----- plain state ----------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The simplex, its known losses and the step in progress, as plain JSON-able data.

        Infinite losses are written as the string ``"inf"``, unknown ones as None.
        """
        return {
            "format_version": _STATE_VERSION,
            "dimension": self.box.dim,
            "vertices": self.vertices.tolist(),
            "losses": [_encode(x) for x in self.losses],
            "phase": self.phase,
            "target": self.target,
            "trial": self.trial.tolist(),
            "trial_loss": _encode(self.trial_loss),
            "centroid": self._centroid.tolist(),
            "contracted": self._contracted.tolist(),
            "expanded": self._expanded.tolist(),
            "proposal": None if self.proposal is None else self.proposal.tolist(),
            "proposal_loss": _encode(self._proposal_loss),
            "rank": self.rank,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`get_state`'s output; ``{}`` restarts from ``start``.

        Raises
        ------
        ConfigurationError
            If the state comes from another version or dimension.
        """
        if not state:
            self.rank = None
            self._reset(self.box.to_unit(self.start))
            return
        n = self.box.dim
        if state.get("format_version") != _STATE_VERSION or state.get("dimension") != n:
            raise ConfigurationError(
                f"ParallelNelderMead.set_state: state of version {state.get('format_version')!r}"
                f" and dimension {state.get('dimension')!r}; this propagator has version "
                f"{_STATE_VERSION} and dimension {n}. Restore a state saved by the same setup."
            )
        vertices = np.asarray(state["vertices"], dtype=float)
        if vertices.shape != (n + 1, n) or len(state["losses"]) != n + 1:
            raise ConfigurationError(
                f"ParallelNelderMead.set_state: a simplex of shape {vertices.shape}; expected "
                f"{(n + 1, n)}."
            )
        self.vertices = vertices
        self.losses = [_decode(x) for x in state["losses"]]
        self.phase = str(state["phase"])
        self.target = int(state["target"])
        self.trial = np.asarray(state["trial"], dtype=float)
        self.trial_loss = _loss(state["trial_loss"])
        self._centroid = np.asarray(state["centroid"], dtype=float)
        self._contracted = np.asarray(state["contracted"], dtype=float)
        self._expanded = np.asarray(state["expanded"], dtype=float)
        proposal = state["proposal"]
        self.proposal = None if proposal is None else np.asarray(proposal, dtype=float)
        self._proposal_loss = _loss(state["proposal_loss"])
        self.rank = None if state["rank"] is None else int(state["rank"])
        self._pending = None
        self._index_unknown()

    def __repr__(self) -> str:
        return (
            f"ParallelNelderMead(alpha={self.alpha}, gamma={self.gamma}, rho={self.rho}, "
            f"sigma={self.sigma}, scale={self.scale}, phase={self.phase!r})"
        )


def _encode(loss: float | None) -> float | str | None:
    if loss is None:
        return None
    return loss if math.isfinite(loss) else ("inf" if loss > 0 else "-inf")


def _decode(loss: float | str | None) -> float | None:
    return None if loss is None else float(loss)


def _loss(loss: float | str | None) -> float:
    return math.inf if loss is None else float(loss)
