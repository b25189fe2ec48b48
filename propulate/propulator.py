"""The asynchronous optimization loop.

Every rank runs the same loop: absorb whatever messages have arrived, breed a child from the
population it knows, evaluate it, record it in its checkpoint log, post it to every island peer,
and let the migration policy act. Messages are non-blocking point-to-point; there is no barrier
or collective inside the loop, so a slow evaluation never stalls another rank.

All messages between two ranks travel on one MPI tag, so they arrive in the order they were sent
(MPI's non-overtaking rule); the first byte says what a message is. Shutdown uses that order:
a rank that stops breeding posts FINISHED to every peer and keeps serving messages; once it has
FINISHED from everybody, no migrant can still be on its way to it, so it posts DONE; once it has
DONE from everybody, everything anybody sent it has arrived. So at the end every rank of an
island holds the same population, whatever order ranks finish in.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointLog, write_json_atomically
from .comm import Collectives, Message, Transport, WorkerGroup
from .comm.local import SingleProcess
from .errors import ConfigurationError, LossFunctionError
from .evaluation import Evaluation, evaluate
from .migration import KIND_LOCATION, MigrationPolicy, NoMigration, unpack_location
from .population import Individual, Key, Population, Status
from .propagators.base import (
    Propagator,
    SelectMin,
    as_list,
    listeners,
    random_generators,
    stateful_stages,
)
from .records import decode_individual, encode_individual
from .reporting import format_duration, format_individuals
from .search_space import SearchSpace
from .signals import StopRequest, stop_on_signals
from .surrogate import EarlyStopping

__all__ = ["Propulator"]

log = logging.getLogger(__name__)

TAG = 7  # the one tag of every message (see the module docstring)
KIND_RESULT = 1
KIND_FINISHED = 2
KIND_DONE = 3
KIND_STOP = 4
# Idle waits at shutdown back off from 0.2 ms to 10 ms: a finished rank must not steal CPU from
# ranks still evaluating on an oversubscribed node, yet answer quickly while messages flow.
_IDLE_SLEEP_MIN = 0.0002
_IDLE_SLEEP_MAX = 0.01
STATE_INTERVAL = 30.0
_SIGNALS = ("SIGTERM", "SIGINT")


class Propulator:
    """Asynchronous evolutionary optimization of ``loss_fn`` on every rank of ``island_comm``.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params) -> float`` (``loss_fn(params, comm)`` for multi-rank workers), or a
        generator function yielding intermediate losses, the last being the loss. ``params`` is an
        :class:`Individual` (dict-like).
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
        Seconds after the start of :meth:`propulate` after which no new evaluation is started, so
        a job ends cleanly inside its scheduler's time limit.
    raise_on_loss_error : bool
        If ``True``, stop after the first failed evaluation, shut down cleanly, then raise
        :class:`~propulate.errors.LossFunctionError`; otherwise failures are recorded with
        loss ``inf`` and the run goes on.
    transport, collectives, worker_group, rank
        Communication back-ends for tests (in-memory); by default built from the communicators.
    migration_policy : MigrationPolicy, optional
        How individuals travel between islands (set by the subclasses); none by default.

    Notes
    -----
    SIGTERM and SIGINT make every rank stop after its current evaluation and shut down cleanly,
    ready to resume.
    """

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
        raise_on_loss_error: bool = False,
        transport: Transport | None = None,
        collectives: Collectives | None = None,
        worker_group: WorkerGroup | None = None,
        rank: int | None = None,
        migration_policy: MigrationPolicy | None = None,
    ) -> None:
        if not callable(loss_fn):
            raise ConfigurationError(f"loss_fn must be callable; got {type(loss_fn).__name__}.")
        if not callable(propagator):
            raise ConfigurationError(
                f"propagator must be a Propagator; got {type(propagator).__name__}. Use e.g. "
                "propulate.utils.get_default_propagator(pop_size, limits)."
            )
        if not isinstance(generations, int) or generations < -1:
            raise ConfigurationError(
                f"generations={generations!r}; use a count of evaluations per rank >= 0, or -1 to "
                "run until time_budget or a signal stops it."
            )
        if generations == -1 and time_budget is None:
            log.info("generations=-1 and no time_budget: running until SIGTERM/SIGINT.")
        if time_budget is not None and not time_budget > 0:
            raise ConfigurationError(f"time_budget={time_budget!r}; give seconds > 0 or None.")
        self.loss_fn = loss_fn
        self.propagator = propagator
        self.rng = rng if rng is not None else random.Random()
        self.island_idx = island_idx
        self.generations = generations
        self.checkpoint_path = Path(checkpoint_path)
        self.migration_topology = migration_topology
        self.migration_prob = migration_prob
        self.emigration_propagator = emigration_propagator
        self.island_displs = island_displs
        self.island_counts = island_counts
        self.surrogate_factory = surrogate_factory
        self._early = EarlyStopping.from_factory(surrogate_factory)
        self.surrogate = None if self._early is None else self._early.surrogate
        self.time_budget = time_budget
        self.raise_on_loss_error = raise_on_loss_error
        self._comms = (island_comm, propulate_comm, worker_sub_comm)
        self._transport = transport
        self._owns_transport = False  # True once we duplicated a communicator for it
        self._collectives = collectives
        self._worker_group = worker_group
        self._rank = rank
        self._space: SearchSpace | None = None
        self._store: CheckpointLog | None = None
        self._population_store: Population | None = None
        self._listeners: list[Any] | None = None  # the stages that learn from results
        self.generation = 0
        self.stop = StopRequest()
        self._first_failure: str | None = None
        self.migration_policy: MigrationPolicy = migration_policy or NoMigration()
        self._finished: set[int] = set()
        self._done: set[int] = set()
        self._early_notices: dict[Key, tuple[int, bool, int]] = {}
        self.evaluations_this_run = 0
        # Progress-line state: (start of the run, time, evaluations known) at its first line,
        # and the best loss seen (the best individual may later leave the island).
        self._progress_baseline: tuple[float, float, int] | None = None
        self._best_seen = math.inf

    # ----- wiring -------------------------------------------------------------------------------
    def _connect(self, messaging: bool = True) -> None:
        """Build the MPI back-ends the caller did not pass (collective on the comms).

        ``messaging=False`` skips the point-to-point transport (summaries need only collectives).
        """
        if self._transport is not None and self._worker_group is not None:
            return
        from .comm import mpi  # deferred: only needed (and only importing mpi4py) for MPI runs

        island_comm, propulate_comm, worker_comm = self._comms
        if self._worker_group is None:
            # As in 1.2, any worker communicator but COMM_SELF is handed to the loss function.
            self._worker_group = (
                SingleProcess() if mpi.is_self(worker_comm) else mpi.MPIWorkerGroup(worker_comm)
            )
        if self._worker_group.rank != 0:
            return  # a follower rank of a multi-rank worker: evaluates only
        if self._transport is None and messaging:
            # Migrants travel between islands, so a migrating run messages over propulate_comm.
            migrating = not isinstance(self.migration_policy, NoMigration)
            group = propulate_comm if migrating else island_comm
            self._transport = mpi.MPITransport(group or mpi.world())
            self._owns_transport = True
        if self._collectives is None:
            self._collectives = mpi.MPICollectives(propulate_comm or mpi.world())

    def _identity(self) -> int:
        """This rank's rank in the whole optimization (used to tag individuals and files)."""
        if self._rank is None:
            if self._collectives is not None:
                self._rank = self._collectives.rank
            else:
                from .comm import mpi

                self._rank = (self._comms[1] or mpi.world()).Get_rank()
        return self._rank

    @property
    def search_space(self) -> SearchSpace:
        """The search space, taken from the propagator (or the first child it breeds)."""
        if self._space is None:
            self._space = _space_of(self.propagator) or self._space_from_child()
        return self._space

    def _space_from_child(self) -> SearchSpace:
        child = as_list(self.propagator([]))[0]
        return child.search_space

    # ----- the population, loaded lazily from the checkpoint -------------------------------------
    @property
    def _population(self) -> Population:
        if self._population_store is None:
            self._population_store = Population(owner=self._identity())
            self._load_checkpoint()
        return self._population_store

    @property
    def population(self) -> list[Individual]:
        """Every individual this rank knows, in the order it learned of them."""
        return self._population.to_list()

    def _checkpoint(self) -> CheckpointLog:
        if self._store is None:
            self._store = CheckpointLog(
                self.checkpoint_path, self.search_space, self.island_idx, self._identity()
            )
        return self._store

    def _tell(self, ind: Individual) -> None:
        """Hand a result the island learned to every stage of the propagator that learns."""
        if self._listeners is None:
            self._listeners = listeners(self.propagator)
        for listener in self._listeners:
            listener.tell(ind)

    def _load_checkpoint(self) -> None:
        population = self._population_store
        assert population is not None  # for mypy: set by the caller
        own = self._identity()
        for ind in self._checkpoint().load_island():
            new = ind.key not in population
            population.merge(ind)  # later records of an individual carry its migrations
            if new:
                self._tell(ind)  # replayed before the saved state is restored (see below)
            if new and self._early is not None:
                self._early.on_result(ind)
            if ind.rank == own:
                self.generation = max(self.generation, ind.generation + 1)
        if len(population):
            log.info(
                "Resumed %d individuals of island %d from %s; rank %d continues at generation %d.",
                len(population),
                self.island_idx,
                self.checkpoint_path,
                own,
                self.generation,
            )
        state_file = self._state_path()
        if state_file.exists():
            self._restore_state(json.loads(state_file.read_text()))

    def _state_path(self) -> Path:
        return self.checkpoint_path / f"island-{self.island_idx}-rank-{self._identity()}.state.json"

    def _save_state(self) -> None:
        """Save this rank's random generators and its propagators' states (plain JSON).

        Without the generators, a resumed rank would draw the same random individuals again.
        ``stages`` holds the ``get_state()`` of every stage that keeps a state of its own, in
        the order of :func:`~propulate.propagators.base.stateful_stages`.
        """
        state = {
            "format_version": 2,
            "rngs": [_rng_state(rng) for rng in random_generators(self.propagator, self.rng)],
            "stages": [stage.get_state() for stage in stateful_stages(self.propagator)],
        }
        write_json_atomically(self._state_path(), state)

    def _restore_state(self, state: dict[str, Any]) -> None:
        rngs = random_generators(self.propagator, self.rng)
        saved = state.get("rngs", [])
        if len(saved) == len(rngs):  # the same set-up as the saved run
            for rng, rng_state in zip(rngs, saved, strict=True):
                rng.setstate((rng_state[0], tuple(rng_state[1]), rng_state[2]))
        stages = stateful_stages(self.propagator)
        if state.get("format_version", 1) == 1:
            # Version 1 kept the top-level propagator's state apart from the nested ones.
            top = state.get("propagator")
            if stages and stages[0] is self.propagator:
                if top is not None:
                    self.propagator.set_state(top)
                stages = stages[1:]
            saved_stages = state.get("nested", [])
        else:
            saved_stages = state.get("stages", [])
        if len(saved_stages) == len(stages):  # the same set-up as the saved run
            for stage, stage_state in zip(stages, saved_stages, strict=True):
                stage.set_state(stage_state)

    # ----- the loop -----------------------------------------------------------------------------
    def propulate(self, logging_interval: int = 10, debug: int = -1) -> None:
        """Run the optimization until this rank's stop condition, then shut down cleanly.

        Parameters
        ----------
        logging_interval : int
            Log a progress line every this many generations (on the island's first rank).
        debug : int
            0 or less: progress lines only; 1: also start and end of the run per rank;
            2: also one line per evaluation.

        Raises
        ------
        LossFunctionError
            If ``raise_on_loss_error`` is set and an evaluation failed (after a clean shutdown).
        """
        self._connect()
        assert self._worker_group is not None  # for mypy: set by _connect
        if self._worker_group.rank != 0:
            self._follow()
            return
        transport = self._transport
        assert transport is not None  # for mypy: set by _connect
        population = self._population
        store = self._checkpoint()
        store.open()
        self._finished, self._done = set(), set()
        self.stop = StopRequest()
        started = time.monotonic()
        last_state_save = started
        if debug >= 1:
            log.info(
                "Rank %d (island %d) starts at generation %d of %s.",
                self._identity(),
                self.island_idx,
                self.generation,
                self.generations if self.generations >= 0 else "unlimited",
            )
        with stop_on_signals(self.stop):
            try:
                while True:
                    self._absorb(transport.poll())
                    if self._should_stop(started):
                        break
                    child = self._breed(population)
                    self._worker_group.share(child.values_dict())
                    outcome = self._evaluate(child)
                    assert outcome is not None  # for mypy: only a follower rank gets None
                    self._record(child, outcome, store)
                    self.migration_policy.after_generation(self)
                    transport.pending_sends()
                    if debug >= 2:
                        log.info(
                            "Rank %d evaluated %r in %.3g s.",
                            self._identity(),
                            child,
                            outcome.duration,
                        )
                    if logging_interval > 0 and self.generation % logging_interval == 0:
                        self._log_progress(started)
                    if time.monotonic() - last_state_save > STATE_INTERVAL:
                        self._save_state()
                        last_state_save = time.monotonic()
            except BaseException:
                # A bug or an interrupt: tell the peers (so none waits for us), keep what is on
                # disk, and let the exception through without waiting for anybody.
                self._worker_group.share(None)
                self._broadcast(KIND_STOP)
                self._broadcast(KIND_FINISHED)
                self._broadcast(KIND_DONE)
                store.close()
                raise
            self._worker_group.share(None)
            if self.stop.reason in _SIGNALS:
                self._broadcast(KIND_STOP)
            self._shut_down(transport)
            self._save_state()
            store.close()
        if debug >= 1:
            log.info(
                "Rank %d finished after %d evaluations this run (%.1f s); it knows %d individuals.",
                self._identity(),
                self.evaluations_this_run,
                time.monotonic() - started,
                len(population),
            )
        self._log_island_statistics()
        self._release_transport()
        if self._first_failure is not None and self.raise_on_loss_error:
            raise LossFunctionError(
                f"loss_fn failed ({self._first_failure}); the run was stopped cleanly and every "
                f"result recorded in {self.checkpoint_path}. Fix the loss function and rerun "
                "to resume."
            )

    def _evaluate(self, params: Individual) -> Evaluation | None:
        """Evaluate with early stopping if there is a surrogate (``None``: the leader stopped)."""
        comm = self._loss_comm()
        if self._early is None:
            return evaluate(self.loss_fn, params, comm)
        return self._early.evaluate(self.loss_fn, params, comm, self._worker_group)

    def _release_transport(self) -> None:
        """Free the communicator duplicated for this run (a later run duplicates a new one)."""
        free = getattr(self._transport, "free", None)
        if self._owns_transport and callable(free):
            free()
            self._transport = None
            self._owns_transport = False

    def _loss_comm(self) -> Any:
        group = self._worker_group
        return None if group is None else group.comm

    def _follow(self) -> None:
        """Loop of a multi-rank worker's other ranks: evaluate whatever the first rank shares."""
        assert self._worker_group is not None  # for mypy: set by _connect
        while True:
            values = self._worker_group.share(None)
            if values is None:
                return
            params = Individual._from_trusted(values, self.search_space)
            if self._evaluate(params) is None:
                return

    def _should_stop(self, started: float) -> bool:
        if self.stop:
            return True
        if 0 <= self.generations <= self.generation:
            return True
        if self.time_budget is not None and time.monotonic() - started >= self.time_budget:
            self.stop.set("time budget")
            log.info("Rank %d: time budget of %g s used up.", self._identity(), self.time_budget)
            return True
        return self.raise_on_loss_error and self._first_failure is not None

    def _breed(self, population: Population) -> Individual:
        children = as_list(self.propagator(population.active))
        if not children:
            raise ConfigurationError(f"{type(self.propagator).__name__} returned no offspring.")
        template = children[0]
        if template.status == Status.PENDING and template.key not in population:
            # A new individual: evaluate that very object, so that the propagator recognizes
            # its own proposal when it is told the result.
            child = template
        else:
            # A parent passed through unchanged (or an object already used): a fresh copy.
            child = Individual._from_trusted(template.values_dict(), template.search_space)
            if template._position is not None:
                child.position = template._position
            if template.velocity is not None:
                child.velocity = template.velocity.copy()
        child.rank = self._identity()
        child.generation = self.generation
        child.island = self.island_idx
        child.current = self._identity()
        return child

    def _record(self, child: Individual, outcome: Evaluation, store: CheckpointLog) -> None:
        child.loss = outcome.loss
        child.status = outcome.status
        child.evalperiod = outcome.duration
        child.evaltime = outcome.finished_at
        if outcome.error is not None:
            child.error = outcome.error  # type: ignore[attr-defined]  # optional metadata
            if self._first_failure is None:
                self._first_failure = outcome.error
        if outcome.curve:  # its length is the step a pruned individual reached
            child.curve = outcome.curve  # type: ignore[attr-defined]  # optional metadata
        if self._early is not None:
            self._early.annotate(child)
        self._population.add(child)
        self._tell(child)
        data = encode_individual(child)
        store.append_record(data)
        for peer in self.island_members(self.island_idx):
            if peer != self.rank:
                self.send(peer, KIND_RESULT, data)
        self.generation += 1
        self.evaluations_this_run += 1

    def _absorb(self, messages: list[Message]) -> None:
        for message in messages:
            kind, body = message.data[0], message.data[1:]
            if kind == KIND_RESULT:
                self.merge(decode_individual(body, self.search_space))
            elif kind == KIND_LOCATION:
                self._apply_notice(*unpack_location(body))
            elif kind == KIND_FINISHED:
                self._finished.add(message.source)
            elif kind == KIND_DONE:
                self._done.add(message.source)
            elif kind == KIND_STOP:
                self.stop.set(f"stop requested by rank {message.source}")
            elif not self.migration_policy.on_message(self, kind, body):
                log.warning("Ignoring a message of unknown kind %d from %d.", kind, message.source)

    def _apply_notice(self, key: Key, steps: int, active: bool, current: int) -> None:
        known = self._population.get(key)
        if known is None:
            # The notice overtook the individual itself (they come from different ranks).
            early = self._early_notices.get(key)
            if early is None or steps > early[0]:
                self._early_notices[key] = (steps, active, current)
        elif steps > known.migration_steps:
            self._population.move(key, active, current, steps)

    def _peers(self) -> list[int]:
        transport = self._transport
        assert transport is not None  # for mypy: connected before the loop
        return [r for r in range(transport.size) if r != transport.rank]

    def _broadcast(self, kind: int) -> None:
        for peer in self._peers():
            self.send(peer, kind, b"")

    def _shut_down(self, transport: Transport) -> None:
        """The two-phase exchange described in the module docstring."""
        peers = set(self._peers())
        self._broadcast(KIND_FINISHED)
        self._serve_until(transport, lambda: self._finished >= peers)
        self._broadcast(KIND_DONE)
        self._serve_until(transport, lambda: self._done >= peers)
        transport.wait_sends()

    def _serve_until(self, transport: Transport, condition: Callable[[], bool]) -> None:
        pause = _IDLE_SLEEP_MIN
        while not condition():
            messages = transport.poll()
            if messages:
                self._absorb(messages)
                pause = _IDLE_SLEEP_MIN
            else:
                transport.pending_sends()
                time.sleep(pause)
                pause = min(2 * pause, _IDLE_SLEEP_MAX)

    # ----- the context migration policies work through ------------------------------------------
    @property
    def rank(self) -> int:
        """This worker's rank in the messaging group."""
        transport = self._transport
        return self._identity() if transport is None else transport.rank

    @property
    def num_islands(self) -> int:
        """The number of islands."""
        return 1 if self.island_counts is None else len(self.island_counts)

    @property
    def known(self) -> Population:
        """The individuals this worker knows."""
        return self._population

    def island_members(self, island: int) -> Sequence[int]:
        """The messaging ranks of the workers of ``island``."""
        if self.island_counts is None or self.island_displs is None:
            transport = self._transport
            return range(transport.size if transport is not None else 1)
        first = int(self.island_displs[island])
        return range(first, first + int(self.island_counts[island]))

    def send(self, dest: int, kind: int, data: bytes) -> None:
        """Post a message of ``kind`` to ``dest`` (non-blocking)."""
        transport = self._transport
        assert transport is not None  # for mypy: connected before the loop
        transport.post(dest, TAG, bytes((kind,)) + data)

    def remember(self, ind: Individual) -> None:
        """Append the individual's current state to this rank's checkpoint log."""
        self._checkpoint().append(ind)

    def merge(self, ind: Individual) -> tuple[Individual, bool]:
        """Merge an arriving individual (applying any notice that overtook it)."""
        new = ind.key not in self._population
        stored = self._population.merge(ind)
        if new:
            self._tell(stored)
        if new and self._early is not None:
            self._early.on_result(stored)
        if new and self._early_notices:
            early = self._early_notices.pop(ind.key, None)
            if early is not None and early[0] > stored.migration_steps:
                self._population.move(ind.key, early[1], early[2], early[0])
        return stored, new

    def _log_island_statistics(self) -> None:
        policy = self.migration_policy
        if isinstance(policy, NoMigration):
            return
        log.info(
            "Rank %d (island %d): %d evaluations this run, %d individuals known (%d active); "
            "migrants sent %d, received %d, replaced %d.",
            self._identity(),
            self.island_idx,
            self.evaluations_this_run,
            len(self._population),
            len(self._population.active),
            policy.sent,
            policy.received,
            policy.replaced,
        )

    def _log_progress(self, started: float) -> None:
        """Log a progress line on the island's first worker; other workers log theirs at DEBUG.

        The line shows the evaluations of this island this worker knows (resumed ones included;
        immigrants, bred elsewhere, do not count) against the expected total, ``generations`` times
        the island's workers, when the run is bounded; the best loss seen so far; the
        evaluations per second, measured from the growth of the known evaluations since the
        previous line (before that, estimated from this worker's own pace); and an ETA from this
        worker's pace and remaining generations, or the time budget, whichever ends first.
        """
        if self._transport is None:
            return
        now = time.monotonic()
        elapsed = max(now - started, 1e-9)
        own = self.evaluations_this_run
        pace = elapsed / own if own else math.nan  # seconds per evaluation on this worker
        etas = []
        if self.generations >= 0 and own:
            etas.append(max(self.generations - self.generation, 0) * pace)
        if self.time_budget is not None:
            etas.append(max(self.time_budget - elapsed, 0.0))
        eta = f", ETA {format_duration(min(etas))}" if etas else ""
        members = self.island_members(self.island_idx)
        if self.rank != members[0]:
            log.debug(
                "Rank %d (island %d): generation %d%s, %s per evaluation%s",
                self._identity(),
                self.island_idx,
                self.generation,
                f"/{self.generations}" if self.generations >= 0 else "",
                format_duration(pace),
                eta,
            )
            return
        population = self._population
        known = population.bred_on.get(self.island_idx, 0)  # immigrants are not evaluations here
        # (start of this run, time, evaluations known) at the first line of this run.
        baseline = self._progress_baseline
        if baseline is None or baseline[0] != started:
            self._progress_baseline = baseline = (started, now, known)
            rate = len(members) / pace if own else 0.0
        else:
            rate = (known - baseline[2]) / max(now - baseline[1], 1e-9)
        best = population.active.best(1)
        newest_best = float(best[0].loss) if best and best[0].loss is not None else math.inf
        # Remember the best seen: the best individual may later leave the island (migration).
        best_seen = self._best_seen if baseline[1] != now else math.inf
        best_loss = min(best_seen, newest_best)
        self._best_seen = best_loss
        if self.generations >= 0:
            expected = self.generations * len(members)
            done = f"{known}/{expected} evaluations ({100 * known / max(expected, 1):.0f}%)"
        else:
            done = f"{known} evaluations"
        log.info(
            "Island %d: %s, best loss %s, %.3g evaluations/s%s",
            self.island_idx,
            done,
            f"{best_loss:.6g}" if math.isfinite(best_loss) else "n/a",
            rate,
            eta,
        )

    # ----- results ------------------------------------------------------------------------------
    def best(self, top_n: int = 1) -> list[Individual]:
        """The ``top_n`` best distinct individuals of this rank's island population.

        Only successfully evaluated individuals that are active here count (an emigrant counts
        on the island it moved to).
        """
        ranked = sorted(
            (ind for ind in self._population.active if ind.status == Status.OK),
            key=lambda ind: (ind.loss, ind.rank, ind.generation),
        )
        chosen: list[Individual] = []
        seen: set[tuple[Any, ...]] = set()
        for ind in ranked:
            values = tuple(ind.values_dict().items())
            if values not in seen:
                seen.add(values)
                chosen.append(ind)
            if len(chosen) == top_n:
                break
        return chosen

    def summarize(self, top_n: int = 1, debug: int = 1) -> list[list[Individual]]:
        """Log and return the best ``top_n`` distinct individuals of every island.

        A collective over all ranks of the optimization: call it on every rank.

        Parameters
        ----------
        top_n : int
            How many individuals per island (fewer when fewer exist).
        debug : int
            0 or less: return without logging.

        Returns
        -------
        list of list of Individual
            One list per island, best first.
        """
        if top_n < 1:
            raise ConfigurationError(f"summarize: top_n={top_n}; ask for at least 1.")
        self._connect(messaging=False)
        group = self._worker_group
        if self._collectives is None:  # another rank of a multi-rank worker: its first rank tells
            return group.share(None) if group is not None else []  # type: ignore[no-any-return]
        mine = (self.island_idx, self.best(top_n), len(self._population))
        gathered = self._collectives.allgather(mine)
        islands: dict[int, tuple[list[Individual], int]] = {}
        for island, best, known in gathered:
            if island not in islands or known > islands[island][1]:
                islands[island] = (best, known)
        result = [islands[i][0] for i in sorted(islands)]
        if debug > 0 and self._collectives.rank == 0:
            for island in sorted(islands):
                best, known = islands[island]
                log.info(
                    format_individuals(
                        f"Top {top_n} of island {island} ({known} individuals known):", best
                    )
                )
            if len(islands) > 1:
                overall = sorted(
                    (ind for best, _ in islands.values() for ind in best),
                    key=lambda ind: (ind.loss, ind.rank, ind.generation),
                )[:top_n]
                log.info(format_individuals(f"Top {top_n} overall:", overall))
        if group is not None and group.size > 1:
            group.share(result)
        return result


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]


def _space_of(propagator: Any) -> SearchSpace | None:
    """Find the search space a propagator (or one of its stages) was built with."""
    if isinstance(propagator, Propagator):
        return propagator.search_space
    limits = getattr(propagator, "limits", None)  # a propagator of another kind
    if isinstance(limits, dict) and limits:
        return SearchSpace.of(limits)
    return None
