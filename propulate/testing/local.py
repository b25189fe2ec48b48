"""The real loop in memory: the Propulators of one island over a :class:`LocalNetwork`.

:class:`LocalIsland` builds one real :class:`~propulate.Propulator` per rank, all talking over an
in-memory network, and runs them

* in threads (:meth:`LocalIsland.run_threads`), each rank running
  :meth:`~propulate.Propulator.propulate` as it would under ``mpirun``;
* stepped by a scheduler, deterministically (:meth:`LocalIsland.run`): the ranks take turns, one
  :meth:`~propulate.Propulator.step` each (absorb, ask, evaluate, tell), and messages reach their
  receivers at once (:class:`Immediately`), when every rank has taken its turn (:class:`InRounds`),
  or in bursts before every ``k``-th step of the receiver (:class:`InBursts`);
* in simulated time (:meth:`LocalIsland.simulate`): evaluations take random times and every
  message a random delay, so results arrive out of order, as on a loaded machine.

So strategy tests exercise the loop users run, not a second one. A stepped or simulated run ends
with the real shutdown (:meth:`~propulate.Propulator.finish`), after which every rank holds the
same population.

For example, four ranks of CMA-ES whose results reach each other every tenth step::

    propagators = [CMAPropagator(BasicCMA(), limits, rng=random.Random(r)) for r in range(4)]
    with LocalIsland(sphere, propagators, generations=50) as island:
        island.run(InBursts(every=10))
        best = island.propulators[0].best(1)
"""

from __future__ import annotations

import heapq
import random
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..comm import Message
from ..comm.local import LocalNetwork
from ..evaluation import evaluate
from ..population import Individual
from ..propulator import Propulator
from ..records import decode_individual, encode_individual
from ..validation import check_int, check_number, fail

__all__ = [
    "ControlledNetwork",
    "Delivery",
    "Immediately",
    "InRounds",
    "InBursts",
    "LocalIsland",
]


class ControlledNetwork(LocalNetwork):
    """A :class:`LocalNetwork` that can hold messages back and deliver them later.

    Parameters
    ----------
    size : int
        The number of ranks.

    Attributes
    ----------
    holding : bool
        Whether posted messages wait in ``held`` until :meth:`release` (in the order posted).
    courier : callable or None
        If set, ``courier(dest, message)`` takes every posted message instead; it delivers it
        later with :meth:`~LocalNetwork.deliver` (messages of one sender may then overtake each
        other, which the results tolerate; the shutdown runs without a courier).
    """

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.holding = False
        self.courier: Callable[[int, Message], None] | None = None
        self.held: list[deque[Message]] = [deque() for _ in range(size)]

    def send(self, source: int, dest: int, data: bytes) -> None:
        """Deliver, hold or hand to the courier, as configured."""
        self.messages_sent += 1
        message = Message(source, data)
        if self.courier is not None:
            self.courier(dest, message)
        elif self.holding:
            self.held[dest].append(message)
        else:
            self.deliver(message, dest)

    def release(self, dest: int | None = None) -> None:
        """Deliver the held messages (of ``dest``, or of everybody), in the order posted."""
        for rank in range(self.size) if dest is None else (dest,):
            box = self.held[rank]
            while box:
                self.deliver(box.popleft(), rank)


class Delivery:
    """When messages reach their receivers in a stepped run (the default: at once)."""

    holds = False

    def before_step(self, network: ControlledNetwork, rank: int, steps_taken: int) -> None:
        """Called before ``rank`` takes a step, after ``steps_taken`` earlier ones."""

    def after_step(self, network: ControlledNetwork, rank: int, size: int) -> None:
        """Called after ``rank`` took a step."""


class Immediately(Delivery):
    """Every message is in its receiver's mailbox as soon as it is posted."""


class InRounds(Delivery):
    """Synchronous rounds: messages arrive once every rank took its turn.

    In each round every rank breeds from the population as it stood at the start of the round
    (as parallel workers that do not yet know each other's results), then all results arrive.
    """

    holds = True

    def after_step(self, network: ControlledNetwork, rank: int, size: int) -> None:
        """Deliver everything after the round's last rank."""
        if rank == size - 1:
            network.release()


