"""TensorBoard: one run per individual in the HParams dashboard, with its learning curve.

Needs the ``tensorboard`` package only (no TensorFlow, no PyTorch): the event files and the
HParams records are written with the protocol buffers TensorBoard ships, as its HParams plugin
reads them. The files are written as the results arrive, so ``tensorboard --logdir LOG_DIR``
shows the search while it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..individual import Individual, Status
from ..search_space import SearchSpace
from .base import RunContext
from .tracker import Tracker, curve_of, final_loss, require

__all__ = ["TensorBoardCallback"]

LOSS_TAG = "loss"
CURVE_TAG = "learning_curve"
STATUS = "status"


class TensorBoardCallback(Tracker):
    """Write every result as a TensorBoard run for the HParams dashboard.

    Each individual becomes the run ``LOG_DIR/island<i>/rank<r>-gen<g>`` holding its
    hyperparameters (and its ``status``) as HParams, its final loss as the scalar ``loss`` (the
    HParams metric; not written for a failed evaluation) and, if the loss function reported
    intermediate values, its learning curve as the scalar ``learning_curve`` (one step per
    value). The run ``LOG_DIR/island<i>/search`` holds the island's ``loss`` and ``best_loss``
    per logged evaluation.

    Parameters
    ----------
    log_dir : str or Path
        The folder TensorBoard reads (``tensorboard --logdir LOG_DIR``).
    immigrants : bool
        Also write individuals that migrated here (by default only the island that bred an
        individual writes it).

    Raises
    ------
    ImportError
        If ``tensorboard`` is not installed.
    """

    def __init__(self, log_dir: str | Path = "runs", immigrants: bool = False) -> None:
        super().__init__(immigrants)
        require("tensorboard", type(self).__name__, "tensorboard")
        self.log_dir = Path(log_dir)
        self._experiment: Any = None
        self._search: Any = None
        self._best = float("inf")

    def open(self, context: RunContext) -> None:
        """Build the HParams experiment from the search space and open the island's run."""
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._experiment = _experiment(context.search_space)
        self._search = EventFileWriter(str(self.log_dir / f"island{context.island}" / "search"))
        self._best = float("inf")

    def log_result(self, individual: Individual) -> None:
        """Write ``individual``'s run and a step of the island's run."""
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        island = self.log_dir / f"island{individual.island}"
        writer = EventFileWriter(str(island / f"rank{individual.rank}-gen{individual.generation}"))
        started, ended = individual.evaltime - individual.evalperiod, individual.evaltime
        start = plugin_data_pb2.SessionStartInfo(start_time_secs=started)
        for name, value in {**individual.values_dict(), STATUS: individual.status}.items():
            if isinstance(value, str):
                start.hparams[name].string_value = value
            elif isinstance(value, bool):
                start.hparams[name].bool_value = value
            else:
                start.hparams[name].number_value = float(value)
        writer.add_event(_event(_hparams(metadata.EXPERIMENT_TAG, self._experiment), started))
        writer.add_event(_event(_hparams(metadata.SESSION_START_INFO_TAG, start), started))
        curve = curve_of(individual)
        for step, value in enumerate(curve):
            writer.add_event(_event(_scalar(CURVE_TAG, value), started, step))
        loss = final_loss(individual)
        if loss is not None:
            writer.add_event(_event(_scalar(LOSS_TAG, loss), ended, max(len(curve) - 1, 0)))
        # The plugin knows no "stopped early": a pruned run ended as planned, so it succeeded.
        failed = individual.status == Status.FAILED
        end = plugin_data_pb2.SessionEndInfo(
            status=api_pb2.STATUS_FAILURE if failed else api_pb2.STATUS_SUCCESS,
            end_time_secs=ended,
        )
        writer.add_event(_event(_hparams(metadata.SESSION_END_INFO_TAG, end), ended))
        writer.close()
        if loss is not None:
            self._best = min(self._best, loss)
            self._search.add_event(_event(_scalar(LOSS_TAG, loss), ended, self.logged))
            self._search.add_event(_event(_scalar("best_loss", self._best), ended, self.logged))
            self._search.flush()

    def close(self) -> None:
        """Close the island's run."""
        if self._search is not None:
            self._search.close()
            self._search = None


def _experiment(space: SearchSpace) -> Any:
    """The HParams experiment: one hyperparameter per dimension (plus the status), the loss."""
    from tensorboard.plugins.hparams import api_pb2

    infos = []
    for dim in space:
        info = api_pb2.HParamInfo(name=dim.name)
        if dim.kind == "categorical" and dim.value_type is bool:
            info.type = api_pb2.DATA_TYPE_BOOL
            for choice in dim.choices:
                info.domain_discrete.values.add().bool_value = choice
        elif dim.kind == "categorical":
            info.type = api_pb2.DATA_TYPE_STRING
            for choice in dim.choices:
                info.domain_discrete.values.add().string_value = choice
        else:
            info.type = api_pb2.DATA_TYPE_FLOAT64
            info.domain_interval.min_value = float(dim.low)
            info.domain_interval.max_value = float(dim.high)
        infos.append(info)
    status = api_pb2.HParamInfo(name=STATUS, type=api_pb2.DATA_TYPE_STRING)
    for value in (Status.OK, Status.PRUNED, Status.FAILED):
        status.domain_discrete.values.add().string_value = value
    infos.append(status)
    metrics = [
        api_pb2.MetricInfo(name=api_pb2.MetricName(tag=LOSS_TAG), display_name="loss"),
        api_pb2.MetricInfo(name=api_pb2.MetricName(tag=CURVE_TAG), display_name="learning curve"),
    ]
    return api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)


def _hparams(tag: str, message: Any) -> Any:
    """A summary for the HParams plugin holding ``message`` (experiment, session start or end)."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION)
    field = {
        metadata.EXPERIMENT_TAG: "experiment",
        metadata.SESSION_START_INFO_TAG: "session_start_info",
        metadata.SESSION_END_INFO_TAG: "session_end_info",
    }[tag]
    getattr(data, field).CopyFrom(message)
    plugin = SummaryMetadata.PluginData(plugin_name=metadata.PLUGIN_NAME,
                                        content=data.SerializeToString())  # fmt: skip
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def _scalar(tag: str, value: float) -> Any:
    from tensorboard.compat.proto.summary_pb2 import Summary

    return Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])


def _event(summary: Any, wall_time: float, step: int = 0) -> Any:
    from tensorboard.compat.proto.event_pb2 import Event

    return Event(wall_time=wall_time, step=step, summary=summary)
