r"""Particle swarm optimization (PSO) propagators.

Every worker owns one particle. The particle's current position and velocity are those of the
worker's latest individual in the population (``ind.worker`` equal to the propagator's ``rank``, the
highest ``generation``); the velocity travels with the individual in ``ind.velocity``. Its personal
best is the worker's best individual, the swarm's best is the best individual known. A call moves
the particle once and returns the new position as an unevaluated individual:

.. math::

    v' = \chi\,(w\,v + c_1 r_1 \odot (p - x) + c_2 r_2 \odot (g - x)), \qquad x' = x + v'

with :math:`r_1, r_2` uniform in :math:`[0, 1]^n`, drawn anew for every move. The variants differ
in :math:`w`, :math:`\chi` and whether :math:`v'` is clamped. Positions, velocities and clamps are
in unit coordinates (each parameter's range mapped onto [0, 1], logarithmically for log-scaled
ranges), so a velocity of 0.1 moves a tenth of the range whatever the parameter's units. A
position that leaves the range is put back on the boundary and its velocity in that coordinate is
set to zero ("absorbing walls").

The loop tells the propagator every result of its island (their ``tell``): it keeps
its particle's latest and best individual and the swarm's best from them, O(1) per result, so an
individual that later emigrates or is replaced still counts. Called without being told anything
(as Propulate 1.2 did), it finds them in the individuals it is given instead. A particle's whole
state lives on individuals, so the propagators save no state of their own (``get_state()``
returns ``{}``): a resumed run replays the checkpoint's results through ``tell`` and continues
every particle, as the checkpoint keeps each individual's ``velocity``.

References
----------
J. Kennedy and R. Eberhart, "Particle swarm optimization", ICNN 1995.
Y. Shi and R. Eberhart, "A modified particle swarm optimizer", ICEC 1998 (inertia weight).
M. Clerc and J. Kennedy, "The particle swarm: explosion, stability, and convergence in a
multidimensional complex space", IEEE TEC 6(1), 2002 (constriction factor).
R. Poli, J. Kennedy and T. Blackwell, "Particle swarm optimization: an overview", Swarm
Intelligence 1, 2007 (the canonical PSO: constriction with velocity clamping).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..population import Individual
from ..search_space import Limits, SearchSpace
from ..validation import check_number
from ._continuous import UnitBox, loss_of
from .base import Propagator
from .particles import (
    DEFAULT_V_INIT,
    InitUniformPSO,
    _check_rank,
    _new_particle,
    _order,
    _swarm_view,
    _velocity_bound,
)

__all__ = [
    "BasicPSO",
    "VelocityClampingPSO",
    "ConstrictionPSO",
    "CanonicalPSO",
    "StatelessPSO",
    "InitUniformPSO",
]


class _ParticleSwarm(Propagator):
    """The particle move shared by every PSO variant; subclasses only choose the coefficients."""

    #: Ranks by :attr:`Individual.loss` alone: with several objectives, the first one (a
    #: warning at the start of a run says so; see :mod:`propulate.objectives`).
    first_objective_only = True

    def __init__(
        self,
        inertia: float,
        c_cognitive: float,
        c_social: float,
        rank: int,
        limits: Limits | SearchSpace,
        rng: random.Random | None,
        constriction: float = 1.0,
        v_cap: float | np.ndarray | None = None,
        keep_velocity: bool = True,
    ) -> None:
        super().__init__(parents=-1, offspring=1, rng=rng)
        owner = type(self).__name__
        self.box = UnitBox(limits, owner)
        self.space = self.box.space
        self.limits = self.space.limits
        self.rank = _check_rank(owner, rank)
        self.inertia = check_number(owner, "inertia", inertia, 0, example=0.729)
        self.c_cognitive = check_number(owner, "c_cognitive", c_cognitive, 0, example=1.49445)
        self.c_social = check_number(owner, "c_social", c_social, 0, example=1.49445)
        self.constriction = constriction
        self.v_cap = (
            None if v_cap is None else _velocity_bound(owner, "v_limits", v_cap, self.box.dim)
        )
        self.keep_velocity = keep_velocity
        # From the results told: this particle's latest and best individual, the swarm's best.
        self._latest: Individual | None = None
        self._own_best: Individual | None = None
        self._best: Individual | None = None

    def tell(self, ind: Individual) -> None:
        """Take in a result: the particle's own move, or another particle's.

        Parameters
        ----------
        ind : Individual
            An evaluated individual of the island.
        """
        if self._best is None or _order(ind) < _order(self._best):
            self._best = ind
        if ind.rank != self.rank:
            return
        if self._latest is None or ind.generation >= self._latest.generation:
            self._latest = ind
        if self._own_best is None or _order(ind) < _order(self._own_best):
            self._own_best = ind

    def __call__(self, inds: Sequence[Individual]) -> Individual:
        """Move this worker's particle once and return its new position.

        Parameters
        ----------
        inds : Sequence[Individual]
            The evaluated individuals known (not modified).

        Returns
        -------
        Individual
            The particle's next position (with its velocity unless the variant has none). A
            worker without an individual of its own yet gets a new particle, placed uniformly at
            random.
        """
        latest: Individual | None
        if self._latest is not None:
            latest, own_best, best = self._latest, self._own_best, self._best
        else:  # told nothing of this particle: find it in what we are given
            latest, own_best, best = _swarm_view(inds, self.rank)
        if latest is None:
            return _new_particle(self.box, self.rng, DEFAULT_V_INIT, self.rank, self.keep_velocity)
        x = self.box.of(latest)
        v = self._velocity_of(latest)
        p = self.box.of(own_best) if own_best is not None and loss_of(own_best) < math.inf else x
        g = self.box.of(best) if best is not None and loss_of(best) < math.inf else x
        n = self.box.dim
        r1 = np.array([self.rng.random() for _ in range(n)])
        r2 = np.array([self.rng.random() for _ in range(n)])
        # Shi & Eberhart (1998) inertia form, scaled by Clerc & Kennedy's (2002) constriction.
        v_new = self.constriction * (
            self.inertia * v + self.c_cognitive * r1 * (p - x) + self.c_social * r2 * (g - x)
        )
        if self.v_cap is not None:
            v_new = np.clip(v_new, -self.v_cap, self.v_cap)
        x_new = x + v_new
        outside = (x_new < 0.0) | (x_new > 1.0)
        v_new[outside] = 0.0  # absorbing walls: stop at the boundary instead of pushing on it
        child = self.box.individual(np.clip(x_new, 0.0, 1.0), v_new if self.keep_velocity else None)
        child.rank = self.rank
        return child

    def _velocity_of(self, ind: Individual) -> np.ndarray:
        if not self.keep_velocity or ind.velocity is None:
            return np.zeros(self.box.dim)
        velocity = np.asarray(ind.velocity, dtype=float)
        if velocity.shape != (self.box.dim,) or not np.all(np.isfinite(velocity)):
            return np.zeros(self.box.dim)  # not a velocity of this swarm: restart it at rest
        return velocity

    def get_state(self) -> dict[str, Any]:
        """The propagator's own state: empty, since each particle lives on its individuals."""
        return {}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`get_state`'s output (nothing to restore)."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(inertia={self.inertia}, c_cognitive={self.c_cognitive}, "
            f"c_social={self.c_social}, rank={self.rank}, constriction={self.constriction:.6g})"
        )


