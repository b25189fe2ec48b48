"""Early stopping of PyTorch Lightning trainings by Propulate's surrogates.

A loss function that trains with a Lightning ``Trainer`` cannot yield per epoch, because
``trainer.fit`` runs the epochs. :class:`PruningCallback` bridges that: after every validation it
reports the monitored metric with :func:`~propulate.report_intermediate`, which shows it to the
rank's surrogate, and if the surrogate stops the individual it asks the ``Trainer`` to stop
(``trainer.should_stop``: the current epoch ends normally, the loggers and data loaders close as
usual). The loss function then returns as usual; Propulate records the individual as pruned with
the last reported value as its loss, whatever the function returns. ::

    def loss_fn(params):
        trainer = Trainer(max_epochs=20, callbacks=[PruningCallback(monitor="val_loss")])
        trainer.fit(make_model(params), train_loader, val_loader)
        return trainer.callback_metrics["val_loss"].item()

    Propulator(loss_fn, propagator, surrogate_factory=lambda: MedianStoppingRule(), ...)

Without a ``surrogate_factory`` (or outside Propulate) the callback only records the curve. In a
multi-rank worker every rank must run the callback (Lightning does, with the metric logged with
``sync_dist=True``): the ranks stop together.

Lightning is imported when this module is (``lightning.pytorch``, or the older
``pytorch_lightning`` package); ``import propulate`` never imports it.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ConfigurationError
from ..evaluation import report_intermediate

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef,assignment]  # older name
    except ImportError:
        raise ImportError(
            "propulate.integrations.lightning needs PyTorch Lightning; install it with "
            "`pip install lightning` (or `pip install propulate[tutorials]`)."
        ) from None

__all__ = ["PruningCallback"]


class PruningCallback(Callback):  # type: ignore[misc]  # Lightning is untyped here
    """Report a validation metric after every validation; stop the trainer when pruned.

    Parameters
    ----------
    monitor : str
        The name of a logged validation metric (a key of ``trainer.callback_metrics``).
    mode : str
        ``"min"`` if lower is better (a loss), ``"max"`` if higher is better (an accuracy: its
        negative is reported, so the loss function should return the negative too).

    Attributes
    ----------
    pruned : bool
        Whether the training was stopped by Propulate.
    reported : list of float
        The values reported so far (after the sign change of ``mode="max"``).
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min") -> None:
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ConfigurationError(f"monitor={monitor!r}; give the name of a logged metric.")
        if mode not in ("min", "max"):
            raise ConfigurationError(
                f"mode={mode!r}; use 'min' if lower values of {monitor!r} are better (a loss), "
                "'max' if higher are (an accuracy)."
            )
        self.monitor = monitor
        self.mode = mode
        self.pruned = False
        self.reported: list[float] = []

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        """Report the metric of the validation that just ended; stop training if pruned."""
        if getattr(trainer, "sanity_checking", False):
            return  # the check before training is not an epoch
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            raise ConfigurationError(
                f"PruningCallback(monitor={self.monitor!r}): no such metric was logged; logged "
                f"metrics: {sorted(metrics)}. Log it in validation_step or "
                "on_validation_epoch_end, or monitor one of these."
            )
        value = _as_float(metrics[self.monitor])
        if self.mode == "max":
            value = -value
        self.reported.append(value)
        if report_intermediate(value):
            self.pruned = True
            trainer.should_stop = True


def _as_float(value: Any) -> float:
    item = getattr(value, "item", None)  # a tensor
    try:
        return float(item() if callable(item) else value)
    except (TypeError, ValueError):
        return math.nan