class InBursts(Delivery):
    """A rank gets the others' results only before every ``every``-th of its own steps.

    As on a loaded machine, where a descheduled rank finds a pile of messages.

    Parameters
    ----------
    every : int
        The receiver's steps between deliveries (1: before each of its steps).
    """

    holds = True

    def __init__(self, every: int) -> None:
        self.every = check_int("InBursts", "every", every, 1, example=10)

    def before_step(self, network: ControlledNetwork, rank: int, steps_taken: int) -> None:
        """Deliver ``rank``'s held messages before every ``every``-th of its steps."""
        if steps_taken % self.every == 0:
            network.release(rank)


EVALUATED, ARRIVED = 0, 1  # event kinds of LocalIsland.simulate, in order of precedence


class LocalIsland:
    """One island of real Propulators over an in-memory network.

    Parameters
    ----------
    loss_fn : callable
        The loss function.
    propagators : sequence of Propagator
        One per rank (the number of ranks is their number).
    checkpoint_path : str or Path, optional
        The checkpoint folder; by default a temporary one, removed by :meth:`close`.
    generations : int
        Generations per rank (-1: unbounded; give the steps to :meth:`run` then).
    seed : int
        Rank ``r``'s Propulator gets ``random.Random(1000 * seed + r)``...
    rngs : sequence of random.Random, optional
        ... unless its generator is given here (e.g. the one its propagator uses).
    **kwargs
        Further arguments for :class:`~propulate.Propulator` (e.g. ``surrogate_factory``).
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        propagators: Sequence[Any],
        checkpoint_path: str | Path | None = None,
        generations: int = -1,
        seed: int = 0,
        rngs: Sequence[random.Random] | None = None,
        **kwargs: Any,
    ) -> None:
        size = check_int("LocalIsland", "len(propagators)", len(propagators), 1, example=4)
        self._folder = tempfile.TemporaryDirectory() if checkpoint_path is None else None
        path = Path(self._folder.name if self._folder else checkpoint_path)  # type: ignore[arg-type]  # one of them is set
        self.loss_fn = loss_fn
        self.network = ControlledNetwork(size)
        self.propulators: list[Propulator] = []
        for rank, propagator in enumerate(propagators):
            transport = self.network.transport(rank)
            rng = rngs[rank] if rngs is not None else random.Random(1000 * seed + rank)
            self.propulators.append(
                Propulator(
                    loss_fn, propagator, rng,
                    generations=generations, checkpoint_path=path, transport=transport,
                    collectives=transport, rank=rank, **kwargs,
                )
            )  # fmt: skip
        self.steps = [0] * size
        self._running = False

    @property
    def size(self) -> int:
        """The number of ranks."""
        return len(self.propulators)

    def __enter__(self) -> LocalIsland:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary checkpoint folder (if this island made one)."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def preload(self, individuals: Iterable[Individual]) -> None:
        """Put evaluated individuals into every rank's population without telling anybody.

        For continuing a stepped run with the same propagators, which know them already. Rank 0
        holds the very objects, the others copies (as messages would bring them); every rank
        continues after the last generation it finds of its own.
        """
        for ind in individuals:
            for rank, propulator in enumerate(self.propulators):
                held = ind
                if rank:  # a copy, as a message would bring it
                    held = decode_individual(encode_individual(ind), ind.search_space)
                propulator.known.add(held)
                if ind.worker == rank:
                    propulator.generation = max(propulator.generation, ind.generation + 1)

    # ----- in threads ---------------------------------------------------------------------------
    def run_threads(
        self,
        timeout: float = 60.0,
        logging_interval: int = 0,
        work: Callable[[Propulator], object] | None = None,
    ) -> list[Propulator]:
        """Run every rank's :meth:`~propulate.Propulator.propulate` in a thread of its own.

        ``work(propulator)``, if given, runs instead (e.g. a rank asking and telling).

        Raises
        ------
        AssertionError
            If a rank does not finish within ``timeout`` seconds (the loop hangs).
        BaseException
            The first exception a rank raised.
        """
        errors: list[BaseException] = []

        def run(propulator: Propulator) -> None:
            try:
                if work is None:
                    propulator.propulate(logging_interval=logging_interval)
                else:
                    work(propulator)
            except BaseException as error:  # noqa: BLE001  # handed to the caller's thread
                errors.append(error)

        threads = [
            threading.Thread(target=run, args=(propulator,), daemon=True)
            for propulator in self.propulators
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                raise AssertionError(f"a rank did not finish within {timeout} s: the loop hangs")
        if errors:
            raise errors[0]
        return self.propulators

    # ----- stepped ------------------------------------------------------------------------------
    def step(self, rank: int, delivery: Delivery | None = None) -> Individual | None:
        """Rank ``rank`` takes one step of the loop; return its evaluated individual (or None)."""
        delivery = delivery or Immediately()
        self._begin()
        self.network.holding = delivery.holds
        delivery.before_step(self.network, rank, self.steps[rank])
        child = self.propulators[rank].step()
        if child is not None:
            self.steps[rank] += 1
        delivery.after_step(self.network, rank, self.size)
        return child

    def run(self, delivery: Delivery | None = None, evaluations: int | None = None) -> int:
        """Let the ranks take turns, one step each, then shut them down; return the evaluations.

        Parameters
        ----------
        delivery : Delivery, optional
            When messages arrive (default :class:`Immediately`).
        evaluations : int, optional
            Stop after this many evaluations of all ranks together (default: when every rank
            reached its ``generations``).
        """
        delivery = delivery or Immediately()
        done, idle = 0, 0
        while evaluations is None or done < evaluations:
            for rank in range(self.size):
                if evaluations is not None and done >= evaluations:
                    break
                stepped = self.step(rank, delivery) is not None
                done += stepped
                idle = 0 if stepped else idle + 1
            if idle >= self.size:
                break  # nobody breeds any more
        self.finish()
        return done

    def simulate(
        self,
        seed: int,
        mean_delay: float = 1.0,
        mean_evaluation: float = 1.0,
    ) -> None:
        """Run in simulated time: random evaluation times, every message a random delay.

        Each evaluation takes an exponentially distributed time (mean ``mean_evaluation``); each
        message reaches its receiver after its own exponentially distributed delay (mean
        ``mean_delay``), who absorbs it at once. Ranks ask, and are told, through
        :meth:`~propulate.Propulator.ask` and :meth:`~propulate.Propulator.tell` until their
        ``generations`` are done. Deterministic for a given ``seed``.
        """
        if any(propulator.generations < 0 for propulator in self.propulators):
            fail("LocalIsland.simulate", "generations", -1, "an int >= 0 for every rank", 100)
        mean_delay = check_number("simulate", "mean_delay", mean_delay, 0, low_open=True)
        rate = 1.0 / check_number("simulate", "mean_evaluation", mean_evaluation, 0, low_open=True)
        clock = random.Random(seed)
        events: list[tuple[float, int, int, int, Any]] = []  # time, kind, rank, order, payload
        order = 0
        now = 0.0

        def courier(dest: int, message: Message) -> None:
            nonlocal order
            order += 1
            delay = clock.expovariate(1.0 / mean_delay)
            heapq.heappush(events, (now + delay, ARRIVED, dest, order, message))

        def ask(rank: int) -> None:
            nonlocal order
            child = self.propulators[rank].ask()
            if child is not None:
                order += 1
                done_at = now + clock.expovariate(rate)
                heapq.heappush(events, (done_at, EVALUATED, rank, order, child))

        self._begin()
        self.network.courier = courier
        try:
            for rank in range(self.size):
                ask(rank)
            while events:
                now, kind, rank, _, payload = heapq.heappop(events)
                propulator = self.propulators[rank]
                if kind == ARRIVED:
                    self.network.deliver(payload, rank)
                    propulator.absorb()
                    continue
                outcome = evaluate(self.loss_fn, payload)
                propulator.tell(payload, outcome.loss, outcome.curve, status=outcome.status,
                                error=outcome.error)  # fmt: skip
                self.steps[rank] += 1
                ask(rank)
        finally:
            self.network.courier = None
        self.finish()

    def _begin(self) -> None:
        """Start every rank's run at once: a rank that never started would stall the shutdown."""
        if not self._running:
            for propulator in self.propulators:
                propulator.start(logging_interval=0)
            self._running = True

    def finish(self) -> None:
        """Deliver what is held and shut every rank down (the real two-phase shutdown)."""
        if not self._running:
            return
        self._running = False
        self.network.holding = False
        self.network.release()
        finished = [False] * self.size
        while not all(finished):
            for rank, propulator in enumerate(self.propulators):
                if not finished[rank]:
                    finished[rank] = propulator.finish(wait=False)
