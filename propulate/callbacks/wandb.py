"""Weights & Biases: one run per island, one step per result, a table of all results at the end.

Needs ``wandb``. With ``WANDB_MODE=offline`` the runs are written to disk only (upload them
later with ``wandb sync``).
"""

from __future__ import annotations

import json
from typing import Any

from ..individual import Individual
from ..search_space import Dimension
from .base import RunContext
from .tracker import Tracker, curve_of, final_loss, require

__all__ = ["WandbCallback"]


class WandbCallback(Tracker):
    """Log every result as a step of one Weights & Biases run per island.

    The run (named ``island<i>``, in the group ``group``) gets one step per result with
    ``loss`` (missing for a failed evaluation), ``best_loss``, ``status``, ``island``,
    ``rank``, ``generation``, ``duration`` and every hyperparameter as ``params/<name>``, and
    at the end the table ``results`` with one row per result (its learning curve as JSON).
    The search space is the run's config.

    Parameters
    ----------
    project : str, optional
        The W&B project.
    group : str, optional
        The W&B group of the islands' runs (default: the checkpoint folder's name).
    immigrants : bool
        Also log individuals that migrated here (by default only the island that bred an
        individual logs it).
    **init_kwargs
        Further arguments for :func:`wandb.init` (``entity``, ``dir``, ``mode``, ``tags`` ...).

    Raises
    ------
    ImportError
        If ``wandb`` is not installed.
    """

    def __init__(
        self,
        project: str | None = None,
        group: str | None = None,
        immigrants: bool = False,
        **init_kwargs: Any,
    ) -> None:
        super().__init__(immigrants)
        require("wandb", type(self).__name__, "wandb")
        self.project = project
        self.group = group
        self.init_kwargs = init_kwargs
        self.run: Any = None
        self._rows: list[list[Any]] = []
        self._best = float("inf")

    def open(self, context: RunContext) -> None:
        """Start the island's W&B run."""
        import wandb

        space = context.search_space
        config = {
            "search_space": {d.name: _domain(d) for d in space},
            "island": context.island,
            "num_islands": context.num_islands,
            "island_workers": context.island_workers,
        }
        kwargs: dict[str, Any] = {
            "project": self.project,
            "group": self.group or context.checkpoint_path.resolve().name,
            "name": f"island{context.island}",
            "config": config,
            "reinit": "create_new",  # several islands' runs may share a process (tests)
            **self.init_kwargs,
        }
        self.run = wandb.init(**kwargs)
        self.run.define_metric("loss", summary="min")  # the run's summary: the best loss
        self._rows = []
        self._best = float("inf")

    def log_result(self, individual: Individual) -> None:
        """Log one step."""
        values = individual.values_dict()
        loss = final_loss(individual)
        data: dict[str, Any] = {
            "status": individual.status,
            "island": individual.island,
            "rank": individual.rank,
            "generation": individual.generation,
            "duration": individual.evalperiod,
            **{f"params/{k}": v for k, v in values.items()},
        }
        if loss is not None:
            self._best = min(self._best, loss)
            data["loss"] = loss
        if self._best < float("inf"):
            data["best_loss"] = self._best
        self.run.log(data, step=self.logged)
        self._rows.append([individual.island, individual.rank, individual.generation,
                           individual.status, loss, *values.values(),
                           json.dumps(curve_of(individual))])  # fmt: skip

    def close(self) -> None:
        """Log the table of results and finish the run."""
        import wandb

        run = self.run
        if run is None:
            return
        assert self.context is not None  # for mypy: set by on_start
        names = [d.name for d in self.context.search_space]
        columns: list[Any] = ["island", "rank", "generation", "status", "loss", *names, "curve"]
        run.log({"results": wandb.Table(columns=columns, data=self._rows)}, step=self.logged)
        run.finish()
        self.run = None


def _domain(dim: Dimension) -> dict[str, Any]:
    if dim.kind == "categorical":
        return {"kind": dim.kind, "choices": list(dim.choices)}
    if dim.values:
        return {"kind": dim.kind, "values": list(dim.values)}
    domain = {"kind": dim.kind, "low": dim.low, "high": dim.high, "log": dim.log}
    return domain if dim.step is None else {**domain, "step": dim.step}
