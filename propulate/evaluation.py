"""Calling the user's loss function, and what happens when it fails.

Policy: an exception, or a result that is not a finite real number (NaN, +-inf, ``None``, a
string...), marks the individual as *failed* with loss ``+inf``. The failure is logged in one
line with its parameters (the traceback once per distinct error), the individual is kept (so it
is never evaluated again and shows up in summaries), and the run goes on. Other ranks are never
affected: failures are handled locally before anything is sent. With ``raise_on_failure`` the
Propulator stops breeding after the first failure, shuts down cleanly (every result recorded and
delivered) and then raises :class:`~propulate.errors.LossFunctionError`.

A loss function may be a generator: every yielded value is an intermediate loss (e.g. after each
epoch) and the last one is the loss. A plain loss function may instead hand intermediate losses to
:func:`report_intermediate` while it trains (a training framework's callback does this, see
:mod:`propulate.integrations.lightning`). Either way the values form the individual's learning
curve, and an early-stopping rule (``should_stop``, see :mod:`propulate.surrogate`) sees each of
them: when it says stop, a generator is closed (its ``finally`` blocks run) and
:func:`report_intermediate` returns ``True`` so the training can end; the individual is then
*pruned*, with the value at which it was stopped as its loss. With a multi-rank worker the loss
function is called as ``loss_fn(params, comm)`` with the worker's communicator. A failure is
logged in one line, with the traceback only the first time that error occurs (see
:mod:`propulate.failures`).
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import math
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .failures import log_failure
from .interruption import (
    Circumstances,
    EvaluationInterrupted,
    alarm_after,
    close,
    ended_vote,
    verdict,
    vote,
)
from .population import Status

__all__ = ["Evaluation", "evaluate", "outcome_of", "report_intermediate", "current_dir"]

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """The outcome of one call of the loss function.

    Attributes
    ----------
    loss : float
        The loss (``inf`` if the evaluation failed).
    status : str
        ``"ok"``, ``"failed"``, ``"pruned"`` (stopped early by ``should_stop``) or
        ``"interrupted"`` (stopped because the run ends; see :mod:`propulate.interruption`).
    duration : float
        Seconds the call took.
    finished_at : float
        Unix time at which it ended.
    error : str or None
        A one-line description of the failure, or why the evaluation was interrupted.
    curve : list of float
        The intermediate values the loss function yielded (or reported), up to the one at which
        it was stopped if pruned.
    losses : tuple of float or None
        Every objective in minimization sign, when the loss function returned several or
        objectives were declared (see :mod:`propulate.objectives`); ``None`` otherwise and for
        failed evaluations.
    constraints : tuple of float or None
        The constraint values the loss function returned with its result (see
        :mod:`propulate.feasibility`); ``None`` when it returned none and for failed
        evaluations.
    """

    loss: float
    status: str
    duration: float
    finished_at: float
    error: str | None = None
    curve: list[float] = field(default_factory=list)
    losses: tuple[float, ...] | None = None
    constraints: tuple[float, ...] | None = None


StopCheck = Callable[[int, float], bool]


class _Run:
    """The intermediate values of the evaluation in progress and the early-stopping decision."""

    __slots__ = ("curve", "should_stop", "pruned", "check_error", "interrupted", "over_limit",
                 "context", "started", "last", "settling", "other_failure",
                 "out_of_step")  # fmt: skip

    def __init__(self, should_stop: StopCheck | None, context: Circumstances) -> None:
        self.curve: list[float] = list(context.curve)  # a resumed evaluation continues its curve
        self.should_stop = should_stop
        self.pruned = False
        self.check_error: BaseException | None = None
        self.interrupted: str | None = None
        self.over_limit = False
        self.context = context
        self.started = time.perf_counter()
        self.last: Any = None  # the last value as reported (it may carry several objectives)
        # On a multi-rank worker: inside report(), whose collectives every rank must complete.
        self.settling = False
        self.other_failure: str | None = None  # why another rank's end stops this one
        # An error inside the agreement (an MPI error): the ranks may be in different rounds,
        # so this rank must not wait for the others in close().
        self.out_of_step = False

    def report(self, value: Any) -> bool:
        if self.stopped():
            return True  # the training goes on after being told to stop: ignore the rest
        self.curve.append(_as_float(value))
        self.last = value
        if self.context.on_value is not None:
            self.context.on_value(len(self.curve), self.curve[-1], self.elapsed())
        self.settling = self.context.agree is not None
        try:
            self._decide()
        except BaseException:
            self.out_of_step = self.settling
            raise
        finally:
            self.settling = False
        return self.stopped()

    def stopped(self) -> bool:
        """Whether the evaluation was told to stop."""
        return (self.pruned or self.over_limit or self.interrupted is not None
                or self.other_failure is not None)  # fmt: skip

    def _decide(self) -> None:
        """Whether to stop at the value just reported: pruned, over the limit, interrupted."""
        if self.should_stop is not None:
            try:
                self.pruned = bool(self.should_stop(len(self.curve), self.curve[-1]))
            except BaseException as exception:  # noqa: BLE001  # re-raised by evaluate
                # Not the loss function's fault: stop the training and re-raise once it returned.
                self.check_error = exception
                self.pruned = True
        context = self.context
        over, reason = False, None
        if not self.pruned:
            over = context.max_seconds is not None and self.elapsed() > context.max_seconds
            reason = None if over or context.interrupt is None else context.interrupt()
        if context.agree is not None:
            # A signal may have reached only some ranks of the worker, and only the first rank
            # has an early-stopping rule: all ranks do what any of them asks.
            mine = ended_vote("failed") if self.check_error else vote(self.pruned, over, reason)
            agreed = verdict(context.agree(mine)[0])
            if self.check_error is None:
                self.pruned = agreed.pruned
            over, reason, self.other_failure = agreed.over_limit, agreed.reason, agreed.failure
        self.over_limit, self.interrupted = over, reason

    def is_current(self) -> bool:
        """Whether this evaluation is the one in progress (for signal handlers)."""
        return _CURRENT_RUN.get() is self

    def is_settling(self) -> bool:
        """Whether the worker's ranks are agreeing on this value (signal handlers wait)."""
        return self.settling

    def elapsed(self) -> float:
        """Seconds this evaluation ran, the interrupted runs it resumes included."""
        return self.context.duration + time.perf_counter() - self.started


