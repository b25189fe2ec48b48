"""One run of one worker: recording results, acting on messages and decisions, shutting down.

A :class:`Run` lives from :meth:`~propulate.Propulator.start` to
:meth:`~propulate.Propulator.finish`. It gets its parts as arguments (what the worker knows,
its peers, its checkpoint log, its place among the islands, the migration policy) and holds
what only lasts a run: the individuals asked for and not yet told, the progress line, and the
state of the shutdown. Evaluating stays with the Propulator; breeding the next individual and
everything that happens to a result happen here, the same for the loop and for ask and tell.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from .checkpoint import CheckpointLog
from .comm import Message, Transport
from .epoch_line import EpochLine
from .errors import ConfigurationError, LossFunctionError, UsageError
from .evaluation import Evaluation
from .knowledge import Knowledge
from .migration import Adopt, Decision, Emigrate, MigrationPolicy, NoMigration, Place, Relocate
from .peers import Peers
from .population import Individual, Key, Status
from .progress import Progress, ProgressLine
from .propagators.base import as_list, call_stage
from .records import decode_individual
from .run_settings import RunSettings
from .search_space import SearchSpace
from .signals import StopRequest
from .unfinished import ResumeQueue, Unfinished
from .walltime import Walltime
from .wire import (
    Kind,
    decode_individual_message,
    decode_location,
    encode_location,
    encode_migrant,
    encode_result,
    encode_started,
    records_of_batch,
)

__all__ = ["Run"]

log = logging.getLogger("propulate.propulator")  # the loop's lines keep the loop's logger
_SIGNALS = ("SIGTERM", "SIGINT")
# Plain ints for the per-message dispatch: looking up an enum member costs several times more.
_RESULT, _LOCATION, _STOP = int(Kind.RESULT), int(Kind.LOCATION), int(Kind.STOP)
_STARTED, _RESULTS = int(Kind.STARTED), int(Kind.RESULTS)
STATE_INTERVAL = 30.0  # seconds between saves of the run state during a run


class Run:
    """What happens to results during one run of one worker.

    Parameters
    ----------
    knowledge : Knowledge
        The worker's population and the listeners of its results.
    peers : Peers
        Messaging and shutdown.
    store : CheckpointLog
        The worker's checkpoint log (opened by the caller).
    place : Place
        The worker's rank, island and the islands' members.
    policy : MigrationPolicy
        The migration policy, whose decisions the run carries out.
    space : SearchSpace
        The search space (to decode arriving individuals).
    stop : StopRequest
        Set when a peer asks everybody to stop.
    settings : RunSettings
        Stop conditions and logging.
    save_state : callable
        Saves the worker's run state (called every ``STATE_INTERVAL`` seconds).
    """

    def __init__(
        self,
        knowledge: Knowledge,
        peers: Peers,
        store: CheckpointLog,
        place: Place,
        policy: MigrationPolicy,
        space: SearchSpace,
        stop: StopRequest,
        settings: RunSettings,
        save_state: Callable[[], None],
    ) -> None:
        self.knowledge = knowledge
        self.peers = peers
        self.store = store
        self.place = place
        self.policy = policy
        self.space = space
        self.stop = stop
        self.settings = settings
        self.save_state = save_state
        self.migrating = not isinstance(policy, NoMigration)
        self.pending: dict[Key, tuple[Individual, float]] = {}  # asked, not yet told
        self.started = time.monotonic()
        self.last_state_save = self.started
        self.progress = ProgressLine(log, settings.island, settings.value_format)
        self.epochs = EpochLine(settings.rank, settings.epoch_seconds, log,
                                settings.value_format)  # fmt: skip
        self.evaluations = 0
        self.generation = 0  # the next generation, as of the last result recorded
        self.first_failure: str | None = None
        self.finishing = False
        self.closed = False
        self.resumption = ResumeQueue(settings.rank)  # evaluations started and not recorded
        known = (ind.evalperiod for ind in knowledge.population.to_list()[-50:])
        self.walltime = Walltime.for_run(settings.time_budget, known)

    @classmethod
    def open(
        cls,
        knowledge: Knowledge,
        transport: Transport,
        islands: Sequence[Sequence[int]],
        store: CheckpointLog,
        rng: random.Random,
        policy: MigrationPolicy,
        space: SearchSpace,
        stop: StopRequest,
        settings: RunSettings,
        save_state: Callable[[], None],
    ) -> Run:
        """Open ``store`` and begin a run of the worker at ``transport.rank``.

        ``islands`` lists the messaging ranks of every island's workers; a worker that knows no
        other island (islands without migration) gets one entry, its own island's.
        """
        store.open()
        place = Place(transport.rank, settings.island, islands, rng)
        own = islands[place.island] if len(islands) > 1 else islands[0]
        peers = Peers(transport, own, settings.batch_seconds)
        return cls(knowledge, peers, store, place, policy, space, stop, settings, save_state)

    # ----- asking and telling ---------------------------------------------------------------------
    def should_stop(self, generation: int) -> bool:
        """Whether to breed no more; ``generation`` is the next one (a spent budget sets stop)."""
        settings = self.settings
        if self.stop or 0 <= settings.generations <= generation or self.budget_spent():
            return True
        budget = settings.time_budget
        if budget is not None and time.monotonic() - self.started >= budget:
            self.stop.set("time budget")
            log.info("Rank %d: time budget of %g s used up.", settings.rank, budget)
            return True
        return settings.raise_on_loss_error and self.first_failure is not None

    def budget_spent(self) -> bool:
        """Whether the island's ``total_evaluations`` are done or under way, as far as known here.

        The island's evaluations known here are every result bred on the island that this
        worker holds: its own, its peers' (each RESULT message brings one), and those replayed
        from the checkpoint. This worker's own evaluations asked for and not yet told count too.
        A worker starts no evaluation once the count reaches the budget; evaluations other
        workers have under way, or whose results are still on their way here, are not known
        here, so an island of ``W`` workers of one evaluation at a time ends with between
        ``total_evaluations`` and ``total_evaluations + W - 1`` evaluations when every result
        reaches the peers before they begin their next evaluation (see :ref:`budget`).
        """
        total = self.settings.total_evaluations
        if total is None:
            return False
        known = self.knowledge.population.bred_on.get(self.place.island, 0)
        return known + len(self.pending) >= total

    def _island_rank(self) -> int | None:
        """This worker's rank within its island (1.2's ``Individual.rank``); None if the same."""
        place = self.place
        if len(place.islands) == 1:  # the messaging group is the island
            island_rank = place.rank
        else:  # the messaging group is the whole run
            island_rank = list(place.islands[place.island]).index(place.rank)
        return None if island_rank == self.settings.rank else island_rank

    def breed(self, propagator: Callable[..., Any], generation: int) -> Individual:
        """Breed the next child from the population, tag it and keep it until it is told."""
        population = self.knowledge.population
        children = as_list(call_stage(propagator, population.active))
        if not children:
            raise ConfigurationError(f"{type(propagator).__name__} returned no offspring.")
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
        child.worker = child.current = self.settings.rank
        child._island_rank = self._island_rank()
        child.generation = generation
        child.island = self.place.island
        self._begin(child)
        return child

    def _begin(self, child: Individual) -> None:
        self.pending[child.key] = (child, time.monotonic())
        self.resumption.begin(child, self.walltime.estimate)
        if self.knowledge.pending_listeners:
            # The island's other workers learn what this one evaluates now, so that a model
            # that wants to know (TPE's constant liars) does not propose the same point.
            self.peers.post_to_island(encode_started(child))

    def asked_at(self, ind: Individual) -> float:
        """When ``ind`` was asked for; a :class:`UsageError` unless it awaits its result."""
        asked = self.pending.get(getattr(ind, "key", None))  # type: ignore[arg-type]  # checked next
        if asked is not None and asked[0] is ind:
            return asked[1]
        if isinstance(ind, Individual) and self.knowledge.population.get(ind.key) is ind:
            raise UsageError(f"tell(): {ind!r} was told already; tell each result once.")
        raise UsageError(
            f"tell(): {ind!r} was not asked for in this run; tell the very object ask() returned."
        )

    def settle(self, child: Individual, outcome: Evaluation, generation: int) -> None:
        """Record a result, then log and save as due (``generation``: the next one)."""
        self.record(child, outcome)
        settings = self.settings
        if settings.debug >= 2:
            log.info("Rank %d evaluated %r in %.3g s.", settings.rank, child, outcome.duration)
        interval = settings.logging_interval
        self.generation = generation
        if interval > 0 and generation % interval == 0:
            self.report_progress(generation)
        if time.monotonic() - self.last_state_save > STATE_INTERVAL:
            self.save_state()
            self.last_state_save = time.monotonic()

    def record(self, child: Individual, outcome: Evaluation) -> None:
        """Record this worker's result: log, peers, listeners, then the migration policy."""
        del self.pending[child.key]
        child.loss, child.status, child.losses = outcome.loss, outcome.status, outcome.losses
        child.constraints = outcome.constraints
        child.evalperiod, child.evaltime = outcome.duration, outcome.finished_at
        if outcome.error is not None:
            child.error = outcome.error  # type: ignore[attr-defined]  # optional metadata
            if self.first_failure is None:
                self.first_failure = outcome.error
        if outcome.curve:  # its length is the step a pruned individual reached
            child.curve = outcome.curve  # type: ignore[attr-defined]  # optional metadata
        early = self.knowledge.early
        if early is not None:
            early.annotate(child)
        self.knowledge.add_own(child)
        self.progress.learn(child)
        message = encode_result(child)
        self.store.append_record(message[1:])  # the record is the message less its kind
        self.resumption.end(child)
        self.peers.post_result(message)
        self.evaluations += 1
        self.walltime.record(outcome.duration)
        if self.migrating:
            self.carry_out(self.policy.after_generation(self.place, self.knowledge.population))
        self.peers.pending_sends()

    def absorb(self) -> None:
        """Act on every message that has arrived (and send waiting results that are due)."""
        self.peers.flush_if_due()
        self.take(self.peers.poll())

    def take(self, messages: list[Message]) -> None:
        """Act on ``messages`` (the shutdown messages are the peers' business)."""
        if not messages:
            return
        knowledge = self.knowledge
        policy = self.policy
        for message in messages:
            data = message.data
            kind = data[0]
            if kind == _RESULT:
                knowledge.merge_result(result := decode_individual_message(data, self.space))
                self.progress.learn(result)
            elif kind == _RESULTS:
                for record in records_of_batch(data):
                    knowledge.merge_result(result := decode_individual(record, self.space))
                    self.progress.learn(result)
            elif kind == _LOCATION:
                knowledge.apply_notice(*decode_location(data))
            elif kind == _STARTED:
                knowledge.started(decode_individual_message(data, self.space))
            elif kind == _STOP:
                self.stop.set(f"stop requested by rank {message.source}")
            elif kind in policy.kinds:
                arrival = decode_individual_message(data, self.space)
                self.carry_out(policy.on_arrival(self.place, knowledge.population, kind, arrival))
            else:
                log.warning("Ignoring a message of unknown kind %d from %d.", kind, message.source)

    def take_while_waiting(self, messages: list[Message]) -> None:
        """:meth:`take`, at the end of the run: the island's line goes on as the peers finish."""
        bred = self.knowledge.population.bred_on
        before = bred.get(self.place.island, 0)
        self.take(messages)
        step = self.settings.logging_interval if self.peers.rank == self.peers.island[0] else 0
        if step > 0 and bred.get(self.place.island, 0) // step > before // step:
            self.report_progress(self.generation)

    def carry_out(self, decisions: Sequence[Decision]) -> None:
        """Apply a migration policy's decisions, in order."""
        population = self.knowledge.population
        for decision in decisions:
            if isinstance(decision, Relocate):
                key = decision.key
                population.move(key, decision.active, decision.current, decision.migration_steps)
                ind = population.get(key)
                assert ind is not None  # for mypy: policies relocate known individuals only
                self.store.append(ind)
                self.peers.post_to_island(encode_location(ind))
            elif isinstance(decision, Emigrate):
                data = encode_migrant(decision.kind, decision.ind, decision.owner,
                                      decision.migration_steps)  # fmt: skip
                self.peers.post_to_members(self.place.islands[decision.island], data)
            elif isinstance(decision, Adopt):
                stored, _ = self.knowledge.merge(decision.ind)
                if decision.record:
                    self.store.append(stored)

    # ----- unfinished evaluations (see propulate.unfinished and propulate.interruption) ----------
    def resume_unfinished(self, unfinished: Unfinished) -> int:
        """Journal evaluations in ``unfinished``; queue a former run's to resume first.

        Returns
        -------
        int
            The generation after the last one queued (0 if none).
        """
        return self.resumption.load(unfinished, self.knowledge.population)

    def next_unfinished(self) -> Individual | None:
        """The next evaluation of a former run to resume, tagged as asked; ``None`` if none."""
        child = self.resumption.next(self.knowledge.population, self.should_stop)
        if child is not None:
            child.current = self.settings.rank
            child.island = self.place.island
            self._begin(child)
        return child

    def interruption(self) -> str | None:
        """Why to interrupt the evaluation in progress now (a signal, the time budget), if so."""
        reason = self.stop.reason
        if reason in _SIGNALS:
            return reason
        budget = self.settings.time_budget
        if budget is not None and time.monotonic() - self.started >= budget:
            return "time budget"
        return None

    def too_late(self) -> bool:
        """Whether a new evaluation could not finish before the job ends (see walltime)."""
        reason = self.walltime.too_late()
        if reason is None:
            return False
        self.stop.set("walltime")
        log.info("Rank %d: starts no new evaluation: %s.", self.settings.rank, reason)
        return True

    def shelve(self, child: Individual, outcome: Evaluation) -> None:
        """Keep an interrupted evaluation for the next run instead of recording it; stop the run.

        The reason may come from another rank of a multi-rank worker (a signal to a follower):
        this rank stops too, as if it had got the signal.
        """
        self.stop.set(outcome.error or "interrupted")
        del self.pending[child.key]
        self.resumption.shelve(child, outcome)

    # ----- the end ------------------------------------------------------------------------------
    def finish(self, wait: bool = True) -> bool:
        """Shut down (see :mod:`propulate.peers`); without ``wait``, return whether done."""
        if not self.finishing:
            self.finishing = True
            if self.pending:
                log.warning("finish(): %d asked individual(s) never told; dropped.",
                            len(self.pending))  # fmt: skip
                for child, _ in list(self.pending.values()):
                    self.resumption.end(child)  # dropped on purpose: not to be resumed
            if self.stop.reason in _SIGNALS:
                self.peers.broadcast(Kind.STOP)
            self.peers.start_shutdown()
        if wait:
            self.peers.shut_down(self.take_while_waiting)
        else:
            self.absorb()
            if not self.peers.advance_shutdown():
                return False
        self.store.close()
        self.resumption.close()
        self.closed = True
        settings = self.settings
        if settings.debug >= 1:
            log.info("Rank %d finished after %d evaluations this run (%.1f s); it knows %d "
                     "individuals.", settings.rank, self.evaluations,
                     time.monotonic() - self.started, len(self.knowledge.population))  # fmt: skip
        self.log_statistics()
        return True

    def raise_if_failed(self) -> None:
        """Raise :class:`LossFunctionError` if an evaluation failed and the settings say so."""
        if self.first_failure is not None and self.settings.raise_on_loss_error:
            raise LossFunctionError(
                f"loss_fn failed ({self.first_failure}); the run was stopped cleanly and every "
                f"result recorded in {self.store.directory}. Fix the loss function and rerun "
                "to resume."
            )

    def abort(self) -> None:
        """A bug or an interrupt: tell the peers (so none waits for us), keep what is on disk."""
        if not self.closed:
            self.peers.abort()
            self.store.close()
            self.resumption.close()
            self.closed = True

    # ----- reporting ----------------------------------------------------------------------------
    def report_progress(self, generation: int) -> None:
        """Log the progress line (see :class:`~propulate.progress.ProgressLine`)."""
        settings = self.settings
        population = self.knowledge.population
        best = population.active.best(1)
        members = self.peers.island
        self.progress.report(
            Progress(
                island=self.place.island,
                rank=settings.rank,
                workers=len(members),
                first=self.peers.rank == members[0],
                generation=generation,
                generations=settings.generations,
                own=self.evaluations,
                known=population.bred_on.get(self.place.island, 0),
                best=float(best[0].loss) if best and best[0].loss is not None else math.inf,
                elapsed=time.monotonic() - self.started,
                time_budget=settings.time_budget,
                total_evaluations=settings.total_evaluations,
            )
        )

    def log_statistics(self) -> None:
        """Log what migration did on this worker (nothing without migration)."""
        if not self.migrating:
            return
        policy = self.policy
        population = self.knowledge.population
        log.info(
            "Rank %d (island %d): %d evaluations this run, %d individuals known (%d active); "
            "migrants sent %d, received %d, replaced %d.",
            self.settings.rank, self.place.island, self.evaluations, len(population),
            len(population.active),
            policy.sent, policy.received, policy.replaced,
        )  # fmt: skip
