"""Batched results: the RESULTS codec, and Peers holding results back and keeping the order."""

from __future__ import annotations

import pytest

from propulate.comm.local import LocalNetwork
from propulate.peers import Peers
from propulate.wire import Kind, encode_results, records_of_batch, signal


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def result(i: int) -> bytes:
    return bytes((Kind.RESULT,)) + f"record {i}".encode()


def setup(batch_seconds: float, size: int = 3):
    network = LocalNetwork(size)
    clock = Clock()
    peers = Peers(network.transport(0), list(range(size)), batch_seconds, clock=clock)
    return network, clock, peers


def arrived(network, rank: int = 1) -> list[bytes]:
    return [message.data for message in network.transport(rank).poll()]


def test_a_batch_decodes_to_its_records_in_order():
    records = [b"a", b"", bytes(range(256)) * 3, b"z"]
    message = encode_results(records)
    assert message[0] == Kind.RESULTS
    assert records_of_batch(message) == records


@pytest.mark.parametrize("cut", [1, 3, 6])
def test_a_batch_cut_short_is_an_error_not_a_wrong_record(cut):
    message = encode_results([b"abcdef", b"gh"])
    with pytest.raises(ValueError, match="cut short"):
        records_of_batch(message[:-cut])


def test_without_batching_each_result_goes_at_once():
    network, _, peers = setup(0.0)
    peers.post_result(result(0))
    peers.post_result(result(1))
    for rank in (1, 2):
        assert arrived(network, rank) == [result(0), result(1)]


def test_results_wait_until_the_oldest_has_waited_batch_seconds():
    network, clock, peers = setup(10.0)
    for i in range(3):
        clock.now = float(i)
        peers.post_result(result(i))
    assert arrived(network) == []  # the oldest has waited 2 s of 10
    clock.now = 9.99
    peers.flush_if_due()
    assert arrived(network) == []
    clock.now = 10.0
    peers.flush_if_due()
    for rank in (1, 2):
        (batch,) = arrived(network, rank)
        assert records_of_batch(batch) == [result(i)[1:] for i in range(3)]
    clock.now = 11.0
    peers.post_result(result(3))  # a new batch starts its own wait
    clock.now = 20.9
    peers.flush_if_due()
    assert arrived(network) == []
    clock.now = 21.0
    peers.post_result(result(4))
    (batch,) = arrived(network)
    assert records_of_batch(batch) == [result(3)[1:], result(4)[1:]]


@pytest.mark.parametrize("other", ["post_to_island", "post_to_members", "post", "broadcast",
                                   "start_shutdown", "abort"])  # fmt: skip
def test_anything_else_posted_sends_the_waiting_results_first(other):
    network, _, peers = setup(3600.0)
    peers.post_result(result(0))
    peers.post_result(result(1))
    notice = bytes((Kind.LOCATION,)) + b"notice"
    if other == "post_to_island":
        peers.post_to_island(notice)
    elif other == "post_to_members":
        peers.post_to_members([1], notice)
    elif other == "post":
        peers.post(1, notice)
    elif other == "broadcast":
        peers.broadcast(Kind.STOP)
        notice = signal(Kind.STOP)
    elif other == "start_shutdown":
        peers.start_shutdown()
        notice = signal(Kind.FINISHED)
    else:
        peers.abort()
        notice = signal(Kind.STOP)
    batch, *after = arrived(network)
    assert records_of_batch(batch) == [result(0)[1:], result(1)[1:]]
    assert after[0] == notice