_CURRENT_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "propulate_current_run", default=None
)


def report_intermediate(value: float) -> bool:
    """Report an intermediate loss of the evaluation in progress; ``True`` means stop training.

    For loss functions that cannot be generators because a framework runs the training loop (a
    callback calls this once per epoch). The values form the individual's learning curve and are
    shown to the early-stopping rule. Once it returns ``True`` the individual is pruned with
    ``value`` as its loss, later reports are ignored, and the loss function should end its
    training and return (its return value is then ignored). Outside an evaluation (e.g. when the
    training function is called by hand) it does nothing and returns ``False``.

    Parameters
    ----------
    value : float
        The intermediate loss (lower is better, on the same scale as the final loss).

    Returns
    -------
    bool
        Whether the training should stop now.
    """
    run = _CURRENT_RUN.get()
    return False if run is None else run.report(value)


def in_evaluation() -> bool:
    """Whether a loss function called by :func:`evaluate` is running (for signal handlers)."""
    return _CURRENT_RUN.get() is not None


def settling() -> bool:
    """Whether the ranks of a multi-rank worker are agreeing whether to stop (signal handlers)."""
    run = _CURRENT_RUN.get()
    return run is not None and run.settling


def current_dir() -> Path:
    """The working folder of the individual being evaluated, created on first use.

    A training saves its weights there (e.g. a Lightning checkpoint after every epoch): an
    evaluation interrupted by the end of a job is resumed first by the next job on the same
    checkpoint, with the same parameters and the same folder, so it can continue where it
    stopped instead of starting again. The folder is
    ``<checkpoint_path>/individuals/island-<i>-rank-<r>-generation-<g>`` and is kept after the
    evaluation (delete what you do not need).

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    UsageError
        Outside an evaluation run by a Propulator's loop (``propulate()``).
    """
    run = _CURRENT_RUN.get()
    workdir = None if run is None else run.context.workdir
    if workdir is None:
        raise UsageError(
            "current_dir() is only valid inside a loss function called by Propulator.propulate() "
            "(or Islands.propulate()); with ask and tell, choose a folder per individual yourself."
        )
    from .files import make_folder  # deferred: only needed by loss functions that ask

    make_folder(workdir.parent)  # each level with the private folder mode
    return make_folder(workdir)


