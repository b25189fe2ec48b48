"""Covariance matrix adaptation evolution strategy (CMA-ES), asynchronous.

The propagator samples from a multivariate normal distribution ``N(m, sigma^2 C)`` over the unit
coordinates of the search space (each float range mapped onto [0, 1], logarithmically for
log-scaled ranges) and adapts ``m``, ``sigma`` and ``C`` as in N. Hansen, "The CMA Evolution
Strategy: A Tutorial", arXiv:1604.00772 (2016); equation numbers refer to it (the mathematics
lives in the private module ``_cma_math``).

Mixed spaces (``_cma_mixed``): integers are coordinates of the Gaussian too, each owning a
bin, with a margin that keeps a narrow Gaussian leaving the mean's integer now and then (CMA-ES
with margin); every categorical has a probability vector that follows the choices of the best
individuals and never drops below ``1 / (lambda k)``. A space of floats only is searched exactly
as before.

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
it back. Negative weights for the ranks ``mu + 1 .. lambda`` of the elite would punish good
points, which stalls the search on ill-conditioned problems.

Until ``lambda`` individuals with a finite loss are known, new individuals are drawn uniformly
from the search space. The first update initializes the mean at one of the ``pool_size`` best
individuals (chosen at random, so that workers starting together spread over several promising
points), with ``sigma = 0.3`` (the tutorial's advice: 0.3 times the width of the box) and
``C = I``. When the distribution has contracted below :data:`TOL_X` (its samples would round
to points already known), it restarts the same way around one of the best individuals.

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
from ..validation import check_int
from ._cma_math import MAX_CONDITION, SIGMA0, ActiveCMA, BasicCMA, CMAAdapter, CMAParameter
from ._cma_mixed import MixedSpace
from ._continuous import loss_of
from .base import Propagator

__all__ = [
    "CMAParameter",
    "CMAAdapter",
    "BasicCMA",
    "ActiveCMA",
    "CMAPropagator",
    "SIGMA0",
    "MAX_CONDITION",
    "TOL_X",
]

#: Draws of a sample before one that leaves the unit box is clipped into it.
MAX_RESAMPLING = 10
#: Updates a burst of new individuals can pay for at most (one per call, ``lambda`` each).
MAX_CATCH_UP = 10
#: Spread (``sigma`` times the largest axis, unit coordinates) below which the distribution
#: restarts: its samples would round to the same hyperparameters (0.5 has a float spacing of
#: 1.1e-16), so it could only repeat known points.
TOL_X = 1e-12
_STATE_VERSION = 3
_ROW_CACHE = 4096  # coordinates kept for ranking before the cache starts over


class CMAPropagator(Propagator):
    """Asynchronous CMA-ES (see the module documentation for how it adapts).

    Parameters
    ----------
    adapter : CMAAdapter
        The variant: :class:`BasicCMA` or :class:`ActiveCMA`.
    limits : Mapping[str, tuple] or SearchSpace
        The search space: floats (also log-scaled), integers and categoricals, at least one
        float or integer.
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
        If every parameter is categorical or a size is invalid.

    Notes
    -----
    Stateful: :meth:`get_state` returns the distribution (mean, step size, covariance matrix and
    evolution paths), how many individuals of the population updates have used and the recent
    samples as plain data, and :meth:`set_state` restores it. Cost per call: O(lambda log N)
    selection on a sorted population view plus O(n^2) sampling; an update adds O(lambda n^2)
    and, when due, an O(n^3) eigendecomposition.
    """

    #: Ranks by :attr:`Individual.loss` alone: with several objectives, the first one (a
    #: warning at the start of a run says so; see :mod:`propulate.objectives`).
    first_objective_only = True

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
        self.space = SearchSpace.of(limits)
        self.limits = self.space.limits
        self.mixed = MixedSpace(self.space, "CMAPropagator")
        n = self.mixed.dim
        default = 4 + int(math.floor(3.0 * math.log(n)))
        lambd = default if pop_size is None else check_int(
            "CMAPropagator", "pop_size", pop_size, 2, example=default,
            note=f"or None for the default 4 + floor(3 ln n) = {default}",
        )  # fmt: skip
        pool_size = check_int("CMAPropagator", "pool_size", pool_size, 1, example=3)
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
        # Unit coordinates of the individuals updates ranked, by key: the elite changes slowly.
        self._rows: dict[tuple[int, int], np.ndarray] = {}
        # (distribution, its generation, sigma A B D) of the last sample: see _sample.
        self._transform: tuple[CMAParameter, int, np.ndarray] | None = None

    def _new_parameter(self, mean: np.ndarray) -> CMAParameter:
        return CMAParameter(
            self.lambd,
            self.mu,
            self.mixed.dim,
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
            return self.mixed.random_individual(self.rng)
        if self.par is not None and self.par.sigma * float(self.par.d_matrix.max()) < TOL_X:
            self.par = None  # collapsed to float resolution: restart (new sigma and C)
        if self.par is None:
            start = self.rng.choice(best[: self.pool_size])
            start_row = self.mixed.impute(self.mixed.of(start), 0.5)
            self.par = self._new_parameter(np.clip(start_row, 0.0, 1.0))
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
        chosen = best[: self.mu]
        ranked = self._rows_of(chosen)
        weights = par.weights[: len(ranked)]
        if self.adapter.negative_weights:
            n_bad = self.lambd - self.mu
            if self.select_worst_all_time:
                bad = self.mixed.stack(select_worst(inds, n_bad)[::-1])
                bad_weights = par.weights[self.mu : self.mu + len(bad)]
            else:
                # This worker's samples since the last update that did not make it into the
                # lambda best: fresh draws of the current distribution known to be bad. (The
                # lambda best themselves are good points of the whole history; weighting them
                # negatively would shrink C along directions that work.) Their order among each
                # other is unknown, so each gets the mean negative weight.
                elite = {ind.key for ind in best}
                rows = [row for key, row in self._recent if key not in elite][-n_bad:]
                bad = np.array(rows, dtype=float).reshape(-1, self.mixed.dim)
                bad_weights = np.full(len(bad), float(par.weights[self.mu :].mean()))
            ranked = np.vstack([ranked, bad])
            weights = np.concatenate([weights, bad_weights])
        self._recent.clear()
        ranked = self.mixed.impute(ranked, par.mean)  # inactive conditional parameters
        old_mean = par.mean
        self.adapter.update_mean(par, ranked)  # binds a new array: old_mean stays the old one
        stretch = self.mixed.margin
        if not self.mixed.mixed or (stretch == 1.0).all():
            self.adapter.update_step_size(par)
            self.adapter.update_covariance_matrix(par, ranked, weights=weights)
        else:
            # Samples were drawn with integer coordinates stretched by the margin: adapt on
            # the unstretched steps, so the margin never feeds back into sigma and C.
            mean = par.mean
            par.mean = old_mean + (mean - old_mean) / stretch
            self.adapter.update_step_size(par)
            unstretched = old_mean + (ranked - old_mean) / stretch
            self.adapter.update_covariance_matrix(par, unstretched, weights=weights)
            par.mean = mean
        par.generation += 1
        if self.mixed.mixed:
            self.mixed.update_categories(
                self.mixed.categories_of(chosen), par.weights[: len(chosen)], self.lambd
            )
            spread = par.sigma * np.sqrt(np.maximum(np.diag(par.co_matrix), 0.0))
            self.mixed.update_margin(par.mean, spread, self.lambd)

    def _rows_of(self, inds: Sequence[Individual]) -> np.ndarray:
        """The continuous unit coordinates of evaluated individuals, one row each (cached)."""
        if len(self._rows) > _ROW_CACHE:
            self._rows.clear()
        cache = self._rows
        missing = [ind for ind in inds if ind.key not in cache]
        if missing:  # encoded together: one pass of array operations
            for ind, row in zip(missing, self.mixed.stack(missing), strict=True):
                cache[ind.key] = row
        rows = [cache[ind.key] for ind in inds]
        return np.array(rows, dtype=float).reshape(-1, self.mixed.dim)

    def _sample(self, par: CMAParameter) -> Individual:
        """Draw ``x = m + sigma A B D z`` (eqs. (38)-(40)), resampled to stay inside.

        ``A`` is the integer margin (ones without integers); categoricals are drawn from their
        distributions.
        """
        x = par.mean
        # B D sigma A as one matrix, kept until the distribution or the margin changes: a sample
        # is then one product (this is the hot path).
        cached = self._transform
        if cached is not None and cached[0] is par and cached[1] == par.generation:
            transform = cached[2]
        else:
            transform = (self.mixed.margin * par.sigma)[:, None] * par.b_matrix * par.d_matrix
            self._transform = (par, par.generation, transform)
        gauss = self.rng.gauss
        for _ in range(MAX_RESAMPLING):
            z = [gauss(0.0, 1.0) for _ in range(par.problem_dimension)]
            x = par.mean + transform @ z
            if x.min() >= 0.0 and x.max() <= 1.0:
                break
        child = self.mixed.individual(x, self.mixed.sample_categories(self.rng))
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
        own = ind is self._last_sample
        if ind.worker < 0 and not own:
            return  # another strategy's repeat that was not evaluated (AvoidDuplicates)
        self._unused += 1
        if own:
            self._last_sample = None
            mean = 0.5 if self.par is None else self.par.mean
            self._recent.append((ind.key, self.mixed.impute(self.mixed.of(ind), mean)))
            del self._recent[: -self.lambd]

    # ----- plain state ----------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The adaptation state as plain JSON-able data.

        ``distribution`` is None before the first update.
        """
        return {
            "format_version": _STATE_VERSION,
            "dimension": self.mixed.dim,
            "lambda": self.lambd,
            "unused": self._unused,
            "recent": [[*key, *row.tolist()] for key, row in self._recent],
            "distribution": None if self.par is None else self.par.to_state(),
            "mixed": self.mixed.get_state(),
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
            self.mixed = MixedSpace(self.space, "CMAPropagator")
            return
        version = state.get("format_version")
        if version not in (1, 2, _STATE_VERSION):
            raise ConfigurationError(
                f"CMAPropagator.set_state: format_version={version!r}; this version reads 1 to "
                f"{_STATE_VERSION}. Restore a state saved by the same configuration."
            )
        for key, value in (("dimension", self.mixed.dim), ("lambda", self.lambd)):
            if state.get(key) != value:
                raise ConfigurationError(
                    f"CMAPropagator.set_state: {key}={state.get(key)!r} but this propagator has "
                    f"{value!r}; restore a state saved by the same configuration."
                )
        self._last_sample, self._transform = None, None
        self.mixed.set_state(state.get("mixed", {}))  # versions before 3: floats only
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
