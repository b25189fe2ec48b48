"""The Propulator's side of early stopping: run an evaluation under a rank's surrogate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ..evaluation import Evaluation, evaluate
from ..interruption import Circumstances
from ..population import Individual, Status
from ..validation import check_callable
from .base import Surrogate

__all__ = ["EarlyStopping"]

log = logging.getLogger(__name__)


class EarlyStopping:
    """The Propulator's hook around a rank's :class:`Surrogate`.

    Parameters
    ----------
    surrogate : Surrogate
        This rank's surrogate.

    Notes
    -----
    In a multi-rank worker only the first rank's surrogate decides; its decisions reach the other
    ranks through their agreement at every intermediate value (see
    :mod:`propulate.interruption`), so their loss functions must yield (or report) as many values.
    """

    def __init__(self, surrogate: Surrogate) -> None:
        for method in ("start_run", "update", "cancel", "merge", "data"):
            if not callable(getattr(surrogate, method, None)):
                raise ConfigurationError(
                    f"surrogate_factory made a {type(surrogate).__name__}, which has no "
                    f"{method}() method; return a propulate.Surrogate (e.g. "
                    "surrogate_factory=lambda: propulate.MedianStoppingRule())."
                )
        self.surrogate = surrogate

    @classmethod
    def from_factory(cls, factory: Callable[[], Surrogate] | None) -> EarlyStopping | None:
        """The hook for ``factory()``'s surrogate, or ``None`` without a factory."""
        if factory is None:
            return None
        example = "lambda: propulate.MedianStoppingRule()"
        return cls(check_callable("Propulator", "surrogate_factory", factory, example)())

    def evaluate(
        self,
        loss_fn: Callable[..., Any],
        params: Individual,
        comm: Any,
        context: Circumstances | None = None,
    ) -> Evaluation:
        """Evaluate ``params``, stopping early when the surrogate says so.

        Parameters
        ----------
        loss_fn : callable
            The loss function.
        params : Individual
            The individual.
        comm : Any
            The communicator passed to the loss function (``None`` for a one-rank worker).
        context : Circumstances, optional
            As for :func:`~propulate.evaluation.evaluate`; the curve of an interrupted
            evaluation it resumes is shown to the surrogate first.

        Returns
        -------
        Evaluation
            The outcome.
        """
        surrogate = self.surrogate
        surrogate.start_run(params)
        for value in context.curve if context is not None else ():
            surrogate.cancel(value)  # what the interrupted part showed; too late to decide

        def should_stop(step: int, value: float) -> bool:
            return bool(surrogate.cancel(value))

        outcome = evaluate(loss_fn, params, comm, should_stop, context)
        if outcome.status == Status.INTERRUPTED:
            return outcome  # not over: the surrogate learns from it when its resumption ends
        surrogate.update(outcome.loss)
        if outcome.status == Status.PRUNED:
            log.debug("Stopped %r at step %d (%.6g).", params, len(outcome.curve), outcome.loss)
        return outcome

    def replay(self, params: Individual, outcome: Evaluation) -> None:
        """Show the surrogate an evaluation made elsewhere (ask and tell), value by value.

        The surrogate learns as if it had followed the evaluation; its decisions come too late
        to stop anything and are ignored.
        """
        surrogate = self.surrogate
        surrogate.start_run(params)
        for value in outcome.curve:
            surrogate.cancel(value)
        surrogate.update(outcome.loss)

    def annotate(self, ind: Individual) -> None:
        """Attach the surrogate's data to this rank's result if peers cannot learn from it alone."""
        if self.surrogate.result_data(ind) is None:
            ind.surrogate = _jsonable(self.surrogate.data())  # type: ignore[attr-defined]  # optional metadata

    def on_result(self, ind: Individual) -> None:
        """Let the surrogate learn from a result of another rank (or one read on resume)."""
        data = self.surrogate.result_data(ind)
        if data is None:
            data = getattr(ind, "surrogate", None)
        if data is not None:
            self.surrogate.merge(data)


def _jsonable(data: Any) -> Any:
    """``data`` with numpy arrays and scalars and tuples turned into JSON types."""
    if isinstance(data, np.ndarray):
        return data.tolist()
    if isinstance(data, np.generic):
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    if isinstance(data, Mapping):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    raise ConfigurationError(
        f"Surrogate.data() returned a {type(data).__name__}; peers receive it through messages "
        "and checkpoints, so return numbers, strings, lists, dicts or numpy arrays."
    )
