"""Exceptions raised by Propulate.

Every exception derives from :class:`PropulateError` and also from the built-in exception a user
would catch for that kind of problem (``ValueError`` for bad values, ``RuntimeError`` for runtime
failures), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "PropulateError",
    "SearchSpaceError",
    "ConfigurationError",
    "CheckpointError",
    "LossFunctionError",
    "UsageError",
    "PeerError",
]


class PropulateError(Exception):
    """Base class of every error Propulate raises on purpose."""


class SearchSpaceError(PropulateError, ValueError):
    """The limits dictionary does not describe a valid search space."""


class ConfigurationError(PropulateError, ValueError):
    """An argument (sizes, probabilities, ranks, propagator arity) is invalid."""


class CheckpointError(PropulateError, RuntimeError):
    """A checkpoint cannot be read or does not match the current run."""


class LossFunctionError(PropulateError, RuntimeError):
    """The loss function failed and the run was configured to re-raise after a clean shutdown."""


class UsageError(PropulateError, RuntimeError):
    """Ask and tell used out of order (telling what was not asked, asking after finish, ...)."""


class PeerError(PropulateError, RuntimeError):
    """Another rank failed, so this one stopped too; the error itself is raised on that rank."""
