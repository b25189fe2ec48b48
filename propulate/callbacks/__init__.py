"""Callbacks: hooks told of every result of a search, to watch it while it runs.

:class:`Callback` is the contract (see :mod:`propulate.callbacks.base` for which results reach
it, and on which rank).

Examples
--------
>>> from propulate import Propulator
>>> from propulate.callbacks import Callback
>>> class Count(Callback):
...     def on_start(self, context):
...         self.results = 0
...     def on_result(self, individual):
...         self.results += 1
>>> Propulator(loss, propagator, rng, generations=100, checkpoint_path="ckpt",
...            callbacks=[Count()]).propulate()  # doctest: +SKIP
"""

from .base import Callback, CallbackList, RunContext

__all__ = ["Callback", "CallbackList", "RunContext"]