def evaluate(
    loss_fn: Callable[..., Any],
    params: Mapping[str, Any],
    worker_comm: Any = None,
    should_stop: StopCheck | None = None,
    context: Circumstances | None = None,
) -> Evaluation:
    """Call ``loss_fn`` on ``params`` and classify the result (never raises for user errors).

    Parameters
    ----------
    loss_fn : callable
        The loss function (or generator function).
    params : Mapping
        The hyperparameters.
    worker_comm : optional
        The multi-rank worker's communicator, passed as second argument when given.
    should_stop : callable, optional
        ``should_stop(step, value) -> bool``, called with every intermediate value (``step``
        counts from 1); ``True`` stops the evaluation and marks it pruned. An exception it raises
        stops the evaluation and is re-raised here.
    context : Circumstances, optional
        The working folder, the interruption check, the time limit, and what an interrupted
        evaluation this one resumes had done (see :mod:`propulate.interruption`).

    Returns
    -------
    Evaluation
        The outcome.
    """
    context = context if context is not None else Circumstances()
    run = _Run(should_stop, context)
    agree = context.agree
    try:
        outcome = _call(loss_fn, params, worker_comm, run)
    except BaseException:
        if agree is not None and not run.out_of_step:
            close(agree, Status.FAILED)  # the worker's other ranks stop at their next value
        raise
    if agree is not None and not run.out_of_step:
        # Every rank of the worker leaves together (whichever stopped first); the outcome is
        # failed if any rank's loss function failed.
        failure = close(agree, outcome.status)
        if failure is not None:
            outcome.loss, outcome.status, outcome.error = math.inf, Status.FAILED, failure
            outcome.losses = None
    return outcome


def _loss_of(loss_fn: Callable[..., Any], params: Mapping[str, Any], worker_comm: Any,
             run: _Run) -> Any:  # fmt: skip
    """What ``loss_fn`` returns; a generator's values are reported to ``run`` as they come."""
    result = loss_fn(params) if worker_comm is None else loss_fn(params, worker_comm)
    if inspect.isgenerator(result):
        try:
            for value in result:
                if run.report(value):
                    break
        finally:
            result.close()  # runs the generator's clean-up now, not at garbage collection
        result = run.last if run.curve else None
    return result


