"""MLflow: one run per individual, with its hyperparameters, loss and learning curve.

Needs ``mlflow-skinny`` (or ``mlflow``). Runs are created through :class:`mlflow.MlflowClient`,
never the global "active run", so the callback does not disturb runs the loss function logs.
"""

from __future__ import annotations

import time
from typing import Any

from ..individual import Individual, Status
from .base import RunContext
from .tracker import Tracker, curve_of, final_loss, require, run_name

__all__ = ["MLflowCallback"]

_END_STATUS = {Status.OK: "FINISHED", Status.PRUNED: "KILLED", Status.FAILED: "FAILED"}


class MLflowCallback(Tracker):
    """Log every result as an MLflow run.

    Each individual becomes a run named ``island<i>-rank<r>-gen<g>`` in ``experiment_name``,
    with its hyperparameters as params, its loss as the metric ``loss`` (not logged for a
    failed evaluation), its learning curve as the metric ``learning_curve`` (one step per
    intermediate value), the tags ``propulate.island``, ``propulate.rank``,
    ``propulate.generation`` and ``propulate.status``, and the run status ``FINISHED`` (ok),
    ``KILLED`` (pruned) or ``FAILED``.

    Parameters
    ----------
    experiment_name : str
        The experiment (created if missing).
    tracking_uri : str, optional
        Where MLflow stores the runs: a tracking server's URL, ``"sqlite:///mlflow.db"`` (needs
        the full ``mlflow`` package) or a folder ``"file:///path/mlruns"`` (MLflow 3 wants
        ``MLFLOW_ALLOW_FILE_STORE=true`` in the environment for that); default: MLflow's own
        default (``MLFLOW_TRACKING_URI``).
    tags : dict, optional
        Further tags for every run.
    immigrants : bool
        Also log individuals that migrated here (by default only the island that bred an
        individual logs it).

    Raises
    ------
    ImportError
        If MLflow is not installed.
    """

    def __init__(
        self,
        experiment_name: str = "propulate",
        tracking_uri: str | None = None,
        tags: dict[str, str] | None = None,
        immigrants: bool = False,
    ) -> None:
        super().__init__(immigrants)
        require("mlflow", type(self).__name__, "mlflow-skinny")
        self.experiment_name = str(experiment_name)
        self.tracking_uri = tracking_uri
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self._client: Any = None
        self._experiment_id: str | None = None

    def open(self, context: RunContext) -> None:
        """Connect, and find or create the experiment."""
        from mlflow import MlflowClient

        self._client = client = MlflowClient(self.tracking_uri)
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is None:
            try:
                self._experiment_id = client.create_experiment(self.experiment_name)
            except Exception:
                # Another island's first worker created it a moment ago.
                experiment = client.get_experiment_by_name(self.experiment_name)
                if experiment is None:
                    raise
        if experiment is not None:
            self._experiment_id = experiment.experiment_id

    def log_result(self, individual: Individual) -> None:
        """Create, fill and end ``individual``'s run."""
        from mlflow.entities import Metric, Param

        client = self._client
        ended_ms = int(individual.evaltime * 1000)
        started_ms = int((individual.evaltime - individual.evalperiod) * 1000)
        tags = {
            **self.tags,
            "propulate.island": str(individual.island),
            "propulate.rank": str(individual.rank),
            "propulate.generation": str(individual.generation),
            "propulate.status": str(individual.status),
        }
        error = getattr(individual, "error", None)
        if error is not None:
            tags["propulate.error"] = str(error)[:5000]
        run = client.create_run(self._experiment_id, start_time=started_ms, tags=tags,
                                run_name=run_name(individual))  # fmt: skip
        run_id = run.info.run_id
        params = [Param(k, str(v)) for k, v in individual.values_dict().items()]
        curve = curve_of(individual)
        metrics = [Metric("learning_curve", v, started_ms, step) for step, v in enumerate(curve)]
        loss = final_loss(individual)
        if loss is not None:
            metrics.append(Metric("loss", loss, ended_ms, max(len(curve) - 1, 0)))
        # A tracking server takes at most 100 params and 1000 metrics per batch.
        for first in range(0, max(len(params), 1), 100):
            client.log_batch(run_id, params=params[first : first + 100])
        for first in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[first : first + 1000])
        client.set_terminated(run_id, status=_END_STATUS.get(individual.status, "FAILED"),
                              end_time=ended_ms or int(time.time() * 1000))  # fmt: skip

    def close(self) -> None:
        """Forget the client."""
        self._client = None
