"""Reading results from checkpoint folders: records, DataFrames, summaries, importance."""

from __future__ import annotations

import logging
import math
import random
import shutil
import sys
import threading
import time

import pytest

from propulate.checkpoint import log_files, read_log
from propulate.errors import CheckpointError
from propulate.population import Status
from propulate.reporting import format_duration
from propulate.results import (
    format_summary,
    load_dataframe,
    load_results,
    parameter_importance,
    read_checkpoint,
    summarize_results,
)
from propulate.search_space import SearchSpace

from ..integration.local_run import run_local
from .results_data import (
    EPOCHS,
    EVALUATIONS,
    FAILED_KEY,
    GENERATIONS,
    LIMITS,
    RANKS,
    T0,
    make_islands,
    make_run,
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run"))


@pytest.fixture
def islands_dir(tmp_path):
    return make_islands(tmp_path / "islands")


class CapturedWarnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def propulate_log():
    """Everything the propulate loggers emit (they may not propagate to caplog's root handler)."""
    handler = CapturedWarnings()
    logger = logging.getLogger("propulate")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_real_run_reads_back_complete_and_consistent(run_dir):
    records = load_results(run_dir)
    assert len(records) == EVALUATIONS
    keys = {(r["rank"], r["generation"]) for r in records}
    assert keys == {(rank, g) for rank in range(RANKS) for g in range(GENERATIONS)}
    space = SearchSpace(LIMITS)
    for r in records:
        assert r["island"] == 0
        assert set(r["params"]) == set(LIMITS)
        assert all(space[name].contains(value) for name, value in r["params"].items())
        assert r["start"] == pytest.approx(r["end"] - r["duration"])
        assert 0 <= r["duration"] < 5
        if (r["rank"], r["generation"]) == FAILED_KEY:
            assert r["status"] == Status.FAILED
            assert r["loss"] == math.inf
            assert "boom" in r["error"]
        else:
            assert r["status"] == Status.OK and r["error"] is None
            assert len(r["curve"]) == EPOCHS
            assert r["curve"][-1] == r["loss"]  # the last yielded value is the loss
    ends = [r["end"] for r in records]
    assert ends == sorted(ends)


def test_read_checkpoint_returns_the_search_space_and_files(run_dir):
    data = read_checkpoint(run_dir)
    assert data.search_space == SearchSpace(LIMITS)
    assert data.files == log_files(run_dir)
    assert len(data.files) == RANKS
    assert data.torn == []


def test_a_single_log_file_can_be_read(run_dir):
    first = log_files(run_dir)[0]
    records = load_results(first)
    assert len(records) == GENERATIONS
    assert {r["rank"] for r in records} == {0}


def test_summary_counts_times_and_ranks(islands_dir):
    summary = summarize_results(load_results(islands_dir), top_n=3)
    assert (summary.evaluations, summary.ok, summary.failed, summary.pruned) == (7, 5, 1, 1)
    assert summary.workers == 3
    assert [
        (i.island, i.workers, i.evaluations, i.ok, i.failed, i.pruned) for i in summary.islands
    ] == [
        (0, 2, 5, 3, 1, 1),
        (1, 1, 2, 2, 0, 0),
    ]
    assert [i.best_loss for i in summary.islands] == [1.0, 0.5]
    assert summary.first_start == T0 and summary.last_end == T0 + 1003
    assert summary.span == pytest.approx(1003)
    # The 997 s in which nothing ran (a stop and a resume) is not run time.
    assert summary.run_time == pytest.approx(6.0)
    assert summary.evaluations_per_second == pytest.approx(7 / 6)
    assert summary.compute_time == pytest.approx(9.5)
    assert summary.utilization == pytest.approx(9.5 / (3 * 6))
    # Distinct hyperparameters only: losses 2.0 and 3.0 repeat the values of the 0.5 one.
    assert [r["loss"] for r in summary.best] == [0.5, 1.0, 4.0]


def test_summary_of_a_real_run(run_dir):
    records = load_results(run_dir)
    summary = summarize_results(records, top_n=2)
    assert (summary.evaluations, summary.ok, summary.failed) == (EVALUATIONS, EVALUATIONS - 1, 1)
    assert summary.workers == RANKS
    assert summary.run_time == pytest.approx(summary.span)  # no pause
    assert summary.evaluations_per_second > 0
    assert 0 < summary.utilization <= 1.0 + 1e-9
    assert summary.best[0]["loss"] == min(r["loss"] for r in records)
    assert summary.best[0]["loss"] <= summary.best[1]["loss"]


def test_format_summary_shows_the_numbers(islands_dir):
    text = format_summary(summarize_results(load_results(islands_dir), top_n=2), title="T")
    assert text.splitlines()[0] == "T"
    assert "Evaluations: 7 (ok 5, failed 1, pruned 1) by 3 workers on 2 islands" in text
    assert "paused 16 min 37 s" in text
    assert "1.17 evaluations/s" in text
    assert "Best 2:" in text
    table = text[text.index("Best 2:") :].splitlines()
    assert table[1].split() == ["#", "loss", "island", "rank", "generation", *LIMITS]
    assert table[2].split()[:5] == ["1", "0.5", "1", "2", "0"]


def test_summary_of_nothing():
    summary = summarize_results([])
    assert summary.evaluations == 0 and summary.best == [] and math.isnan(summary.first_start)
    assert "Evaluations: 0" in format_summary(summary)


def test_format_duration():
    assert format_duration(0.25) == "250 ms"
    assert format_duration(42) == "42.0 s"
    assert format_duration(200) == "3 min 20 s"
    assert format_duration(7500) == "2 h 05 min"
    assert format_duration(math.nan) == "n/a"


def test_missing_and_empty_folders_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint folder at"):
        load_results(tmp_path / "nope")
    with pytest.raises(CheckpointError, match=r"holds no Propulate checkpoint logs"):
        load_results(tmp_path)


def test_an_empty_parent_folder_points_to_the_subfolders_with_logs(tmp_path, islands_dir):
    with pytest.raises(CheckpointError, match="these subfolders hold logs: .*islands"):
        load_results(tmp_path)


def test_a_torn_last_record_is_skipped_silently(islands_dir, propulate_log):
    path = log_files(islands_dir)[0]
    before = load_results(islands_dir)
    with path.open("ab") as stream:
        stream.write(b"\x40\x00\x00\x00half a rec")  # a frame cut short by a crash or a live writer
    data = read_checkpoint(islands_dir)
    assert data.records == before
    assert data.torn == [path]
    assert not [r for r in propulate_log if r.levelno >= logging.WARNING]


def test_every_truncation_of_a_log_reads_as_a_prefix(run_dir, tmp_path):
    source = log_files(run_dir)[0]
    full = load_results(source)
    data = source.read_bytes()
    target = tmp_path / source.name
    counts = []
    for cut in range(0, len(data) + 1, 7):
        target.write_bytes(data[:cut])
        records = load_results(target)
        assert records == full[: len(records)]
        counts.append(len(records))
    assert counts == sorted(counts) and counts[-1] >= len(full) - 1


def test_reading_while_a_run_is_writing(tmp_path):
    def slow(params):
        time.sleep(0.002)
        return sum(float(v) ** 2 for v in params.values())

    done = threading.Event()
    errors = []

    def run():
        try:
            run_local(2, tmp_path, loss_fn=slow, generations=60)
        except BaseException as error:  # noqa: BLE001  # checked below
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    seen = []
    while not done.is_set():
        try:
            seen.append(len(load_results(tmp_path)))
        except CheckpointError:
            seen.append(0)  # before the first log exists
        time.sleep(0.005)
    thread.join(30)
    assert not errors
    assert seen == sorted(seen)  # records only ever appear
    assert any(0 < count < 120 for count in seen)  # some reads happened mid-run
    assert len(load_results(tmp_path)) == 120


def test_a_log_with_only_a_header_or_nothing_yet(tmp_path, islands_dir):
    shutil.copy(log_files(islands_dir)[0], tmp_path / "island-0-rank-0.ckpt")
    (tmp_path / "island-0-rank-7.ckpt").write_bytes(b"")  # created, nothing written yet
    (tmp_path / "island-0-rank-8.ckpt").write_bytes(b"PROPULATE-LOG\n\x05")  # torn header
    data = read_checkpoint(tmp_path)
    assert len(data.records) == 3
    assert len(data.files) == 3


def test_a_foreign_file_with_a_log_name_is_an_error(tmp_path):
    (tmp_path / "island-0-rank-0.ckpt").write_bytes(b"not a propulate log at all")
    with pytest.raises(CheckpointError, match="not a Propulate checkpoint log"):
        load_results(tmp_path)


def test_load_dataframe(run_dir):
    pd = pytest.importorskip("pandas")
    frame = load_dataframe(run_dir)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == EVALUATIONS
    assert [c for c in frame.columns if c.startswith("params_")] == [f"params_{n}" for n in LIMITS]
    assert frame["params_n"].dtype.kind == "i"
    assert set(frame["status"]) == {Status.OK, Status.FAILED}
    assert frame.loc[frame["status"] == Status.FAILED, "loss"].tolist() == [math.inf]
    assert (frame["end"] - frame["start"] - frame["duration"]).abs().max() < 1e-6
    assert frame.equals(load_dataframe(load_results(run_dir)))


def test_load_dataframe_without_pandas_says_what_to_install(run_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas: pip install pandas"):
        load_dataframe(run_dir)


def _synthetic(n, loss):
    rng = random.Random(1)
    records = []
    for _ in range(n):
        params = {
            "x": rng.uniform(-1, 1),
            "lr": 10 ** rng.uniform(-4, -1),
            "n": rng.randint(1, 4),
            "act": rng.choice(["relu", "tanh"]),
        }
        records.append({"params": params, "loss": loss(params), "status": Status.OK})
    return records


def test_importance_finds_the_parameter_that_matters():
    records = _synthetic(400, lambda p: p["x"] ** 2)
    importance = parameter_importance(records, SearchSpace(LIMITS))
    assert list(importance) == list(LIMITS)
    assert importance["x"] > 0.5
    assert all(importance[name] < 0.05 for name in ("lr", "n", "act"))


def test_importance_handles_categorical_log_and_failed():
    def loss(p):
        if p["n"] == 4:
            return math.inf  # failed: ranks last
        return (1.0 if p["act"] == "tanh" else 0.0) + 0.01 * abs(math.log10(p["lr"]) + 2)

    importance = parameter_importance(_synthetic(400, loss), SearchSpace(LIMITS))
    assert importance["act"] > 0.2
    assert importance["n"] > 0.2
    assert importance["x"] < 0.05


def test_importance_needs_ten_evaluations_and_variation():
    assert all(
        math.isnan(v) for v in parameter_importance(_synthetic(9, lambda p: p["x"])).values()
    )
    flat = parameter_importance(_synthetic(50, lambda p: 1.0))
    assert all(math.isnan(v) for v in flat.values())
    with pytest.raises(ValueError, match="bins=1"):
        parameter_importance(_synthetic(50, lambda p: p["x"]), bins=1)


@pytest.mark.parametrize("pollination", [False, True])
def test_island_runs_with_migration_read_back_once_per_evaluation(tmp_path, pollination):
    from ..integration.test_islands_local import run_islands

    generations = 15
    plan, workers = run_islands(tmp_path, [2, 2], pollination, generations=generations)
    records = load_results(tmp_path)
    keys = [(r["rank"], r["generation"]) for r in records]
    assert len(keys) == len(set(keys)) == 4 * generations
    # Migration wrote more records than there were evaluations: each is read back once.
    raw = sum(len(read_log(p)[1]) for p in log_files(tmp_path))
    if not pollination:
        assert raw > len(records)
        assert any(r["migration_steps"] > 0 for r in records)
    summary = summarize_results(records)
    assert [(i.island, i.workers, i.evaluations) for i in summary.islands] == [
        (0, 2, 2 * generations),
        (1, 2, 2 * generations),
    ]
    # Each record's activity is what the workers hold at the end: active if some island (all
    # of whose workers agree) still breeds with it.
    views = {}
    for worker in workers:
        views.setdefault(worker.island_idx, {ind.key: ind for ind in worker.population})
    for r in records:
        key = (r["rank"], r["generation"])
        held = [view[key] for view in views.values() if key in view]
        assert r["active"] == any(ind.active for ind in held), (key, r, held)
        assert r["migration_steps"] == max(ind.migration_steps for ind in held)
    moved = [r for r in records if r["migration_steps"] > 0]
    if pollination:
        # Copies arrived (held by both islands) and victims were deactivated (steps > 0).
        held_twice = [
            r
            for r in records
            if sum((r["rank"], r["generation"]) in v for v in views.values()) == 2
        ]
        assert held_twice and moved
    else:
        assert moved and any(r["active"] for r in moved)  # emigrants live on elsewhere
        assert sum(r["active"] for r in records) == sum(
            sum(ind.active for ind in view.values()) for view in views.values()
        )  # real migration: active on at most one island