def _call(
    loss_fn: Callable[..., Any], params: Mapping[str, Any], worker_comm: Any, run: _Run
) -> Evaluation:
    """Run the loss function under ``run`` (see :func:`evaluate`)."""
    context = run.context
    token = _CURRENT_RUN.set(run)
    limit = None if context.max_seconds is None else context.max_seconds - context.duration
    try:
        if limit is None:  # no alarm to arm (the common case: a context manager per call costs)
            result = _loss_of(loss_fn, params, worker_comm, run)
        else:
            # Every rank of a multi-rank worker arms it with the same limit: all leave together.
            with alarm_after(limit, run.is_current, run.is_settling):
                result = _loss_of(loss_fn, params, worker_comm, run)
        if run.pruned or run.interrupted:
            result = run.last
        loss = _as_float(result)
        losses = getattr(result, "losses", None)  # several objectives (propulate.objectives)
        constraints = getattr(result, "constraints", None)  # see propulate.feasibility
        error = None if math.isfinite(loss) else f"loss_fn returned {result!r}"
        if run.other_failure is not None:
            loss, error = math.inf, f"stopped after {len(run.curve)} values: {run.other_failure}"
        elif run.over_limit:
            loss, error = (
                math.inf,
                f"stopped after {len(run.curve)} values: ran longer than "
                f"max_eval_seconds={context.max_seconds:g}",
            )
    except EvaluationInterrupted as interruption:
        # A second signal: the loss function is left where it was, to be resumed.
        run.interrupted = str(interruption) or "interrupted"
        loss, error = (run.curve[-1] if run.curve else math.inf), None
        losses = getattr(run.last, "losses", None)
        constraints = getattr(run.last, "constraints", None)
    except Exception as exception:  # noqa: BLE001  # the policy: record, log, go on
        if run.check_error is not None:
            raise run.check_error from None
        loss, error = math.inf, f"{type(exception).__name__}: {exception}"
        log_failure(params, exception)
        losses = constraints = None
    else:
        if run.check_error is not None:
            raise run.check_error
        if error is not None:
            stopped = run.over_limit or run.other_failure is not None
            log.warning(
                "%s for %s%s; recorded as failed with loss=inf.",
                error,
                dict(params),
                "" if stopped else ": not a finite number",
            )
    finally:
        _CURRENT_RUN.reset(token)
    duration = run.elapsed()
    if run.interrupted is not None and not run.pruned and not run.over_limit:
        status, error = Status.INTERRUPTED, run.interrupted
    elif error is not None:
        status, loss, losses, constraints = Status.FAILED, math.inf, None, None
    else:
        status = Status.PRUNED if run.pruned else Status.OK
    return Evaluation(
        loss=loss,
        status=status,
        duration=duration,
        finished_at=time.time(),
        error=error,
        curve=run.curve,
        losses=losses,
        constraints=constraints,
    )


def outcome_of(
    params: Mapping[str, Any],
    loss: Any,
    status: str | None = None,
    curve: Sequence[Any] | None = None,
    duration: float = 0.0,
    error: str | None = None,
) -> Evaluation:
    """The outcome of an evaluation made outside the loop (ask and tell), judged as by evaluate.

    Parameters
    ----------
    params : Mapping
        The hyperparameters (for the warning a failure logs).
    loss : float
        The loss; anything but a finite real number marks the evaluation failed, with loss
        ``inf``. A loss scored by :meth:`propulate.objectives.Objectives.score` brings its
        vector of objectives (``losses``).
    status : str, optional
        ``"ok"`` (default), ``"failed"`` (the evaluation broke; ``loss`` is ignored) or
        ``"pruned"`` (stopped early; ``loss`` is the value at which it stopped).
    curve : sequence of float, optional
        The intermediate losses, if any.
    duration : float
        Seconds the evaluation took.
    error : str, optional
        What went wrong, for a failed evaluation.

    Returns
    -------
    Evaluation
        The outcome, as the loop records it.
    """
    from .validation import check_choice  # deferred: validation is not needed on the hot path

    status = check_choice("tell", "status", Status.OK if status is None else status, _TOLD)
    value = _as_float(loss)
    if status == Status.FAILED or not math.isfinite(value):
        if status != Status.FAILED:
            error = error or f"the loss told was {loss!r}"
            log.warning("%s for %s: not a finite number; recorded as failed.", error, dict(params))
        elif error is None:
            error = "told as failed"
        status, value = Status.FAILED, math.inf
    losses = getattr(loss, "losses", None) if status == Status.OK else None
    constraints = getattr(loss, "constraints", None) if status == Status.OK else None
    return Evaluation(
        loss=value,
        status=status,
        duration=duration,
        finished_at=time.time(),
        error=error,
        curve=[_as_float(point) for point in curve or ()],
        losses=losses,
        constraints=constraints,
    )


_TOLD = (Status.OK, Status.FAILED, Status.PRUNED)


def _as_float(value: Any) -> float:
    """Convert a numeric result (Python, numpy or 0-d tensor) to float; NaN for anything else."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        return math.nan
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays, torch tensors
    if callable(item):
        try:
            return _as_float(item())
        except (TypeError, ValueError, RuntimeError):
            return math.nan
    return math.nan
