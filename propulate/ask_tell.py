"""Ask and tell: a run driven by the caller instead of :meth:`Propulator.propulate`.

For evaluations that are no Python call inside the loop (a simulation started by ``srun``, a job
array, a notebook): :meth:`AskAndTell.ask` for individuals, :meth:`AskAndTell.tell` their
results, then :meth:`AskAndTell.finish`, or use the Propulator as a context manager. The loop
itself (:meth:`Propulator.step`) is made of the same calls, so both write the same logs and
messages. :class:`AskAndTell` is the part of :class:`~propulate.Propulator` that does it; it
is not used alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import UsageError
from .evaluation import Evaluation, outcome_of
from .objectives import ObjectiveMismatch, Objectives
from .population import Individual, Status

if TYPE_CHECKING:
    from .backends import Backends
    from .rank_files import RankFiles
    from .run import Run
    from .seeding import Seeds
    from .surrogate import EarlyStopping
    from .worker import Worker

__all__ = ["AskAndTell"]

_Host = TypeVar("_Host", bound="AskAndTell")


class AskAndTell:
    """Ask for individuals, tell their results, finish: the run as the caller drives it.

    A base of :class:`~propulate.Propulator`, which provides the run (``start``) and the parts
    declared below.
    """

    _run: Run | None
    _backends: Backends
    _early: EarlyStopping | None
    propagator: Any
    _seeds: Seeds | None
    objectives: Objectives
    generation: int
    evaluations_this_run: int

    if TYPE_CHECKING:  # provided by Propulator

        def start(self, logging_interval: int = 10, debug: int = -1) -> Any: ...  # noqa: D102
        def _abort(self) -> None: ...
        def _worker(self) -> Worker: ...
        def _end_callbacks(self) -> None: ...
        def _save_state(self) -> None: ...
        def _rank_files(self) -> RankFiles: ...

    def ask(self) -> Individual | None:
        """Absorb what has arrived and breed the next individual to evaluate.

        Several individuals may be asked for before their results are told.

        Returns
        -------
        Individual or None
            The individual; ``None`` once this rank should stop (generations asked for, the
            island's ``total_evaluations`` reached, time budget used up, stop requested): then
            :meth:`finish`.

        Raises
        ------
        UsageError
            After :meth:`finish`, or on a multi-rank worker (which evaluates in :meth:`propulate`).
        """
        self._backends.connect()  # the worker group is known once connected
        group = self._backends.worker_group
        if group is not None and group.size > 1:
            raise UsageError("ask(): ask and tell run one rank per worker; a multi-rank worker "
                             "(ranks_per_worker > 1) evaluates in propulate().")  # fmt: skip
        return self._ask()

    def _ask(self) -> Individual | None:
        run = self._open_run("ask")
        run.absorb()
        resumed = run.next_unfinished()  # what a former run did not finish comes first
        if resumed is not None:
            return resumed
        if run.should_stop(self.generation) or run.too_late():
            return None
        source = self.propagator  # known configurations (seeds) come before bred children
        if self._seeds is not None:
            source = self._seeds.source(source, self.generation, run.space)
        child = run.breed(source, self.generation)
        self.generation += 1
        return child

    def tell(
        self,
        ind: Individual,
        loss: Any,
        curve: Sequence[float] | None = None,
        *,
        status: str | None = None,
        duration: float | None = None,
        error: str | None = None,
    ) -> None:
        """Record the result of an individual :meth:`ask` returned, exactly as the loop does.

        Parameters
        ----------
        ind : Individual
            The very object :meth:`ask` returned.
        loss : float, sequence or mapping
            The loss; ``nan``, ``inf``, ``None`` or a non-number records a failure (loss ``inf``).
            With several objectives (``objectives=``), what ``loss_fn`` would return: a tuple
            or list in the declared order, or a dict by name; one that does not fit the
            declaration records a failure with the reason.
        curve : sequence of float, optional
            Intermediate losses (e.g. per epoch), kept as the individual's learning curve.
        status : str, optional
            ``"failed"`` for an evaluation that broke (``loss`` is then ignored), ``"pruned"`` for
            one stopped early (``loss`` is the value at which it stopped); default ``"ok"``.
        duration : float, optional
            Seconds the evaluation took; default: the time since it was asked for.
        error : str, optional
            What went wrong, kept with a failed individual.

        Raises
        ------
        UsageError
            If ``ind`` was not asked for in this run, or was told already.
        """
        run = self._open_run("tell")
        elapsed = time.monotonic() - run.asked_at(ind) if duration is None else duration
        if status is None or status == Status.OK:
            try:  # several objectives: a tuple or dict, as loss_fn would return them
                loss = self.objectives.score(loss)
            except ObjectiveMismatch as mismatch:
                status, error = Status.FAILED, str(mismatch)
        outcome = outcome_of(ind, loss, status, curve, elapsed, error)
        if self._early is not None:
            self._early.replay(ind, outcome)  # as if it had followed the evaluation
        self._settle(run, ind, outcome)

    def absorb(self) -> None:
        """Take in every message that has arrived (:meth:`ask` does it too).

        Call it now and then while waiting long for results to :meth:`tell`, so that the
        population stays current and peers' sends complete.
        """
        self._open_run("absorb").absorb()

    def _settle(self, run: Run, child: Individual, outcome: Evaluation) -> None:
        run.settle(child, outcome, self.generation)
        self.evaluations_this_run += 1

    def finish(self, wait: bool = True) -> bool:
        """End the run: the shutdown after which every rank of the island has the same population.

        Individuals asked for and never told are dropped (with a warning); the run's state is
        saved for a resume. Calling it again does nothing.

        Parameters
        ----------
        wait : bool
            Block until the shutdown is complete (default); with ``False``, do what arrived
            messages allow and return whether it is complete (call again until it is).

        Returns
        -------
        bool
            Whether the run is finished.

        Raises
        ------
        LossFunctionError
            If ``raise_on_loss_error`` is set and an evaluation failed (after the shutdown).
        """
        run = self._run
        if run is None or run.closed:
            return True
        if not run.finishing and self._backends.worker_group is not None:
            self._worker().release()
        if not run.finish(wait):
            return False
        self._end_callbacks()
        self._save_state()
        self._rank_files().release()
        self._backends.release()
        run.raise_if_failed()
        return True

    def __enter__(self: _Host) -> _Host:
        if self._run is None or self._run.closed:
            self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.finish()
        else:
            self._abort()

    def _open_run(self, caller: str) -> Run:
        if self._run is None:
            self.start()
        run = self._run
        assert run is not None  # for mypy: set by start()
        if run.finishing or run.closed:
            raise UsageError(f"{caller}(): this run was finished; start() a new one (it resumes "
                             "from the checkpoint).")  # fmt: skip
        return run
