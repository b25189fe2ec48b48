"""Helpers with the import paths of Propulate 1.2."""

from ..propagators.default import get_default_propagator
from ..reporting import set_logger_config
from . import benchmark_functions

__all__ = ["benchmark_functions", "get_default_propagator", "set_logger_config"]
