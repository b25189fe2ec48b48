"""The surrogate interface and the bookkeeping the built-in rules share."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError
from ..population import Individual, Status
from ..validation import check_number

__all__ = ["Surrogate", "CurveRule"]


class Surrogate:
    """Interface of an early-stopping model (compatible with Propulate 1.2).

    One instance per rank, created by the ``surrogate_factory`` given to the Propulator. See the
    :mod:`propulate.surrogate` for the order of calls.
    """

    def start_run(self, ind: Individual) -> None:
        """Start following a new evaluation.

        Parameters
        ----------
        ind : Individual
            The individual about to be evaluated.
        """
        raise NotImplementedError

    def update(self, loss: float) -> None:
        """End the current evaluation.

        Parameters
        ----------
        loss : float
            Its loss: the last intermediate value (also when it was cancelled), ``inf`` if it
            failed.
        """
        raise NotImplementedError

    def cancel(self, loss: float) -> bool:
        """Take the next intermediate value of the current evaluation and decide whether to stop.

        Parameters
        ----------
        loss : float
            The intermediate value (may be ``nan`` or ``inf`` if the training diverges).

        Returns
        -------
        bool
            ``True`` to stop the evaluation now.
        """
        raise NotImplementedError

    def merge(self, data: Any) -> None:
        """Learn from another rank's evaluation.

        Parameters
        ----------
        data : Any
            What the other rank's :meth:`data` returned (after a JSON round trip), or what
            :meth:`result_data` made of its result.
        """
        raise NotImplementedError

    def data(self) -> Any:
        """What other ranks need to learn from this rank's last evaluation (JSON-serializable).

        Returns
        -------
        Any
            The data passed to the peers' :meth:`merge`.
        """
        raise NotImplementedError

    def result_data(self, ind: Individual) -> Any:
        """Make :meth:`merge`'s data from a result record, or ``None`` to ship :meth:`data` instead.

        Overriding this keeps the surrogate's data out of the messages and checkpoints when a
        result already holds everything the surrogate learns from.

        Parameters
        ----------
        ind : Individual
            An evaluated individual (with ``ind.curve`` if its loss function gave one).

        Returns
        -------
        Any
            The data, or ``None``.
        """
        return None


def run_data(ind: Individual) -> dict[str, Any]:
    """What the built-in rules learn from a result: parameters, curve, loss and status.

    Parameters
    ----------
    ind : Individual
        An evaluated individual.

    Returns
    -------
    dict
        ``{"params": ..., "curve": [...], "loss": float, "status": str}``.
    """
    loss = math.inf if ind.loss is None else float(ind.loss)
    curve = getattr(ind, "curve", None)
    return {
        "params": ind.values_dict(),
        "curve": list(curve) if curve else [loss],
        "loss": loss,
        "status": ind.status,
    }


class CurveRule(Surrogate):
    """Shared bookkeeping of the built-in rules: they learn from finished runs' learning curves.

    Subclasses implement ``_decide(step, value)`` (may the current run go on?) and ``_learn(params,
    curve, loss, completed)`` (remember a finished run).
    """

    def __init__(self) -> None:
        self._params: dict[str, Any] = {}
        self._curve: list[float] = []
        self._cancelled = False
        self._last: dict[str, Any] | None = None
        # The length of the longest completed curve: a run that long is complete, so stopping it
        # at that step would save nothing.
        self.full_length: int | None = None
        self.completed_runs = 0

    def start_run(self, ind: Individual) -> None:
        """Start following a new evaluation (see :meth:`Surrogate.start_run`)."""
        self._params = dict(ind)
        self._curve = []
        self._cancelled = False

    def cancel(self, loss: float) -> bool:
        """Record the next intermediate value; whether to stop (see :meth:`Surrogate.cancel`)."""
        value = float(loss)
        self._curve.append(value)
        if self._cancelled:
            return True
        step = len(self._curve)
        if not math.isfinite(value):
            return False  # a diverged run ends as failed anyway; no rule compares to nan
        if self.full_length is not None and step >= self.full_length:
            return False
        self._cancelled = bool(self._decide(step, value))
        return self._cancelled

    def update(self, loss: float) -> None:
        """End the current evaluation and learn from it (see :meth:`Surrogate.update`)."""
        loss = float(loss)
        if not math.isfinite(loss):
            status = Status.FAILED
        else:
            status = Status.PRUNED if self._cancelled else Status.OK
        self._last = {
            "params": self._params,
            "curve": self._curve if self._curve else [loss],
            "loss": loss,
            "status": status,
        }
        self._absorb(self._last)

    def merge(self, data: Any) -> None:
        """Learn from a run of another rank (the dictionary :meth:`data` returns)."""
        if not isinstance(data, Mapping) or not {"curve", "loss", "status"} <= set(data):
            raise ConfigurationError(
                f"{type(self).__name__}.merge expects the dictionary data() returns, with keys "
                f"'params', 'curve', 'loss' and 'status'; got {type(data).__name__}."
            )
        self._absorb(data)

    def data(self) -> dict[str, Any] | None:
        """The last finished run of this rank: ``params``, ``curve``, ``loss`` and ``status``."""
        return self._last

    def result_data(self, ind: Individual) -> dict[str, Any]:
        """The run a result record describes (so nothing extra is shipped)."""
        return run_data(ind)

    def _absorb(self, data: Mapping[str, Any]) -> None:
        status, loss = data["status"], float(data["loss"])
        if status not in (Status.OK, Status.PRUNED) or not math.isfinite(loss):
            return
        curve = [float(v) for v in data["curve"]]
        completed = status == Status.OK
        if completed:
            self.completed_runs += 1
            self.full_length = max(self.full_length or 0, len(curve))
        self._learn(dict(data.get("params") or {}), curve, loss, completed)

    def _decide(self, step: int, value: float) -> bool:
        raise NotImplementedError

    def _learn(
        self, params: dict[str, Any], curve: list[float], loss: float, completed: bool
    ) -> None:
        raise NotImplementedError


def loosened(reference: float, margin: float) -> float:
    """``reference`` made worse by the tolerance ``margin`` allows (``reference / margin`` if > 0).

    The relative tolerance ``1 / margin - 1`` applies to the magnitude, so negative losses (e.g.
    negative accuracies) are loosened in the same direction as positive ones.
    """
    return reference + abs(reference) * (1.0 / margin - 1.0)


def check_margin(owner: str, margin: Any) -> float:
    """``margin`` as a float; a :class:`ConfigurationError` unless it lies in (0, 1]."""
    note = "a run stops once it is worse than the reference by the factor 1/margin; 0.8: 25 %"
    return check_number(owner, "margin", margin, 0, 1, low_open=True, example=0.8, note=note)
