"""One worker's evaluations: on its only rank, or on every rank of a multi-rank worker.

The ranks of a multi-rank worker evaluate each individual together (``loss_fn(params, comm)``
with the worker's communicator). Its first rank, the leader, runs the loop and shares every
individual with the others, the followers, which evaluate it with the leader and then wait for
the next one, until the leader releases them. At every intermediate value the ranks agree
whether to stop (see :mod:`propulate.interruption`): the leader's early-stopping rule
(:mod:`propulate.surrogate`), a signal to any of them, the leader's time budget and the time
limit stop all of them at the same value. The followers catch SIGTERM and SIGINT as the leader
does, so a signal to one rank of a worker interrupts the whole worker's evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .comm import WorkerGroup
from .evaluation import Evaluation, evaluate
from .interruption import Circumstances
from .population import Individual
from .search_space import SearchSpace
from .signals import StopRequest, stop_on_signals
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
    ) -> Evaluation:
        """Evaluate ``params`` on this rank (the leader's early-stopping rule decides for all)."""
        if self.early is None or not self.leads:
            return evaluate(loss_fn, params, self.group.comm, context=context)
        return self.early.evaluate(loss_fn, params, self.group.comm, context)

    def lead(
        self, loss_fn: Callable[..., Any], child: Individual, context: Circumstances | None = None
    ) -> Evaluation:
        """Share ``child`` with the followers and evaluate it with them (on the leader)."""
        context = context or Circumstances()
        if self.group.size > 1:
            workdir = None if context.workdir is None else str(context.workdir)
            self.group.share((child.values_dict(), workdir, context.curve, context.duration,
                              context.max_seconds))  # fmt: skip
            context = replace(context, agree=self.group.agree)
        return self.evaluate(loss_fn, child, context)

    def follow(self, loss_fn: Callable[..., Any], space: SearchSpace) -> None:
        """Evaluate whatever the leader shares, until it releases this rank (on a follower).

        SIGTERM and SIGINT are caught here as on the leader: the rank's vote at the next
        intermediate value interrupts the worker's evaluation, and the leader stops the run.
        """
        stop = StopRequest()
        with stop_on_signals(stop):
            while (shared := self.group.share(None)) is not None:
                values, workdir, curve, duration, max_seconds = shared
                params = Individual._from_trusted(values, space)
                context = Circumstances(workdir=None if workdir is None else Path(workdir),
                                        interrupt=lambda: stop.reason, max_seconds=max_seconds,
                                        curve=curve, duration=duration,
                                        agree=self.group.agree)  # fmt: skip
                self.evaluate(loss_fn, params, context)

    def release(self) -> None:
        """Tell the followers that no more individuals come (on the leader)."""
        self.group.share(None)
