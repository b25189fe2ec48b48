"""What the built-in trackers share: the optional import, immigrants, names and values.

:class:`Tracker` is a :class:`~propulate.callbacks.Callback` that keeps the run's
:class:`~propulate.callbacks.RunContext` and passes each result bred on its island to
:meth:`Tracker.log_result` (immigrants only with ``immigrants=True``: the island that bred them
logs them, so with the default every evaluation is logged exactly once).
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

from ..individual import Individual, Status
from .base import Callback, RunContext

__all__ = ["Tracker", "require", "run_name", "final_loss", "curve_of"]

INSTALL = "pip install 'propulate[trackers]'"


def require(module: str, owner: str, package: str) -> ModuleType:
    """Import an optional package, or raise an :class:`ImportError` that says how to install it.

    Parameters
    ----------
    module : str
        The module to import (e.g. ``"mlflow"``).
    owner : str
        Who needs it (for the message).
    package : str
        The package to install (e.g. ``"mlflow-skinny"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{owner} needs the package {package!r}, which is not installed: "
            f"pip install {package} (or {INSTALL})."
        ) from error


def run_name(ind: Individual) -> str:
    """A name unique in the search: the island, rank and generation that bred ``ind``."""
    return f"island{ind.island}-rank{ind.rank}-gen{ind.generation}"


def final_loss(ind: Individual) -> float | None:
    """The loss to log as the result's metric; ``None`` when there is none (failed, ``inf``)."""
    loss = ind.loss
    if loss is None or ind.status == Status.FAILED or not math.isfinite(float(loss)):
        return None
    return float(loss)


def curve_of(ind: Individual) -> list[float]:
    """The learning curve (intermediate losses) of ``ind``; empty when none was recorded."""
    curve = getattr(ind, "curve", None)
    return [] if curve is None else [float(v) for v in curve]


class Tracker(Callback):
    """A callback that logs each result bred on its island (immigrants too, if asked).

    Parameters
    ----------
    immigrants : bool
        Also log individuals that migrated here from another island (their island has logged
        them already, so by default they are skipped).
    """

    def __init__(self, immigrants: bool = False) -> None:
        self.immigrants = bool(immigrants)
        self.context: RunContext | None = None
        self.logged = 0

    def on_start(self, context: RunContext) -> None:
        """Keep the context and open the tracker (:meth:`open`)."""
        self.context = context
        self.logged = 0
        self.open(context)

    def on_result(self, individual: Individual) -> None:
        """Log ``individual`` (:meth:`log_result`) unless it is an immigrant to skip."""
        context = self.context
        if context is None:
            return
        if not self.immigrants and individual.island != context.island:
            return
        self.log_result(individual)
        self.logged += 1

    def on_end(self) -> None:
        """Close the tracker (:meth:`close`)."""
        if self.context is not None:
            self.close()
        self.context = None

    def open(self, context: RunContext) -> None:
        """Open the tracker for a run (does nothing unless overridden)."""

    def log_result(self, individual: Individual) -> None:
        """Log one result (override)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the tracker at the end of a run (does nothing unless overridden)."""
