"""Callbacks: live views of a search in the tools users already have.

:class:`Callback` is the contract (see :mod:`propulate.callbacks.base` for which results reach
it, and on which rank). Three trackers are built in, each needing its package (``pip install
'propulate[trackers]'`` installs all three):

* :class:`TensorBoardCallback`: one TensorBoard run per individual, in the HParams dashboard,
  with its learning curve;
* :class:`MLflowCallback`: one MLflow run per individual (parameters, loss, learning curve);
* :class:`WandbCallback`: one Weights & Biases run per island, a step per individual.

Examples
--------
>>> from propulate import Propulator
>>> from propulate.callbacks import TensorBoardCallback
>>> Propulator(loss, propagator, rng, generations=100, checkpoint_path="ckpt",
...            callbacks=[TensorBoardCallback("runs")]).propulate()  # doctest: +SKIP
"""

from .base import Callback, CallbackList, RunContext
from .mlflow import MLflowCallback
from .tensorboard import TensorBoardCallback
from .wandb import WandbCallback

__all__ = [
    "Callback",
    "CallbackList",
    "RunContext",
    "TensorBoardCallback",
    "MLflowCallback",
    "WandbCallback",
]
