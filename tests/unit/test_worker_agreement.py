"""The ranks of a multi-rank worker agree at every intermediate value (propulate.interruption).

The worker's ranks run as threads of a :class:`~propulate.comm.local.LocalWorker`; each calls
:func:`~propulate.evaluation.evaluate` with its own view (a signal it got, its clock) and the
worker's ``agree``. The MPI version of the same protocol runs in
tests/integration/test_interrupt_multirank.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from propulate.comm.local import LocalWorker
from propulate.evaluation import Evaluation, evaluate, report_intermediate
from propulate.interruption import (
    Circumstances,
    EvaluationTimeout,
    alarm_after,
    close,
    ended_vote,
    verdict,
    vote,
)
from propulate.signals import StopRequest, stop_on_signals


def on_ranks(size: int, run: Callable[[int, Any], Evaluation]) -> list[Evaluation]:
    """``run(rank, group)`` on ``size`` thread-ranks of one worker; their outcomes by rank."""
    worker = LocalWorker(size, timeout=10)
    outcomes: list[Any] = [None] * size
    errors: list[BaseException] = []

    def target(rank: int) -> None:
        try:
            outcomes[rank] = run(rank, worker.group(rank))
        except BaseException as error:  # noqa: BLE001  # handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=target, args=(r,), daemon=True) for r in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
        assert not thread.is_alive(), "a rank of the worker hangs"
    assert not errors, errors
    return outcomes


def epochs(count: int, trained: list[int] | None = None, fail_at: int | None = None):
    def loss(params, comm):
        for epoch in range(count):
            if epoch == fail_at:
                raise RuntimeError("out of memory")
            if trained is not None:
                trained.append(epoch)
            yield 10.0 / (epoch + 1)

    return loss


def signal_after(values: int, name: str = "SIGTERM"):
    calls = []

    def interrupt():
        calls.append(1)
        return name if len(calls) >= values else None

    return interrupt


def test_votes_decode_with_one_rank_precedence():
    assert verdict(vote()) == (False, False, None, None)
    for reason in ("SIGTERM", "SIGINT", "time budget"):
        assert verdict(vote(reason=reason)).reason == reason
    assert verdict(vote(reason="walltime")).reason == "interrupted"
    # Pruned > over the limit > interrupted, whichever rank voted what.
    assert verdict(max(vote(pruned=True), vote(over_limit=True), vote(reason="SIGTERM"))).pruned
    assert verdict(max(vote(over_limit=True), vote(reason="SIGTERM"))).over_limit
    # A rank whose loss function ended outranks every vote at a value.
    assert verdict(max(ended_vote("ok"), vote(pruned=True))).failure is not None
    assert verdict(ended_vote("failed")).failure is not None
    assert verdict(ended_vote("interrupted")).reason is not None


def test_a_signal_to_one_rank_interrupts_every_rank_at_the_same_value():
    trained: dict[int, list[int]] = {0: [], 1: [], 2: []}

    def run(rank, group):
        interrupt = signal_after(3) if rank == 1 else (lambda: None)  # only rank 1 got it
        context = Circumstances(interrupt=interrupt, agree=group.agree)
        return evaluate(epochs(10, trained[rank]), {}, "comm", context=context)

    outcomes = on_ranks(3, run)
    for rank, outcome in enumerate(outcomes):
        assert outcome.status == "interrupted" and outcome.error == "SIGTERM", rank
        assert outcome.curve == [10.0, 5.0, 10.0 / 3] and trained[rank] == [0, 1, 2]


def test_a_reporting_loss_on_a_follower_is_told_to_stop_by_the_leaders_time_budget():
    def loss(params, comm):
        for epoch in range(10):
            if report_intermediate(10.0 - epoch):
                return -1.0
        return 0.0

    def run(rank, group):
        interrupt = signal_after(2, "time budget") if rank == 0 else (lambda: None)
        return evaluate(loss, {}, "comm", context=Circumstances(interrupt=interrupt,
                                                                 agree=group.agree))  # fmt: skip

    for outcome in on_ranks(2, run):
        assert outcome.status == "interrupted" and outcome.error == "time budget"
        assert outcome.curve == [10.0, 9.0] and outcome.loss == 9.0


def test_the_leaders_pruning_decision_stops_every_rank():
    def run(rank, group):
        should_stop = (lambda step, value: step == 4) if rank == 0 else None
        context = Circumstances(agree=group.agree)
        return evaluate(epochs(10), {}, "comm", should_stop=should_stop, context=context)

    for outcome in on_ranks(2, run):
        assert outcome.status == "pruned" and len(outcome.curve) == 4


def test_a_failure_on_one_rank_stops_the_others_at_their_next_value_and_fails_all():
    trained: dict[int, list[int]] = {0: [], 1: []}

    def run(rank, group):
        loss = epochs(10, trained[rank], fail_at=3 if rank == 1 else None)
        return evaluate(loss, {}, "comm", context=Circumstances(agree=group.agree))

    leader, follower = on_ranks(2, run)
    assert follower.status == "failed" and "out of memory" in follower.error
    assert leader.status == "failed" and "another rank" in leader.error
    # The follower failed before its 4th value; the leader stopped at its 4th.
    assert trained == {0: [0, 1, 2, 3], 1: [0, 1, 2]}


def test_a_rank_that_ends_early_ends_the_others_evaluation_as_failed():
    def run(rank, group):
        loss = epochs(3 if rank == 1 else 10)  # a loss that yields fewer values on one rank
        return evaluate(loss, {}, "comm", context=Circumstances(agree=group.agree))

    leader, follower = on_ranks(2, run)
    assert leader.status == "failed" and "as many values" in leader.error
    assert len(leader.curve) == 4  # stopped at its first value after the follower's end
    assert follower.status == "failed" and "another rank" in follower.error


def test_a_surrogate_error_on_the_leader_is_raised_there_and_stops_the_followers():
    def broken(step, value):
        raise ZeroDivisionError("surrogate bug")

    def run(rank, group):
        should_stop = broken if rank == 0 else None
        context = Circumstances(agree=group.agree)
        if rank == 0:
            with pytest.raises(ZeroDivisionError):
                evaluate(epochs(10), {}, "comm", should_stop=should_stop, context=context)
            return None
        return evaluate(epochs(10), {}, "comm", context=context)

    _, follower = on_ranks(2, run)
    assert follower.status == "failed" and len(follower.curve) == 1


def test_ranks_leave_together_once_all_ended():
    calls: dict[int, int] = {}

    def run(rank, group):
        def counted(vote: int) -> tuple[int, int]:
            calls[rank] = calls.get(rank, 0) + 1
            return group.agree(vote)

        return close(counted, "ok")

    assert on_ranks(3, run) == [None, None, None]
    assert calls == {0: 1, 1: 1, 2: 1}  # without a late rank, one agreement


def test_a_second_signal_while_the_ranks_agree_does_not_leave_the_agreement_half_way():
    stop = StopRequest()
    agreements: list[int] = []

    def agree(mine: int) -> tuple[int, int]:
        agreements.append(mine)
        if len(agreements) == 1:  # both signals arrive while this rank is in the agreement
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return mine, mine

    context = Circumstances(interrupt=lambda: stop.reason, agree=agree)
    with stop_on_signals(stop):
        outcome = evaluate(epochs(10), {}, "comm", context=context)
    # Not left by the second signal inside the agreement ("SIGTERM twice"): stopped by the vote
    # at the next value, which every rank of the worker takes part in, then closed once.
    assert outcome.status == "interrupted" and outcome.error == "SIGTERM"
    assert len(outcome.curve) == 2 and len(agreements) == 3


def test_an_alarm_waits_while_the_ranks_agree():
    busy = threading.Event()
    busy.set()
    start, waited = time.monotonic(), 0.0
    with pytest.raises(EvaluationTimeout):
        with alarm_after(0.05, running=lambda: True, busy=busy.is_set):
            while time.monotonic() - start < 0.3:
                time.sleep(0.001)
            waited = time.monotonic() - start
            busy.clear()  # the agreement is over: the alarm fires within ALARM_RETRY
            while time.monotonic() - start < 5:
                time.sleep(0.001)
    assert waited >= 0.3 and time.monotonic() - start < waited + 0.5


def test_an_error_inside_the_agreement_fails_the_evaluation_without_waiting_for_the_others():
    calls: list[int] = []

    def broken(mine: int) -> tuple[int, int]:
        calls.append(mine)
        raise RuntimeError("MPI_ERR_COMM")  # the agreement itself broke (an MPI error)

    outcome = evaluate(epochs(10), {}, "comm", context=Circumstances(agree=broken))
    assert outcome.status == "failed" and "MPI_ERR_COMM" in outcome.error
    assert len(calls) == 1  # close() did not call it again (it would wait for the others)
