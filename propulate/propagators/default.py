"""The default propagator: a genetic algorithm, half of whose children CMA-ES (or TPE) breeds."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..population import Individual, Status
from ..search_space import Limits, SearchSpace
from ..validation import check_int, check_number, check_probability, check_rng
from .base import (
    AvoidDuplicates,
    Compose,
    Conditional,
    InitUniform,
    Propagator,
    SelectUniform,
)
from .cmaes import BasicCMA, CMAPropagator
from .ga import CrossoverUniform, IntervalMutationNormal, PointMutation
from .pareto import SelectPareto, objective_count
from .portfolio import Mixture
from .tpe import TPE

__all__ = ["get_default_propagator"]


def get_default_propagator(
    pop_size: int,
    limits: Limits | SearchSpace,
    crossover_prob: float = 0.7,
    mutation_prob: float = 0.4,
    random_init_prob: float = 0.1,
    sigma_factor: float = 0.05,
    rng: random.Random | None = None,
    *,
    cma_share: float = 0.5,
) -> Propagator:
    """Build the default propagator: a genetic algorithm and CMA-ES breeding side by side.

    Until the population holds ``pop_size`` individuals, new individuals are drawn uniformly at
    random. From then on each child is bred, with probability ``1 - cma_share``, by the genetic
    algorithm of Propulate 1.2: two parents drawn uniformly from the ``pop_size`` best, crossed
    over with probability ``crossover_prob``, point-mutated and Gaussian-mutated with
    probability ``mutation_prob`` each, and replaced by a random individual with probability
    ``random_init_prob``; otherwise by CMA-ES (:class:`~propulate.propagators.CMAPropagator`
    on any mixed space), which learns from every result, the genetic algorithm's too. The two
    complement each other: crossover recombines good values of separate parameters, CMA-ES
    adapts to how parameters interact and converges fast. The search-quality benchmark
    measured the combination well ahead of either alone on mixed and continuous problems (see
    the docs' benchmarks page); ``cma_share=0`` gives Propulate 1.2's genetic algorithm, as
    does a space of categorical parameters only. A child that repeats hyperparameters the
    population already holds is bred again (up to 10 times, :class:`AvoidDuplicates`): without
    that, about a fifth of the evaluations of a converging run repeat an earlier one.

    With several objectives (a loss function returning several values, see
    :mod:`propulate.objectives`) the genetic algorithm's ``pop_size`` parents are the best by
    non-dominated rank, the last front's spread by hypervolume
    (:class:`~propulate.propagators.SelectPareto`), and multi-objective TPE
    (:class:`~propulate.propagators.TPE`, which learns from every result) breeds the children
    CMA-ES would breed with one objective (CMA-ES ranks one objective only): a model of the
    whole front proposes where the small breeding population cannot reach. On the
    multi-objective benchmark (two and three objectives, a mixed space) that lifted the
    hypervolume at 200 evaluations from 0.93-1.00 of Optuna's multi-objective TPE to 0.97-1.07
    (see the docs' benchmarks page).

    Parameters
    ----------
    pop_size : int
        The size of the breeding population (the best individuals parents are drawn from).
    limits : Mapping[str, tuple] or SearchSpace
        The search space.
    crossover_prob : float
        The probability of uniform crossover (otherwise the first parent is carried over).
    mutation_prob : float
        The probability of each of the two mutations.
    random_init_prob : float
        The probability of replacing the child by a random individual.
    sigma_factor : float
        The Gaussian mutation's standard deviation relative to each range's width.
    rng : random.Random, optional
        The random number generator; a fresh one if omitted.
    cma_share : float
        The probability that CMA-ES breeds a child (with several objectives TPE), in [0, 1].

    Returns
    -------
    Propagator
        The propagator.
    """
    owner = "get_default_propagator"
    pop_size = check_int(
        owner, "pop_size", pop_size, 2, example=8, note="crossover needs two parents"
    )
    for name, value in (
        ("crossover_prob", crossover_prob),
        ("mutation_prob", mutation_prob),
        ("random_init_prob", random_init_prob),
    ):
        check_probability(owner, name, value)
    check_number(owner, "sigma_factor", sigma_factor, 0.0, low_open=True, example=0.05)
    check_probability(owner, "cma_share", cma_share, example=0.5)
    rng = check_rng(owner, "rng", rng) or random.Random()
    space = SearchSpace.of(limits)
    stages: list[Propagator] = [
        SelectPareto(pop_size),
        SelectUniform(2, rng=rng),
        CrossoverUniform(probability=crossover_prob, rng=rng),
        PointMutation(space, probability=mutation_prob, rng=rng),
    ]
    if any(d.is_numeric for d in space):
        stages.append(
            IntervalMutationNormal(
                space, sigma_factor=sigma_factor, probability=mutation_prob, rng=rng
            )
        )
    stages.append(InitUniform(space, parents=1, probability=random_init_prob, rng=rng))
    breeder: Propagator = Compose(stages)
    if cma_share > 0 and any(d.is_numeric for d in space):
        cma = CMAPropagator(BasicCMA(), space, rng=rng)
        ga = breeder
        tpe = TPE(space, rng=rng)
        # Announcing every evaluation start to the island would cost every default run
        # messages, single-objective ones too, for a TPE that breeds only with several
        # objectives; it still counts its own proposals in flight as pending.
        tpe.wants_pending = False
        breeder = Mixture([ga, _OneObjective(cma, tpe)], [1.0 - cma_share, cma_share], rng=rng)
    return Conditional(pop_size, AvoidDuplicates(breeder), InitUniform(space, rng=rng))


class _OneObjective(Propagator):
    """``single`` breeds while the individuals carry one objective, ``several`` otherwise.

    Only the strategy that breeds learns: a run's results all carry the same number of
    objectives, so once a successful result tells which, the other strategy is told nothing
    more (telling TPE every result of a single-objective run cost about a third of the loop's
    work on a fast loss with 4 ranks). Until then both learn.
    """

    wants_pending = False  # neither stage asks for evaluations started elsewhere (see default)

    def __init__(self, single: Propagator, several: Propagator) -> None:
        super().__init__(parents=-1, offspring=1, rng=single.rng)
        self.single = single
        self.several = several
        self._learners: tuple[Propagator, ...] = (single, several)  # until a result decides

    def tell(self, ind: Individual) -> None:
        """Tell the strategy that breeds for this run's number of objectives (both until known).

        Parameters
        ----------
        ind : Individual
            A result of the island (or a rejected proposal, see ``AvoidDuplicates``).
        """
        if len(self._learners) == 2 and ind.status == Status.OK:
            several = ind.losses is not None and len(ind.losses) > 1
            self._learners = (self.several,) if several else (self.single,)
        for learner in self._learners:
            learner.tell(ind)

    def __call__(self, inds: Sequence[Individual]) -> list[Individual] | Individual:
        """Breed with ``several`` when the individuals carry several objectives."""
        return (self.several if objective_count(inds) > 1 else self.single)(inds)

    def stages(self) -> Sequence[Propagator]:
        """Both strategies."""
        return (self.single, self.several)

    def __repr__(self) -> str:
        return repr(self.single)
