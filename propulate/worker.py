"""One worker's evaluations: on its only rank, or on every rank of a multi-rank worker.

The ranks of a multi-rank worker evaluate each individual together (``loss_fn(params, comm)``
with the worker's communicator). Its first rank, the leader, runs the loop and shares every
individual with the others, the followers, which evaluate it with the leader and then wait for
the next one, until the leader releases them. With early stopping (:mod:`propulate.surrogate`)
an evaluation may end before the loss function returns; the leader's surrogate decides for all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .comm import WorkerGroup
from .evaluation import Evaluation, evaluate
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

    def evaluate(self, loss_fn: Callable[..., Any], params: Individual) -> Evaluation | None:
        """Evaluate ``params`` on this rank (``None``: a follower whose leader stopped early)."""
        if self.early is None:
            return evaluate(loss_fn, params, self.group.comm)
        return self.early.evaluate(loss_fn, params, self.group.comm, self.group)

    def lead(self, loss_fn: Callable[..., Any], child: Individual) -> Evaluation:
        """Share ``child`` with the followers and evaluate it with them (on the leader)."""
        self.group.share(child.values_dict())
        outcome = self.evaluate(loss_fn, child)
        assert outcome is not None  # for mypy: only a follower gets None
        return outcome

    def follow(self, loss_fn: Callable[..., Any], space: SearchSpace) -> None:
        """Evaluate whatever the leader shares, until it releases this rank (on a follower)."""
        while (values := self.group.share(None)) is not None:
            params = Individual._from_trusted(values, space)
            if self.evaluate(loss_fn, params) is None:
                return

    def release(self) -> None:
        """Tell the followers that no more individuals come (on the leader)."""
        self.group.share(None)
