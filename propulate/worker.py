"""One worker's evaluations: on its only rank, or on every rank of a multi-rank worker.

The ranks of a multi-rank worker evaluate each individual together (``loss_fn(params, comm)``
with the worker's communicator). Its first rank, the leader, runs the loop and shares every
individual with the others, the followers, which evaluate it with the leader and then wait for
the next one, until the leader releases them. With early stopping (:mod:`propulate.surrogate`)
an evaluation may end before the loss function returns; the leader's surrogate decides for all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .comm import WorkerGroup
from .evaluation import Evaluation, evaluate
from .interruption import Circumstances
from .population import Individual
from .search_space import SearchSpace
from .surrogate import EarlyStopping

__all__ = ["Worker"]


class Worker:
    """The ranks of one worker, and how they evaluate an individual.

    Parameters
    ----------
    group : WorkerGroup
        The worker's ranks (a single one by default).
    early : EarlyStopping, optional
        Stops evaluations early when the loss function yields intermediate losses.
    """

    def __init__(self, group: WorkerGroup, early: EarlyStopping | None = None) -> None:
        self.group = group
        self.early = early

    @property
    def leads(self) -> bool:
        """Whether this is the worker's first rank, the one that runs the loop."""
        return self.group.rank == 0

    def evaluate(
        self, loss_fn: Callable[..., Any], params: Individual, context: Circumstances | None = None
    ) -> Evaluation | None:
        """Evaluate ``params`` on this rank (``None``: a follower whose leader stopped early)."""
        if self.early is None:
            return evaluate(loss_fn, params, self.group.comm, context=context)
        return self.early.evaluate(loss_fn, params, self.group.comm, self.group, context)

    def lead(
        self, loss_fn: Callable[..., Any], child: Individual, context: Circumstances | None = None
    ) -> Evaluation:
        """Share ``child`` with the followers and evaluate it with them (on the leader).

        A multi-rank worker is never interrupted nor stopped at a time limit: its ranks would
        have to agree on it at every intermediate value.
        """
        context = context or Circumstances()
        if self.group.size > 1:
            workdir = None if context.workdir is None else str(context.workdir)
            context = Circumstances(workdir=context.workdir, curve=context.curve,
                                    duration=context.duration,
                                    on_value=context.on_value)  # fmt: skip
            self.group.share((child.values_dict(), workdir, context.curve))
        outcome = self.evaluate(loss_fn, child, context)
        assert outcome is not None  # for mypy: only a follower gets None
        return outcome

    def follow(self, loss_fn: Callable[..., Any], space: SearchSpace) -> None:
        """Evaluate whatever the leader shares, until it releases this rank (on a follower)."""
        while (shared := self.group.share(None)) is not None:
            values, workdir, curve = shared
            params = Individual._from_trusted(values, space)
            context = Circumstances(workdir=None if workdir is None else Path(workdir),
                                    curve=curve)  # fmt: skip
            if self.evaluate(loss_fn, params, context) is None:
                return

    def release(self) -> None:
        """Tell the followers that no more individuals come (on the leader)."""
        self.group.share(None)
