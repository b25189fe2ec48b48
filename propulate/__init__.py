"""Propulate: massively parallel, asynchronous evolutionary hyperparameter optimization on MPI."""

from importlib.metadata import PackageNotFoundError, version

from . import propagators, utils  # utils: 1.2 scripts call propulate.utils.* after import propulate
from .errors import (
    CheckpointError,
    ConfigurationError,
    LossFunctionError,
    PropulateError,
    SearchSpaceError,
)
from .evaluation import current_dir, report_intermediate
from .islands import Islands
from .migrator import Migrator, Pollinator
from .objectives import Objective
from .parameters import Bool, Categorical, Float, Int, Ordinal
from .population import Individual
from .propagators.default import get_default_propagator
from .propulator import Propulator
from .reporting import set_logger_config
from .search_space import SearchSpace
from .surrogate import ASHA, DynamicSurrogate, MedianStoppingRule, StaticSurrogate, Surrogate

try:
    __version__ = version("propulate")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = [
    "Individual",
    "Propulator",
    "Islands",
    "Migrator",
    "Pollinator",
    "SearchSpace",
    "Int",
    "Float",
    "Ordinal",
    "Categorical",
    "Bool",
    "Objective",
    "Surrogate",
    "StaticSurrogate",
    "DynamicSurrogate",
    "MedianStoppingRule",
    "ASHA",
    "report_intermediate",
    "current_dir",
    "get_default_propagator",
    "set_logger_config",
    "propagators",
    "utils",
    "PropulateError",
    "SearchSpaceError",
    "ConfigurationError",
    "CheckpointError",
    "LossFunctionError",
    "__version__",
]
