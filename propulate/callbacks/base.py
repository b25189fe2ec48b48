"""The callback contract: hooks told of every result an island learns, on one rank per island.

A :class:`Callback` is handed to :class:`~propulate.propulator.Propulator` or
:class:`~propulate.islands.Islands` as ``callbacks=[...]``. Each run calls
:meth:`Callback.on_start` once, :meth:`Callback.on_result` with every result that joins the
island's population during the run, and :meth:`Callback.on_end` once the run has shut down (or
was aborted).

*Which results.* Every evaluated individual the worker learns of, once: its own evaluations,
its island's other workers' results (as they arrive, so a few evaluations late), immigrants
from other islands, and failed and pruned evaluations (look at ``individual.status``).
Individuals replayed from the checkpoint when a run resumes are not passed on (a tracker that
has already logged them would log them twice); :attr:`RunContext.resumed` says how many there
were. An immigrant has ``individual.island != context.island``: the island that bred it has
reported it already.

*On which rank.* By default only on the island's first worker (the lowest rank of the island),
which ends the run knowing every result of its island: one tracker run per island, no
duplicates. Set :attr:`Callback.every_rank` to ``True`` for a callback that must run on every
worker (each then sees every result of its island, the same set everywhere).

*Failures.* An exception in a callback is logged with its traceback and that callback is left
out for the rest of the run: a tracker that loses its connection never stops a search.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..individual import Individual
from ..search_space import SearchSpace
from ..validation import fail

__all__ = ["Callback", "RunContext", "CallbackList", "check_callbacks"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    """Where a run happens, as :meth:`Callback.on_start` is told.

    Attributes
    ----------
    island : int
        The island of this worker.
    rank : int
        This worker's rank in the whole optimization.
    num_islands : int
        The number of islands.
    island_workers : int
        The number of workers of this island.
    search_space : SearchSpace
        The search space (its :class:`~propulate.search_space.Dimension` objects give the bounds).
    checkpoint_path : Path
        The run's checkpoint folder.
    resumed : int
        Individuals this worker knew from the checkpoint when the run started. They are not
        passed to :meth:`Callback.on_result`, but for results of this very run that another
        worker of the island wrote to its log before this worker read the checkpoint: those
        are passed on when their message arrives.
    """

    island: int
    rank: int
    num_islands: int
    island_workers: int
    search_space: SearchSpace
    checkpoint_path: Path
    resumed: int = 0


class Callback:
    """A hook told of the results of a search; every method does nothing unless overridden.

    Attributes
    ----------
    every_rank : bool
        Run on every worker (``True``) or only on the first worker of each island (``False``,
        the default: one view per island, no duplicates).

    Examples
    --------
    >>> class PrintBest(Callback):
    ...     def on_start(self, context):
    ...         self.best = float("inf")
    ...     def on_result(self, individual):
    ...         if individual.status == "ok" and individual.loss < self.best:
    ...             self.best = individual.loss
    ...             print(f"new best {self.best:.3g}: {individual.values_dict()}")
    """

    every_rank: bool = False

    def on_start(self, context: RunContext) -> None:
        """Called when a run starts on this worker, before any result."""

    def on_result(self, individual: Individual) -> None:
        """Called once with every evaluated individual the island learns during the run.

        Parameters
        ----------
        individual : Individual
            The evaluated individual: its values, ``loss``, ``status`` (``"ok"``, ``"failed"``
            or ``"pruned"``), ``island``, ``rank``, ``generation``, ``evaltime``,
            ``evalperiod`` and, if recorded, ``curve`` (the intermediate losses). Read it; the
            loop owns it.
        """

    def on_end(self) -> None:
        """Called when the run has ended on this worker (also after an abort)."""


class CallbackList:
    """The callbacks one worker runs, with the rank rule and the failure rule applied.

    Parameters
    ----------
    callbacks : iterable of Callback
        The user's callbacks.
    first_of_island : bool
        Whether this worker is its island's first (it runs the callbacks that are not
        ``every_rank``).
    """

    def __init__(self, callbacks: Iterable[Callback], first_of_island: bool) -> None:
        self.active = [c for c in callbacks if first_of_island or c.every_rank]

    def __bool__(self) -> bool:
        return bool(self.active)

    def start(self, context: RunContext) -> None:
        """Call every callback's :meth:`~Callback.on_start`."""
        self._call("on_start", context)

    def result(self, individual: Individual) -> None:
        """Call every callback's :meth:`~Callback.on_result`."""
        self._call("on_result", individual)

    def end(self) -> None:
        """Call every callback's :meth:`~Callback.on_end`, then forget them."""
        self._call("on_end")
        self.active = []

    def _call(self, method: str, *args: object) -> None:
        for callback in list(self.active):
            try:
                getattr(callback, method)(*args)
            except Exception:
                # A tracker that fails (a lost connection, a full disk) must not stop a search
                # of many hours; its traceback is logged once and it is called no more.
                log.exception(
                    "Callback %s failed in %s(); it is left out for the rest of the run.",
                    type(callback).__name__, method,
                )  # fmt: skip
                self.active.remove(callback)


def check_callbacks(owner: str, callbacks: Iterable[Callback] | None) -> list[Callback]:
    """Validate a ``callbacks`` argument: a sequence of :class:`Callback` (or ``None``)."""
    if callbacks is None:
        return []
    example = "[TensorBoardCallback('runs')]"
    if isinstance(callbacks, (Callback, str)) or not isinstance(callbacks, Iterable):
        fail(owner, "callbacks", callbacks, "a list of Callback objects", example)
    checked = list(callbacks)
    for callback in checked:
        if not isinstance(callback, Callback):
            what = f"a list of Callback objects (not {type(callback).__name__})"
            fail(owner, "callbacks", callbacks, what, example)
    return checked
