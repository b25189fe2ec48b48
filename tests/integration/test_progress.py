"""The progress line the loop logs while it runs."""

from __future__ import annotations

import logging
import random
import re

import pytest

from propulate import Propulator
from propulate.comm.local import LocalNetwork
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, one_propulator, sphere


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append((record.levelno, record.getMessage()))


@pytest.fixture
def progress():
    handler = Lines()
    logger = logging.getLogger("propulate.propulator")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(old)


def single_rank(tmp_path, generations, **kwargs):
    return one_propulator(tmp_path, generations=generations, seed=0, **kwargs)


PATTERN = re.compile(
    r"Island 0: (\d+)/(\d+) evaluations \((\d+)%\)(?:, \d+ running)?, best loss ([\d.e+-]+), "
    r"([\d.e+]+) evaluations/s, ETA (.+)$"
)


def test_progress_shows_done_expected_best_rate_and_eta(tmp_path, progress):
    propulator = single_rank(tmp_path, 20)
    propulator.propulate(logging_interval=5)
    info = [m for level, m in progress if level == logging.INFO and m.startswith("Island 0:")]
    assert len(info) == 4  # generations 5, 10, 15, 20
    bests = []
    for place, line in enumerate(info, start=1):
        match = PATTERN.match(line)
        assert match, line
        done, expected, percent = (int(match.group(i)) for i in (1, 2, 3))
        assert (done, expected, percent) == (5 * place, 20, 25 * place)
        assert float(match.group(5)) > 0
        bests.append(float(match.group(4)))
    assert bests == sorted(bests, reverse=True)  # the best so far never gets worse
    assert bests[-1] == pytest.approx(propulator.best(1)[0].loss, rel=1e-5)
    assert info[-1].endswith("ETA 0 ms")


def test_progress_counts_a_resumed_run_and_uses_a_time_budget(tmp_path, progress):
    single_rank(tmp_path, 10).propulate(logging_interval=0)
    assert progress == [] or all(not m.startswith("Island") for _, m in progress)
    single_rank(tmp_path, 20, time_budget=3600).propulate(logging_interval=10)
    (line,) = [m for _, m in progress if m.startswith("Island 0:")]
    assert line.startswith("Island 0: 20/20 evaluations (100%)")


def test_unbounded_runs_show_no_expected_total(tmp_path, progress):
    propulator = single_rank(tmp_path, -1, time_budget=0.3)
    propulator.propulate(logging_interval=1)
    lines = [m for _, m in progress if m.startswith("Island 0:")]
    assert lines and re.match(r"Island 0: \d+ evaluations, best loss", lines[0])
    assert "ETA" in lines[0]  # from the time budget


def test_only_the_first_worker_logs_progress_others_at_debug(tmp_path, progress):
    import threading

    network = LocalNetwork(2)
    workers = []
    for rank in range(2):
        rng = random.Random(rank)
        transport = network.transport(rank)
        workers.append(
            Propulator(
                sphere,
                get_default_propagator(4, LIMITS_3D, rng=rng),
                rng,
                generations=10,
                checkpoint_path=tmp_path,
                transport=transport,
                collectives=transport,
                rank=rank,
            )
        )
    threads = [
        threading.Thread(target=w.propulate, kwargs={"logging_interval": 5}, daemon=True)
        for w in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    info = [m for level, m in progress if level == logging.INFO and m.startswith("Island 0:")]
    debug = [m for level, m in progress if level == logging.DEBUG and m.startswith("Rank 1 ")]
    # Generations 5 and 10 of rank 0, then one per 5 results of rank 1 arriving after it is done.
    assert 2 <= len(info) <= 4 and all("/20 evaluations" in m for m in info)
    assert len(debug) == 2 and debug[-1].startswith("Rank 1 (island 0): generation 10/10")


def two_workers(tmp_path, losses, generations=10):
    network = LocalNetwork(2)
    workers = []
    for rank, loss in enumerate(losses):
        rng = random.Random(rank)
        transport = network.transport(rank)
        workers.append(
            Propulator(
                loss,
                get_default_propagator(4, LIMITS_3D, rng=rng),
                rng,
                generations=generations,
                checkpoint_path=tmp_path,
                transport=transport,
                collectives=transport,
                rank=rank,
            )  # fmt: skip
        )
    return workers


def run_threads(workers, **kwargs):
    import threading

    threads = [threading.Thread(target=w.propulate, kwargs=kwargs, daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()


def test_the_eta_counts_a_peer_still_training_after_the_first_worker_is_done(tmp_path, progress):
    import time

    def sleeping(seconds):
        def loss(params):
            time.sleep(seconds)
            return sphere(params)

        return loss

    run_threads(two_workers(tmp_path, [sleeping(0.05), sleeping(0.3)]), logging_interval=10)
    done, *waiting = [m for lv, m in progress if lv == logging.INFO and m.startswith("Island 0:")]
    # Rank 0 is done at generation 10 (0.5 s) while rank 1, at 0.3 s per evaluation, is at
    # generation 1 or 2: the island needs about 8 * 0.3 s more.
    assert ", 1 running," in done, done
    eta = re.search(r"ETA ([\d.]+) s$", done)
    assert eta and 1.0 < float(eta.group(1)) < 4.0, done
    # While it waits for rank 1, rank 0 goes on logging the island's progress, to the end.
    assert waiting and waiting[-1].startswith("Island 0: 20/20 evaluations (100%)"), waiting
    assert waiting[-1].endswith("ETA 0 ms")


def test_every_rank_shows_its_intermediate_values(tmp_path, progress):
    def train(params):
        for epoch in range(3):
            yield sphere(params) / (epoch + 1)

    run_threads(two_workers(tmp_path, [train, train], generations=2), epoch_seconds=0)
    epochs = [m for level, m in progress if level == logging.INFO and " · epoch " in m]
    for rank in (0, 1):
        mine = [m.split(" · ")[:3] for m in epochs if m.startswith(f"rank {rank} ")]
        expected = [[f"rank {rank}", f"ind {g}", f"epoch {e}"] for g in (0, 1) for e in (1, 2, 3)]
        assert mine == expected
    progress.clear()
    run_threads(two_workers(tmp_path, [train, train], generations=4))  # default: every 30 s
    epochs = [m for _, m in progress if " · epoch " in m]
    assert sorted(m.split(" · ")[0] for m in epochs) == ["rank 0", "rank 1"]


def test_a_bad_epoch_seconds_is_refused_before_the_run(tmp_path):
    from propulate.errors import PropulateError

    propulator = single_rank(tmp_path, 2)
    with pytest.raises(PropulateError, match=r"epoch_seconds.*-1"):
        propulator.propulate(epoch_seconds=-1)
    assert not list(tmp_path.iterdir())  # nothing locked, read or written