class BasicPSO(_ParticleSwarm):
    """Particle swarm with an inertia weight (Shi and Eberhart, 1998).

    The velocity update is ``v' = w v + c1 r1 (p - x) + c2 r2 (g - x)`` in unit coordinates (see
    the module documentation for the conventions shared by every PSO propagator).

    Parameters
    ----------
    inertia : float
        The inertia weight ``w`` (0.729 is a common choice; below 1 for convergence).
    c_cognitive : float
        The cognitive factor ``c1``: pull towards the particle's own best (e.g. 1.49445).
    c_social : float
        The social factor ``c2``: pull towards the swarm's best (e.g. 1.49445).
    rank : int
        The rank of the worker in the whole job; it owns the particle made of its individuals.
    limits : Mapping[str, tuple] or SearchSpace
        The search space; every parameter must be a float range.
    rng : random.Random
        The random number generator.

    Raises
    ------
    ConfigurationError
        If a parameter is not a float range, a coefficient is negative or ``rank`` is invalid.

    Notes
    -----
    The propagator is stateless: ``get_state()`` returns ``{}``. Checkpoints must keep each
    individual's ``velocity`` for a resumed run to continue the swarm.
    """

    def __init__(
        self,
        inertia: float,
        c_cognitive: float,
        c_social: float,
        rank: int,
        limits: Limits | SearchSpace,
        rng: random.Random,
    ) -> None:
        super().__init__(inertia, c_cognitive, c_social, rank, limits, rng)


