"""GPU placement by a rank's position on its node (propulate.devices), over in-memory ranks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from propulate import ConfigurationError
from propulate.comm.local import LocalNetwork
from propulate.devices import Placement, select_device, visible_gpus


def place(hosts, visible, worker_size=None, **kwargs) -> list[Placement | BaseException]:
    """Every rank's select_device, ranks in threads; rank r on hosts[r] seeing visible[r]."""
    size = len(hosts)
    network = LocalNetwork(size)
    workers = None
    if worker_size is not None:
        workers = [LocalNetwork(worker_size) for _ in range(size // worker_size)]

    def one(rank: int) -> Placement | BaseException:
        environ = {} if visible[rank] is None else {"CUDA_VISIBLE_DEVICES": visible[rank]}
        worker = None
        if workers is not None:
            worker = workers[rank // worker_size].transport(rank % worker_size)
        try:
            return select_device(
                network.transport(rank), host=hosts[rank], environ=environ,
                worker_comm=worker, **kwargs,
            )  # fmt: skip
        except ConfigurationError as error:
            return error

    with ThreadPoolExecutor(size) as pool:
        return list(pool.map(one, range(size), timeout=30))


def test_block_placement_gives_each_rank_of_a_node_its_own_gpu():
    placements = place(["a"] * 4 + ["b"] * 4, ["0,1,2,3"] * 8)
    assert [p.gpu for p in placements] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert [p.local_rank for p in placements] == [0, 1, 2, 3, 0, 1, 2, 3]
    assert all(p.sharing == 1 and p.local_size == 4 for p in placements)
    assert placements[5].torch_device == "cuda:1" and placements[5].devices == [1]


def test_cyclic_placement_is_by_node_rank_not_global_rank():
    # Ranks 0 2 4 6 on node a, 1 3 5 7 on b: rank % 4 would put ranks 0 and 4 (both on a) on
    # GPU 0 and leave GPUs 1 and 3 of node a idle.
    placements = place(["a", "b"] * 4, ["0,1,2,3"] * 8)
    assert [p.gpu for p in placements] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert [p.host for p in placements] == ["a", "b"] * 4
    by_host = {}
    for p in placements:
        by_host.setdefault(p.host, []).append(p.gpu)
    assert by_host == {"a": [0, 1, 2, 3], "b": [0, 1, 2, 3]}


def test_one_visible_gpu_per_task_is_used_whatever_the_rank():
    # srun --gpus-per-task=1: every task sees one GPU of its own, index 0 in its process.
    placements = place(["a"] * 4, ["0", "1", "2", "3"])
    assert [p.gpu for p in placements] == [0, 0, 0, 0]
    assert all(p.sharing == 1 for p in placements)


def test_more_ranks_than_gpus_share_them_evenly():
    placements = place(["a"] * 5, ["0,1"] * 5)
    assert [p.gpu for p in placements] == [0, 1, 0, 1, 0]
    assert [p.sharing for p in placements] == [3, 2, 3, 2, 3]


def test_no_visible_gpu_places_every_rank_on_the_cpu():
    placements = place(["a"] * 3, ["", "-1", ""])
    assert [p.gpu for p in placements] == [None] * 3
    assert placements[0].accelerator == "cpu" and placements[0].torch_device == "cpu"
    assert placements[0].devices == 1
    forced = place(["a"] * 2, ["0,1"] * 2, gpus=0)
    assert [p.gpu for p in forced] == [None, None]


def test_a_multi_rank_worker_across_hosts_fails_on_every_rank_of_it():
    # Workers of 2 ranks; cyclic placement puts worker 0 (ranks 0 and 1) on two hosts.
    outcomes = place(["a", "b", "a", "b"], ["0,1"] * 4, worker_size=2)
    assert all(isinstance(o, ConfigurationError) for o in outcomes), outcomes
    message = str(outcomes[0])
    assert "spans several hosts" in message and "rank 0 on a, rank 1 on b" in message
    assert "ranks_per_worker" in message
    fine = place(["a", "a", "b", "b"], ["0,1"] * 4, worker_size=2)
    assert [p.gpu for p in fine] == [0, 1, 0, 1]


def test_bad_gpus_is_refused_before_any_communication():
    network = LocalNetwork(2)  # the other rank never calls: a collective would hang
    with pytest.raises(ConfigurationError, match="gpus"):
        select_device(network.transport(0), gpus=-1, host="a", environ={})


@pytest.mark.parametrize(
    "value, count", [("0,1,2", 3), ("3", 1), ("", 0), ("-1", 0), ("GPU-8f2e,GPU-11aa", 2)]
)
def test_visible_gpus_reads_cuda_visible_devices(value, count):
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": value}) == count
