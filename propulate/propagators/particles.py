"""The particles of a swarm: checks, a worker's particle in a population, new random particles.

A particle is made of its worker's individuals (see :mod:`propulate.propagators.pso`): its
position and ``velocity`` are those of the worker's latest one, its personal best the worker's
best. :class:`InitUniformPSO` places new particles uniformly at random; the particle swarms use
the same draw for a worker that has no particle yet. :class:`InitUniformPSO` is importable from
:mod:`propulate.propagators.pso` too, where it has always been.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from ..population import ActiveView, Individual
from ..search_space import Limits, SearchSpace
from ..validation import check_int, fail
from ._continuous import UnitBox, as_items, loss_of
from .operators import Stochastic

__all__ = ["InitUniformPSO", "DEFAULT_V_INIT"]

#: Initial velocity bound (fraction of each range) of a particle created without InitUniformPSO.
DEFAULT_V_INIT = 0.1


def _check_rank(owner: str, rank: Any) -> int:
    note = "the worker's rank in the whole job"
    return check_int(owner, "rank", rank, 0, example="MPI.COMM_WORLD.rank", note=note)


def _velocity_bound(owner: str, name: str, value: Any, dim: int) -> np.ndarray:
    """A per-dimension positive bound from a scalar or an array of length ``dim``."""
    try:
        bound = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        bound = np.full(dim, math.nan)
    if bound.ndim == 0:
        bound = np.full(dim, float(bound))
    if bound.shape != (dim,) or not np.all(np.isfinite(bound)) or np.any(bound <= 0):
        requirement = f"a number > 0 or {dim} of them (fractions of each parameter's range)"
        fail(owner, name, value, requirement, 0.1)
    return bound


def _order(ind: Individual) -> tuple[float, int, int]:
    """The order of a sorted population view: loss (missing or NaN last), rank, generation."""
    return (loss_of(ind), ind.worker, ind.generation)


def _swarm_view(
    inds: Sequence[Individual], rank: int
) -> tuple[Individual | None, Individual | None, Individual | None]:
    """The worker's latest and best individuals and the overall best.

    One pass picks the worker's own individuals (a cheap comparison per individual); the overall
    best is the first element of a sorted view, or the minimum of any other sequence in the same
    order, so ties break the same way on a list and on a view.
    """
    if len(inds) == 0:
        return None, None, None
    if isinstance(inds, ActiveView):  # O(log N): the population indexes individuals by rank
        own_view = inds.of_rank(rank)
        return inds.latest_of(rank), (own_view[0] if len(own_view) else None), inds[0]
    items = as_items(inds)
    best = min(items, key=_order)
    own = [ind for ind in items if ind.worker == rank]
    if not own:
        return None, None, best
    latest = max(own, key=attrgetter("generation"))
    return latest, min(own, key=_order), best


def _new_particle(
    box: UnitBox, rng: random.Random, v_bound: float | np.ndarray, rank: int, with_velocity: bool
) -> Individual:
    n = box.dim
    bound = np.broadcast_to(np.asarray(v_bound, dtype=float), (n,))
    x = np.array([rng.random() for _ in range(n)])
    v = np.array([rng.uniform(-b, b) for b in bound]) if with_velocity else None
    child = box.individual(x, v)
    child.worker = rank
    return child


class InitUniformPSO(Stochastic):
    """Create a particle uniformly at random, with a random velocity.

    With ``parents=0`` it always creates a new particle. With ``parents=1`` it replaces its parent
    with ``probability`` and passes the parent through otherwise.

    Parameters
    ----------
    limits : Mapping[str, tuple] or SearchSpace
        The search space; every parameter must be a float range.
    rank : int
        The rank of the worker in the whole job.
    parents : int
        0 or 1.
    probability : float
        The probability of creating a new particle (``parents=1``).
    rng : random.Random, optional
        The random number generator.
    v_init_limit : float or numpy.ndarray
        Each velocity component is drawn uniformly from ``[-v_init_limit, v_init_limit]``, a
        fraction of the parameter's range: one number or one per parameter.
    """

    def __init__(
        self,
        limits: Limits | SearchSpace,
        rank: int,
        parents: int = 0,
        probability: float = 1.0,
        rng: random.Random | None = None,
        v_init_limit: float | np.ndarray = DEFAULT_V_INIT,
    ) -> None:
        owner = type(self).__name__
        super().__init__(check_int(owner, "parents", parents, 0, 1, example=0), 1, probability, rng)
        self.box = UnitBox(limits, owner)
        self.space = self.box.space
        self.limits = self.space.limits
        self.rank = _check_rank(owner, rank)
        self.v_limits = _velocity_bound(owner, "v_init_limit", v_init_limit, self.box.dim)

    def __call__(self, inds: Sequence[Individual] = ()) -> Individual:
        """Return a new random particle, or the parent unchanged."""
        if self.parents > 0 and len(inds) > 0 and not self.applies():
            return inds[0]
        return _new_particle(self.box, self.rng, self.v_limits, self.rank, True)
