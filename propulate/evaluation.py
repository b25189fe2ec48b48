"""Calling the user's loss function, and what happens when it fails.

Policy: an exception, or a result that is not a finite real number (NaN, +-inf, ``None``, a
string...), marks the individual as *failed* with loss ``+inf``. The failure is logged once per
individual with its parameters and traceback, the individual is kept (so it is never evaluated
again and shows up in summaries), and the run goes on. Other ranks are never affected: failures
are handled locally before anything is sent. With ``raise_on_failure`` the Propulator stops
breeding after the first failure, shuts down cleanly (every result recorded and delivered) and
then raises :class:`~propulate.errors.LossFunctionError`.

A loss function may be a generator: every yielded value is an intermediate loss (e.g. after each
epoch) and the last one is the loss. With a multi-rank worker the loss function is called as
``loss_fn(params, comm)`` with the worker's communicator.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .population import Status

__all__ = ["Evaluation", "evaluate"]

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """The outcome of one call of the loss function.

    Attributes
    ----------
    loss : float
        The loss (``inf`` if the evaluation failed).
    status : str
        ``"ok"`` or ``"failed"``.
    duration : float
        Seconds the call took.
    finished_at : float
        Unix time at which it ended.
    error : str or None
        A one-line description of the failure.
    curve : list of float
        The intermediate values a generator loss function yielded.
    """

    loss: float
    status: str
    duration: float
    finished_at: float
    error: str | None = None
    curve: list[float] = field(default_factory=list)


def evaluate(
    loss_fn: Callable[..., Any],
    params: Mapping[str, Any],
    worker_comm: Any = None,
) -> Evaluation:
    """Call ``loss_fn`` on ``params`` and classify the result (never raises for user errors).

    Parameters
    ----------
    loss_fn : callable
        The loss function (or generator function).
    params : Mapping
        The hyperparameters.
    worker_comm : optional
        The multi-rank worker's communicator, passed as second argument when given.

    Returns
    -------
    Evaluation
        The outcome.
    """
    start = time.perf_counter()
    curve: list[float] = []
    try:
        result = loss_fn(params) if worker_comm is None else loss_fn(params, worker_comm)
        if inspect.isgenerator(result):
            for value in result:
                curve.append(_as_float(value))
            result = curve[-1] if curve else None
        loss = _as_float(result)
        error = None if math.isfinite(loss) else f"loss_fn returned {result!r}"
    except Exception as exception:  # noqa: BLE001  # the policy: record, log, go on
        loss, error = math.inf, f"{type(exception).__name__}: {exception}"
        log.warning(
            "loss_fn raised for %s; recorded as failed with loss=inf.\n%s",
            dict(params),
            traceback.format_exc(),
        )
    else:
        if error is not None:
            log.warning(
                "%s for %s: not a finite number; recorded as failed with loss=inf.",
                error,
                dict(params),
            )
    duration = time.perf_counter() - start
    status = Status.OK if error is None else Status.FAILED
    return Evaluation(
        loss=loss if error is None else math.inf,
        status=status,
        duration=duration,
        finished_at=time.time(),
        error=error,
        curve=curve,
    )


def _as_float(value: Any) -> float:
    """Convert a numeric result (Python, numpy or 0-d tensor) to float; NaN for anything else."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return math.nan
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays, torch tensors
    if callable(item):
        try:
            return _as_float(item())
        except (TypeError, ValueError, RuntimeError):
            return math.nan
    return math.nan
