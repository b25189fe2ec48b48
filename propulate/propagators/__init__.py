"""Propagators: operators that breed new individuals from a population."""

from .base import Propagator
from .cmaes import ActiveCMA, BasicCMA, CMAAdapter, CMAParameter, CMAPropagator
from .constraints import Feasible
from .ga import (
    CrossoverMultiple,
    CrossoverSigmoid,
    CrossoverUniform,
    IntervalMutationNormal,
    PointMutation,
    RandomPointMutation,
)
from .nm import ParallelNelderMead
from .operators import (
    AvoidDuplicates,
    Compose,
    Conditional,
    InitUniform,
    Rebreed,
    SelectMax,
    SelectMin,
    SelectUniform,
    Stochastic,
)
from .pareto import SelectPareto
from .portfolio import Handoff, Mixture, get_hybrid_propagator
from .pso import (
    BasicPSO,
    CanonicalPSO,
    ConstrictionPSO,
    InitUniformPSO,
    StatelessPSO,
    VelocityClampingPSO,
)
from .tpe import TPE

__all__ = [
    "Propagator",
    "Stochastic",
    "Conditional",
    "Compose",
    "AvoidDuplicates",
    "Feasible",
    "Rebreed",
    "SelectMin",
    "SelectMax",
    "SelectUniform",
    "SelectPareto",
    "InitUniform",
    "PointMutation",
    "RandomPointMutation",
    "IntervalMutationNormal",
    "CrossoverUniform",
    "CrossoverMultiple",
    "CrossoverSigmoid",
    "BasicPSO",
    "VelocityClampingPSO",
    "ConstrictionPSO",
    "CanonicalPSO",
    "StatelessPSO",
    "InitUniformPSO",
    "CMAAdapter",
    "CMAParameter",
    "CMAPropagator",
    "BasicCMA",
    "ActiveCMA",
    "ParallelNelderMead",
    "TPE",
    "Handoff",
    "Mixture",
    "get_hybrid_propagator",
]