class VelocityClampingPSO(BasicPSO):
    """Inertia-weight PSO whose velocities are clamped per parameter.

    Parameters
    ----------
    inertia, c_cognitive, c_social, rank, limits, rng
        As for :class:`BasicPSO`.
    v_limits : float or numpy.ndarray
        The largest speed per move, as a fraction of each parameter's range: one number for all
        parameters or one per parameter (in the order of ``limits``); must be positive.

    Notes
    -----
    Stateless like :class:`BasicPSO`.
    """

    def __init__(
        self,
        inertia: float,
        c_cognitive: float,
        c_social: float,
        rank: int,
        limits: Limits | SearchSpace,
        rng: random.Random,
        v_limits: float | np.ndarray,
    ) -> None:
        _ParticleSwarm.__init__(
            self, inertia, c_cognitive, c_social, rank, limits, rng, v_cap=v_limits
        )


def constriction_factor(c_cognitive: float, c_social: float) -> float:
    """Clerc and Kennedy's constriction factor ``chi`` for ``phi = c_cognitive + c_social > 4``.

    ``chi = 2 / (phi - 2 + sqrt(phi^2 - 4 phi))``; ``phi = 4.1`` gives ``chi = 0.7298``.
    """
    phi = check_number(
        "ConstrictionPSO", "c_cognitive + c_social", c_cognitive + c_social, 4, low_open=True,
        example="2.05 + 2.05", note="Clerc and Kennedy's constriction",
    )  # fmt: skip
    return 2.0 / (phi - 2.0 + math.sqrt(phi * phi - 4.0 * phi))


class ConstrictionPSO(BasicPSO):
    """PSO with Clerc and Kennedy's constriction factor instead of an inertia weight.

    The velocity update is ``v' = chi (v + c1 r1 (p - x) + c2 r2 (g - x))`` with
    ``chi = 2 / (phi - 2 + sqrt(phi^2 - 4 phi))`` and ``phi = c1 + c2 > 4``.

    Parameters
    ----------
    c_cognitive : float
        The cognitive factor ``c1`` (e.g. 2.05).
    c_social : float
        The social factor ``c2`` (e.g. 2.05).
    rank, limits, rng
        As for :class:`BasicPSO`.

    Raises
    ------
    ConfigurationError
        If ``c_cognitive + c_social <= 4``, or as for :class:`BasicPSO`.

    Notes
    -----
    Stateless like :class:`BasicPSO`.
    """

    _v_cap: float | None = None

    def __init__(
        self,
        c_cognitive: float,
        c_social: float,
        rank: int,
        limits: Limits | SearchSpace,
        rng: random.Random,
    ) -> None:
        owner = type(self).__name__
        chi = constriction_factor(
            check_number(owner, "c_cognitive", c_cognitive, 0, example=2.05),
            check_number(owner, "c_social", c_social, 0, example=2.05),
        )
        _ParticleSwarm.__init__(
            self, 1.0, c_cognitive, c_social, rank, limits, rng, constriction=chi, v_cap=self._v_cap
        )


class CanonicalPSO(ConstrictionPSO):
    """The canonical PSO: constriction plus clamping every speed to one full range per move.

    Parameters
    ----------
    c_cognitive, c_social, rank, limits, rng
        As for :class:`ConstrictionPSO`.

    Notes
    -----
    Stateless like :class:`BasicPSO`. See Poli, Kennedy and Blackwell (2007) and Eberhart and Shi
    (2000), who recommend clamping at the dynamic range when using constriction.
    """

    _v_cap = 1.0


class StatelessPSO(_ParticleSwarm):
    """PSO without velocity: ``x' = x + c1 r1 (p - x) + c2 r2 (g - x)``.

    Each move starts from rest, so no velocity is stored on the individuals. The particle is
    attracted to a random point between its own and the swarm's best.

    Parameters
    ----------
    c_cognitive : float
        The cognitive factor ``c1``.
    c_social : float
        The social factor ``c2``.
    rank, limits, rng
        As for :class:`BasicPSO`.

    Notes
    -----
    Stateless: ``get_state()`` returns ``{}``; nothing beyond the individuals' positions is
    needed to resume.
    """

    def __init__(
        self,
        c_cognitive: float,
        c_social: float,
        rank: int,
        limits: Limits | SearchSpace,
        rng: random.Random,
    ) -> None:
        super().__init__(0.0, c_cognitive, c_social, rank, limits, rng, keep_velocity=False)
