"""The strategies (PSO, CMA-ES, Nelder-Mead, TPE) through the contract battery."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pytest

from propulate import Float, Individual, SearchSpace
from propulate.errors import ConfigurationError
from propulate.propagators import (
    TPE,
    ActiveCMA,
    BasicCMA,
    BasicPSO,
    CanonicalPSO,
    CMAPropagator,
    Conditional,
    ConstrictionPSO,
    InitUniformPSO,
    ParallelNelderMead,
    StatelessPSO,
    VelocityClampingPSO,
    get_hybrid_propagator,
)
from propulate.search_space import Limits
from propulate.testing import (
    ALL_CHECKS,
    CONDITIONAL_LIMITS,
    FLOAT_LIMITS,
    KINDS_LIMITS,
    MIXED_LIMITS,
    PropagatorFactory,
    make_population,
)


def particles(limits: Limits, losses: Sequence[float]) -> list[Individual]:
    """The battery's population (four ranks), with a velocity on every other individual."""
    population = make_population(limits, losses)
    size = SearchSpace.of(limits).encoded_size
    rng = np.random.default_rng(0)
    for ind in population[::2]:
        ind.velocity = rng.uniform(-0.3, 0.3, size)
    return population


def _center(limits: Limits) -> np.ndarray:
    """The middle of every numeric range (0 for a categorical, which NM refuses anyway)."""
    space = SearchSpace.of(limits)
    return np.array([(d.low + d.high) / 2.0 for d in space])


FACTORIES: list[tuple[str, PropagatorFactory]] = [
    ("BasicPSO", lambda limits, rng: BasicPSO(0.729, 1.49445, 1.49445, 1, limits, rng)),
    ("BasicPSO-no-particle", lambda limits, rng: BasicPSO(0.7, 1.5, 1.5, 9, limits, rng)),
    (
        "VelocityClampingPSO",
        lambda limits, rng: VelocityClampingPSO(0.729, 1.5, 1.5, 2, limits, rng, 0.05),
    ),
    ("ConstrictionPSO", lambda limits, rng: ConstrictionPSO(2.05, 2.05, 3, limits, rng)),
    ("CanonicalPSO", lambda limits, rng: CanonicalPSO(2.05, 2.05, 0, limits, rng)),
    ("StatelessPSO", lambda limits, rng: StatelessPSO(2.0, 2.0, 1, limits, rng)),
    ("InitUniformPSO", lambda limits, rng: InitUniformPSO(limits, 1, rng=rng)),
    ("InitUniformPSO-replace", lambda limits, rng: InitUniformPSO(limits, 1, 1, 0.5, rng=rng)),
    (
        "Conditional-PSO",
        lambda limits, rng: Conditional(
            8,
            BasicPSO(0.729, 1.49445, 1.49445, 1, limits, rng),
            InitUniformPSO(limits, 1, rng=rng),
        ),
    ),
    ("BasicCMA", lambda limits, rng: CMAPropagator(BasicCMA(), limits, rng=rng)),
    ("ActiveCMA", lambda limits, rng: CMAPropagator(ActiveCMA(), limits, rng=rng)),
    (
        "ActiveCMA-worst-all-time",
        lambda limits, rng: CMAPropagator(
            ActiveCMA(), limits, select_worst_all_time=True, pop_size=5, rng=rng
        ),
    ),
    (
        "ParallelNelderMead",
        lambda limits, rng: ParallelNelderMead(limits, rng, _center(limits), scale=0.3),
    ),
]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize(("name", "factory"), FACTORIES, ids=[name for name, _ in FACTORIES])
def test_contract(name, factory, check):
    check(factory, FLOAT_LIMITS, particles)


# Strategies that search every kind of parameter: floats, log floats, ints, categoricals.
MIXED: list[tuple[str, PropagatorFactory]] = [
    ("BasicCMA", lambda limits, rng: CMAPropagator(BasicCMA(), limits, rng=rng)),
    ("ActiveCMA", lambda limits, rng: CMAPropagator(ActiveCMA(), limits, rng=rng)),
    ("TPE", lambda limits, rng: TPE(limits, rng=rng)),
    ("TPE-short-start", lambda limits, rng: TPE(limits, rng=rng, n_startup=2, n_candidates=8)),
    ("hybrid", lambda limits, rng: get_hybrid_propagator(limits, rng=rng, after=15)),
]
CONTINUOUS_ONLY = [(name, f) for name, f in FACTORIES if "CMA" not in name]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize(("name", "factory"), MIXED, ids=[name for name, _ in MIXED])
@pytest.mark.parametrize(
    "limits",
    [MIXED_LIMITS, KINDS_LIMITS, CONDITIONAL_LIMITS],
    ids=["mixed", "kinds", "conditional"],
)
def test_contract_on_mixed_spaces(name, factory, check, limits):
    check(factory, limits)


# A pinned float, (0.5, 0.5) as Propulate 1.2 accepts it, next to ordinary float ranges.
PINNED_FLOAT_LIMITS = {**FLOAT_LIMITS, "pinned": (0.5, 0.5)}


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize(("name", "factory"), FACTORIES, ids=[name for name, _ in FACTORIES])
def test_contract_with_a_pinned_float(name, factory, check):
    check(factory, PINNED_FLOAT_LIMITS, particles)


@pytest.mark.parametrize(
    ("name", "factory"), CONTINUOUS_ONLY, ids=[name for name, _ in CONTINUOUS_ONLY]
)
@pytest.mark.parametrize("limits", [MIXED_LIMITS, CONDITIONAL_LIMITS], ids=["mixed", "conditional"])
def test_mixed_spaces_are_refused_with_a_clear_error(name, factory, limits):
    with pytest.raises(ConfigurationError, match="continuous") as error:
        factory(limits, random.Random(0))
    assert "float" in str(error.value)


@pytest.mark.parametrize(
    ("name", "factory"), CONTINUOUS_ONLY, ids=[name for name, _ in CONTINUOUS_ONLY]
)
@pytest.mark.parametrize(
    "domain",
    [(0.1, 0.25, 0.5), Float(0.0, 1.0, step=0.1)],
    ids=["float-value-set", "float-step"],
)
def test_float_grids_are_refused_with_a_clear_error(name, factory, domain):
    limits = {**FLOAT_LIMITS, "grid": domain}
    with pytest.raises(ConfigurationError, match="continuous") as error:
        factory(limits, random.Random(0))
    assert "limits['grid']" in str(error.value)
    assert "float value set" in str(error.value) or "float range with a step" in str(error.value)
