"""The asynchronous optimization loop, and ask and tell for evaluations made elsewhere.

Every rank runs the same loop, one :meth:`Propulator.step` after another: :meth:`~Propulator.ask`
(absorb what arrived, breed a child), evaluate it, :meth:`~Propulator.tell` (log it, post it to
the island, tell the propagator, let the migration policy decide). There is no barrier or
collective inside the loop, so a slow evaluation never stalls another rank.
:meth:`~Propulator.finish` ends a run with the shutdown of :mod:`propulate.peers`, after which
every rank of an island holds the same population. The parts get what they need as arguments:
:class:`~propulate.backends.Backends`, :class:`~propulate.rank_files.RankFiles` (the checkpoint
log and the run state, and the resume), :class:`~propulate.knowledge.Knowledge`,
:class:`~propulate.run.Run` (with :class:`~propulate.peers.Peers`) and
:class:`~propulate.worker.Worker` (the evaluation on one or several ranks).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .ask_tell import AskAndTell
from .backends import Backends
from .callbacks.base import Callback, CallbackList, RunContext, check_callbacks
from .comm import Collectives, Transport, WorkerGroup
from .comm.agreement import agree_to_start
from .compat import Attributes12
from .epoch_line import check_epoch_seconds
from .errors import UsageError
from .failures import check_loss_signature
from .job_lock import checked_run_config
from .knowledge import Knowledge
from .migration import MigrationPolicy, NoMigration
from .objectives import Objectives
from .population import Individual, Population, Status
from .propagators.base import Propagator, as_list, listeners, search_space_of
from .propagators.constraints import with_constraints
from .propagators.operators import SelectMin
from .rank_files import RankFiles
from .run import Run
from .run_settings import RunSettings, check_total_evaluations
from .search_space import SearchSpace
from .seeding import Head, Seeds, with_seeds
from .signals import StopRequest, stop_on_signals
from .summary import Summaries
from .surrogate import EarlyStopping
from .transit import take_in_lost_emigrants
from .unfinished import circumstances
from .validation import check_callable, check_int, check_number, check_probability, check_rng, fail
from .warm_start import WarmStart
from .worker import Worker

__all__ = ["Propulator"]

log = logging.getLogger(__name__)


class Propulator(AskAndTell, Summaries, Attributes12):
    """Asynchronous evolutionary optimization of ``loss_fn`` on every rank of ``island_comm``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params) -> float`` (``loss_fn(params, comm)`` for multi-rank workers), or a
        generator function yielding intermediate losses, the last being the loss. ``params`` is an
        :class:`Individual` (dict-like). With :meth:`ask` and :meth:`tell` it is not called.
    propagator : Propagator
        Breeds a child from the population (e.g. ``get_default_propagator(...)``).
    rng : random.Random
        This rank's random number generator (seed it per rank, e.g. with the rank).
    island_idx : int
        The index of this rank's island.
    island_comm : MPI.Comm, optional
        The ranks that share results with this one (default ``MPI.COMM_WORLD``).
    propulate_comm : MPI.Comm, optional
        Every rank of the optimization, across islands (default ``MPI.COMM_WORLD``).
    worker_sub_comm : MPI.Comm, optional
        The ranks of this rank's multi-rank worker (default ``MPI.COMM_SELF``: one rank per worker).
    generations : int
        Evaluations per rank, counting those of earlier runs on the same checkpoint; -1 runs until
        another stop condition (``time_budget`` or a signal).
    checkpoint_path : str or Path
        The folder of the checkpoint logs; a run on a folder with logs resumes them.
    migration_topology, migration_prob, emigration_propagator, island_displs, island_counts
        Migration settings, used by :class:`~propulate.Migrator` and :class:`~propulate.Pollinator`
        (set up by :class:`~propulate.Islands`). ``island_displs[i]`` and ``island_counts[i]``
        give the first rank and the number of workers of island ``i`` in ``propulate_comm``.
    surrogate_factory : callable, optional
        Makes this rank's :class:`~propulate.Surrogate`, which may stop evaluations early when
        ``loss_fn`` yields (or reports) intermediate losses; see :mod:`propulate.surrogate`.
        Stopped individuals are recorded as ``"pruned"`` with their last value as loss and take
        part in breeding with it.
    time_budget : float, optional
        Seconds after the start of a run after which no new evaluation is started, so a job
        ends cleanly inside its scheduler's time limit; an evaluation in progress then is
        interrupted at its next intermediate value and resumed first by the next run (see
        :mod:`propulate.interruption`).
    total_evaluations : int, optional
        Evaluations of the whole island (counting those of earlier runs on the same checkpoint)
        after which no new evaluation is started: every worker keeps evaluating until the island
        has them, so no worker idles while others finish their share; see :ref:`budget`. Give it
        with ``generations=-1`` (the default).
    max_eval_seconds : float, optional
        The longest an evaluation may run: one that runs longer is stopped (at its next
        intermediate value, or by an alarm in the loss function) and recorded as failed. On
        a multi-rank worker, on all its ranks at the same value (see
        :mod:`propulate.interruption`).
    raise_on_loss_error : bool
        If ``True``, stop after the first failed evaluation, shut down cleanly, then raise
        :class:`~propulate.errors.LossFunctionError`; otherwise failures are recorded with
        loss ``inf`` and the run goes on.
    batch_seconds : float
        How long a result may wait to go to the island's other workers together with later
        ones, in one message (0, the default: each at once). For large islands with short
        evaluations, where messaging takes a noticeable share of a rank's time; see
        :ref:`batching`.
    transport, collectives, worker_group, rank
        Communication back-ends for tests (in-memory); by default built from the communicators.
    migration_policy : MigrationPolicy, optional
        How individuals travel between islands (set by the subclasses); none by default.
    callbacks : list of Callback, optional
        Told of every result the island learns during a run, on the island's first worker
        unless a callback asks for every rank; see :mod:`propulate.callbacks`.
    constraints : list of callable, optional
        Feasibility functions of the hyperparameters: the propagator is wrapped in
        :class:`~propulate.propagators.Feasible`, so a child that breaks one is bred again.
    run_config : mapping, optional
        What makes this run this run, as JSON-able values, e.g. ``{"function": "rastrigin",
        "pop_size": 8}``: kept in the checkpoint folder by the first run, and a resume with
        another one fails with :class:`~propulate.errors.CheckpointError` naming the entries
        that differ, on every rank, before anything is read or written (the search space and
        the layout of ranks are always checked). Leave out what may change between resumes,
        such as ``generations``.
    seeds : list of dict, optional
        Known configurations, each evaluated exactly once in the whole run before any bred
        child (spread over the workers and islands; a resume keeps them); see :ref:`seeding`.
    warm_start : str, Path or list, optional
        Checkpoint folders of earlier runs, or CSV files of ``propulate export``, whose results
        join the population without being evaluated again; see :ref:`warm-start`.
    objectives : list, dict or None
        The objectives ``loss_fn`` returns, e.g. ``{"accuracy": "maximize", "latency":
        "minimize"}``; see :mod:`propulate.objectives`. Without it a tuple of numbers minimizes
        each of them.

    Notes
    -----
    :meth:`propulate` runs the loop. For evaluations that are no Python call (a simulation
    started by ``srun``, a job array, a notebook), :meth:`ask` for individuals and :meth:`tell`
    their losses, several at a time if you like, then :meth:`finish` (or use the Propulator as a
    context manager); see :ref:`ask-and-tell`. SIGTERM and SIGINT make every rank stop and
    shut down cleanly, ready to resume: an evaluation in progress is interrupted at its next
    intermediate value, kept as ``"interrupted"`` and resumed first by the next run, in its
    working folder :func:`~propulate.current_dir` (see :mod:`propulate.interruption`).
    """

    # For tests and subclasses: left out of the documented signature (see docs/conf.py).
    _internal_parameters = ("transport", "collectives", "worker_group", "rank", "migration_policy")

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        propagator: Propagator,
        rng: random.Random | None = None,
        island_idx: int = 0,
        island_comm: Any = None,
        propulate_comm: Any = None,
        worker_sub_comm: Any = None,
        generations: int = -1,
        checkpoint_path: str | Path = Path("./"),
        migration_topology: Any = None,
        migration_prob: float = 0.0,
        emigration_propagator: type[Propagator] = SelectMin,
        island_displs: Any = None,
        island_counts: Any = None,
        surrogate_factory: Callable[[], Any] | None = None,
        *,
        time_budget: float | None = None,
        total_evaluations: int | None = None,
        max_eval_seconds: float | None = None,
        raise_on_loss_error: bool = False,
        batch_seconds: float = 0.0,
        transport: Transport | None = None,
        collectives: Collectives | None = None,
        worker_group: WorkerGroup | None = None,
        rank: int | None = None,
        migration_policy: MigrationPolicy | None = None,
        callbacks: Sequence[Callback] | None = None,
        run_config: Mapping[str, Any] | None = None,
        constraints: Sequence[Callable[[Mapping[str, Any]], Any]] | None = None,
        seeds: Sequence[Mapping[str, Any]] | None = None,
        warm_start: str | Path | Sequence[str | Path] | None = None,
        objectives: Any = None,
    ) -> None:
        owner = type(self).__name__
        check_callable(owner, "loss_fn", loss_fn, "lambda params: params['x'] ** 2")
        if not callable(propagator):
            example = "get_default_propagator(8, limits)"
            fail(owner, "propagator", propagator, "a Propagator", example)
        self.generations = check_int(owner, "generations", generations, 0, also=(-1,), example=100)
        if time_budget is not None:
            time_budget = check_number(owner, "time_budget", time_budget, 0, low_open=True,
                                       example=3600)  # fmt: skip
        self.total_evaluations = check_total_evaluations(owner, total_evaluations, generations)
        if max_eval_seconds is not None:
            max_eval_seconds = check_number(owner, "max_eval_seconds", max_eval_seconds, 0,
                                            low_open=True, example=3600)  # fmt: skip
        self.max_eval_seconds = max_eval_seconds
        self.batch_seconds = check_number(owner, "batch_seconds", batch_seconds, 0, example=5)
        if generations == -1 and time_budget is None and total_evaluations is None:
            log.info("generations=-1 and no time_budget: running until SIGTERM/SIGINT.")
        self.loss_fn = loss_fn
        self.propagator = with_constraints(owner, propagator, constraints)
        self.rng = check_rng(owner, "rng", rng) or random.Random()
        self.objectives = Objectives.parse(owner, objectives)
        self._scored_loss_fn = self.objectives.wrap(loss_fn)
        self.island_idx = check_int(owner, "island_idx", island_idx, 0, example=0)
        self.checkpoint_path = Path(checkpoint_path)
        self.migration_topology = migration_topology
        self.migration_prob = check_probability(owner, "migration_prob", migration_prob)
        self.emigration_propagator = emigration_propagator
        self.island_displs = island_displs
        self.island_counts = island_counts
        # Workers per island, for the check of a resumed checkpoint's layout (Islands sets it
        # when the islands do not migrate).
        self.island_sizes = None if island_counts is None else tuple(int(c) for c in island_counts)
        self.surrogate_factory = surrogate_factory
        self._early = EarlyStopping.from_factory(surrogate_factory)
        self.surrogate = None if self._early is None else self._early.surrogate
        self.time_budget = time_budget
        self.run_config = run_config
        self.seeds, self.warm_start = seeds, warm_start
        self._space: SearchSpace | None = None
        self._seeds = None if seeds is None else Seeds.checked(owner, seeds, self.search_space)
        self._warm = None if warm_start is None else WarmStart(owner, warm_start)
        self._run_config = checked_run_config(owner, with_seeds(run_config, self._seeds))
        self.raise_on_loss_error = raise_on_loss_error
        self.migration_policy: MigrationPolicy = migration_policy or NoMigration()
        self.callbacks = check_callbacks(owner, callbacks)
        if rank is not None:
            rank = check_int(owner, "rank", rank, 0, example=0)
        migrating = not isinstance(self.migration_policy, NoMigration)
        self._backends = Backends(island_comm, propulate_comm, worker_sub_comm, migrating,
                                  transport, collectives, worker_group, rank)  # fmt: skip
        self._files: RankFiles | None = None
        self._knowledge_store: Knowledge | None = None
        self._run: Run | None = None
        self.generation = 0  # the generation of the next individual this rank breeds
        self.stop = StopRequest()
        self.evaluations_this_run = 0

    # ----- wiring -------------------------------------------------------------------------------
    def _identity(self) -> int:
        """This rank's rank in the whole optimization (used to tag individuals and files)."""
        return self._backends.identity()

    @property
    def search_space(self) -> SearchSpace:
        """The search space, taken from the propagator (or the first child it breeds)."""
        if self._space is None:
            # A propagator that does not tell its space: take its first child's.
            space = search_space_of(self.propagator)
            self._space = space or as_list(self.propagator([]))[0].search_space
        return self._space

    @property
    def rank(self) -> int:
        """This worker's rank in the messaging group."""
        transport = self._backends.transport
        return self._identity() if transport is None else transport.rank

    @property
    def num_islands(self) -> int:
        """The number of islands."""
        return 1 if self.island_counts is None else len(self.island_counts)

    def island_members(self, island: int) -> Sequence[int]:
        """The messaging ranks of the workers of ``island``."""
        if self.island_counts is None or self.island_displs is None:
            transport = self._backends.transport
            return range(transport.size if transport is not None else 1)
        first = int(self.island_displs[island])
        return range(first, first + int(self.island_counts[island]))

    @property
    def _knowledge(self) -> Knowledge:
        """What this rank knows, read from the checkpoint on first use."""
        if self._knowledge_store is None:
            resumed = self._rank_files().resume(self.propagator, self.rng, self._early)
            self._knowledge_store, self.generation = resumed
        return self._knowledge_store

    @property
    def known(self) -> Population:
        """The individuals this worker knows (read them; the loop changes them)."""
        return self._knowledge.population

    def _rank_files(self) -> RankFiles:
        if self._files is None:
            path, island, space = self.checkpoint_path, self.island_idx, self.search_space
            self._files = RankFiles(path, space, island, self._identity())
            self._files.log.objectives = self.objectives.to_header()
        return self._files

    def _state_path(self) -> Path:
        return self._rank_files().state_path

    def _save_state(self) -> None:
        self._rank_files().save_state(self.propagator, self.rng)

    # ----- a run: start, ask, tell, finish --------------------------------------------------------
    def start(
        self, logging_interval: int = 10, debug: int = -1, *, epoch_seconds: float | None = 30.0
    ) -> Propulator:
        """Begin a run on this rank (:meth:`ask` begins one with the defaults if needed).

        Parameters
        ----------
        logging_interval, debug, epoch_seconds
            As for :meth:`propulate`.

        Returns
        -------
        Propulator
            ``self``, so that ``with propulator.start(logging_interval=50):`` reads well.
        """
        epoch_seconds = check_epoch_seconds(type(self).__name__, epoch_seconds)
        self._backends.connect()
        transport = self._backends.transport
        if (self._run is not None and not self._run.closed) or transport is None:
            raise UsageError("start(): a run is open (finish() it first), or this is a multi-rank "
                             "worker's other rank (it propulate()s).")  # fmt: skip
        # Lock the folder and check its layout before anything is read or written.
        files = self._rank_files()
        layout = self._backends.layout(self.island_idx, self.island_sizes)
        files.claim(replace(layout, config=self._run_config))
        self.objectives.warn_first_only(self.propagator, loud=self._identity() == 0)
        head = Head(self._seeds, self._warm, layout, self._identity(), self.island_idx)
        try:
            knowledge = self._knowledge
            knowledge.listeners = listeners(self.propagator)  # the propagator may be replaced
            self.stop = StopRequest()
            islands = [self.island_members(i) for i in range(self.num_islands)]
            settings = RunSettings(self._identity(), self.island_idx, self.generations,
                                   self.time_budget, self.raise_on_loss_error, logging_interval,
                                   debug, self.total_evaluations, self.batch_seconds,
                                   epoch_seconds, self.objectives.value_format())  # fmt: skip
            self._run = Run.open(knowledge, transport, islands, files.log, self.rng,
                                 self.migration_policy, self.search_space, self.stop, settings,
                                 self._save_state)  # fmt: skip
            head.import_results(knowledge, files.log, self.search_space)
            self.generation = max(self.generation, self._run.resume_unfinished(files.unfinished))
            in_flight = {e.individual.values_key() for e in self._run.resumption.waiting}
            head.plan_seeds(knowledge, self.generation, self.search_space, in_flight)
            take_in_lost_emigrants(self._run, self.checkpoint_path)
        except BaseException:
            files.release()  # a resume that cannot go on must not keep the folder locked
            raise
        self._start_callbacks(knowledge, self._run.peers.island)
        if debug >= 1:
            log.info("Rank %d (island %d) starts at generation %d of %s.", self._identity(),
                     self.island_idx, self.generation,
                     self.generations if self.generations >= 0 else "unlimited")  # fmt: skip
        return self

    def _start_callbacks(self, knowledge: Knowledge, members: Sequence[int]) -> None:
        callbacks = CallbackList(self.callbacks, first_of_island=self.rank == members[0])
        knowledge.callbacks = callbacks if callbacks else None
        context = RunContext(self.island_idx, self._identity(), self.num_islands, len(members),
                             self.search_space, self.checkpoint_path,
                             len(knowledge.population))  # fmt: skip
        callbacks.start(context)

    def _end_callbacks(self) -> None:
        knowledge = self._knowledge_store
        if knowledge is not None and knowledge.callbacks is not None:
            knowledge.callbacks.end()
            knowledge.callbacks = None

    def step(self) -> Individual | None:
        """One generation of the loop: :meth:`ask`, evaluate with ``loss_fn``, :meth:`tell`.

        Returns
        -------
        Individual or None
            The evaluated individual, or ``None`` once this rank should stop.
        """
        child = self._ask()
        if child is None:
            return None
        run = self._run
        assert run is not None  # for mypy: set by _ask
        resumed = run.resumption.resumed.get(child.key)
        context = circumstances(self.checkpoint_path, child, resumed, run.interruption,
                                self.max_eval_seconds, run.epochs.hook(child))  # fmt: skip
        outcome = self._worker().lead(self._scored_loss_fn, child, context)
        if outcome.status == Status.INTERRUPTED:
            run.shelve(child, outcome)  # not a result: the next run resumes it first
        else:
            self._settle(run, child, outcome)
        return child

    def _abort(self) -> None:
        """A bug or an interrupt: tell the peers (so none waits for us), keep what is on disk."""
        if self._backends.worker_group is not None and not (self._run and self._run.finishing):
            self._worker().release()  # finish() released the followers already
        if self._run is not None:
            self._run.abort()
        if self._files is not None:
            self._files.release()
        self._end_callbacks()

    # ----- the loop -----------------------------------------------------------------------------
    def propulate(
        self, logging_interval: int = 10, debug: int = -1, *, epoch_seconds: float | None = 30.0
    ) -> None:
        """Run the optimization until this rank's stop condition, then shut down cleanly.

        Parameters
        ----------
        logging_interval : int
            Log a progress line every this many generations (on the island's first rank).
        debug : int
            0 or less: progress lines only; 1: also start and end of the run per rank;
            2: also one line per evaluation.
        epoch_seconds : float or None
            Every rank shows its evaluation's intermediate values at most every this many
            seconds (0: each one; ``None``: none); see :mod:`propulate.epoch_line`.

        Raises
        ------
        LossFunctionError
            If ``raise_on_loss_error`` is set and an evaluation failed (after a clean shutdown).
        """
        # Before any communication, on every rank: a loss that cannot be called fails every rank.
        check_loss_signature(type(self).__name__, self.loss_fn, self._backends.passes_comm())
        check_epoch_seconds(type(self).__name__, epoch_seconds)
        self._backends.connect()
        worker = self._worker()
        if not worker.leads:
            worker.follow(self._scored_loss_fn, self.search_space)
            return
        try:
            self.start(logging_interval, debug, epoch_seconds=epoch_seconds)
        except BaseException as error:
            worker.release()  # the followers wait for the leader's next individual
            self._agree_on_start(error)
            raise
        self._agree_on_start(None)
        with stop_on_signals(self.stop):
            try:
                while self.step() is not None:
                    pass
                self.finish()
            except BaseException:
                if self._run is not None and not self._run.closed:
                    self._abort()  # without waiting for anybody
                raise

    def _agree_on_start(self, error: BaseException | None) -> None:
        """Go on only if every rank started; else every rank leaves (see :mod:`~.agreement`)."""
        agree_to_start(self._backends.collectives, error, self._abort)

    def _worker(self) -> Worker:
        """This rank's worker (the back-ends are connected)."""
        group = self._backends.worker_group
        assert group is not None  # for mypy: set by connect
        return Worker(group, self._early)
