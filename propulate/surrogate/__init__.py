"""Early stopping of unpromising evaluations: the surrogate interface and built-in rules.

A loss function that yields intermediate losses (a generator, e.g. one value per epoch), or that
reports them with :func:`~propulate.evaluation.report_intermediate`, can be stopped early. Give
the :class:`~propulate.Propulator` (or :class:`~propulate.Islands`) a ``surrogate_factory``: every
rank creates one :class:`Surrogate` with it, and for every evaluation the loop calls

* ``start_run(ind)`` before the loss function,
* ``cancel(value)`` with every intermediate value; ``True`` stops the evaluation,
* ``update(loss)`` once the evaluation ended (completed, stopped or failed) with its loss: the
  last value, ``inf`` if it failed.

Stopped individuals are recorded with status ``"pruned"``, their learning curve (``ind.curve``,
whose length is the step they reached) and the value at which they were stopped as their loss.

Sharing: every result a rank receives from a peer of its island (and every result read from the
checkpoint on resume) is passed to ``merge``. The built-in rules learn from the result record
itself (its parameters, learning curve, loss and status, see :meth:`Surrogate.result_data`), so
they add nothing to the messages; a surrogate that does not override ``result_data`` has its
``data()`` (JSON-serializable; numpy arrays become lists) attached to each of its rank's results
as the optional ``surrogate`` metadata, which never touches the individual's parameters.

Breeding rule: pruned individuals stay in the population and take part in breeding with the last
intermediate loss they reached. For a decreasing learning curve that value is an upper bound on
what the completed training would have reached, so a pruned individual is never favoured over a
completed one it would have lost to, while the region it explored is remembered as bad instead of
being sampled again. They never count as results: :meth:`~propulate.Propulator.summarize` and
:meth:`~propulate.Propulator.best` consider only completed individuals.

Built-in rules (all cost O(log N) or a bounded amount per call, N being the number of runs seen):

* :class:`StaticSurrogate`: stop a run that falls behind the best completed learning curve by
  more than a margin (Propulate 1.2).
* :class:`DynamicSurrogate`: predict a run's final loss from its parameters (a Gaussian process)
  and its curve so far (a regression on completed curves, and the run's own extrapolation), stop
  it if even an optimistic prediction is worse than the best loss by a margin (Propulate 1.2's
  name and arguments; a new model on numpy).
* :class:`MedianStoppingRule`: stop a run whose value is worse than the median of earlier runs
  at the same step (Golovin et al., "Google Vizier", KDD 2017; Optuna's ``MedianPruner``).
* :class:`ASHA`: asynchronous successive halving (Li et al., "A System for Massively Parallel
  Hyperparameter Tuning", MLSys 2020): at rungs ``min_resource * reduction_factor**k`` steps a
  run continues only if it is among the best ``1/reduction_factor`` of the runs that reached
  that rung, without waiting for the rung to fill.
"""

from .base import Surrogate
from .dynamic import DynamicSurrogate
from .hook import EarlyStopping
from .rules import ASHA, MedianStoppingRule, StaticSurrogate

__all__ = [
    "Surrogate",
    "StaticSurrogate",
    "DynamicSurrogate",
    "MedianStoppingRule",
    "ASHA",
    "EarlyStopping",
]
