"""Each evaluation's host is recorded (a session record per job and rank); the summary per host."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from propulate.checkpoint import log_files, scan_log
from propulate.cli import main
from propulate.log_format import parse_header, scan_frames
from propulate.records import KIND_SESSION
from propulate.results import format_summary, load_results, summarize_hosts, summarize_results

from .local_run import run_local
from .test_islands_local import run_islands

LOG = "island-0-rank-0.ckpt"


def failing(params: Any) -> float:
    raise RuntimeError("CUDA error: an illegal memory access was encountered")


def _two_jobs(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job of 6 evaluations on node-a, then a resumed one of 6 more on node-b, which fail."""
    monkeypatch.setattr(socket, "gethostname", lambda: "node-a")
    run_local(1, folder, generations=6)
    monkeypatch.setattr(socket, "gethostname", lambda: "node-b")
    run_local(1, folder, loss_fn=failing, generations=12)


def test_every_evaluation_knows_its_host_at_one_record_per_job(tmp_path, monkeypatch):
    _two_jobs(tmp_path, monkeypatch)
    contents = scan_log(tmp_path / LOG)
    assert [session["host"] for _, session in contents.sessions] == ["node-a", "node-b"]
    assert [first for first, _ in contents.sessions] == [0, 6]
    records = sorted(load_results(tmp_path), key=lambda r: r["generation"])
    assert [r["host"] for r in records] == ["node-a"] * 6 + ["node-b"] * 6
    assert all(r["status"] == "failed" for r in records if r["host"] == "node-b")


def test_the_summary_shows_failures_and_durations_per_host_and_flags_the_bad_one(
    tmp_path, monkeypatch, capsys
):
    _two_jobs(tmp_path, monkeypatch)
    hosts = {h.host: h for h in summarize_hosts(load_results(tmp_path))}
    assert (hosts["node-a"].evaluations, hosts["node-a"].failed, hosts["node-a"].note) == (6, 0, "")
    assert (hosts["node-b"].evaluations, hosts["node-b"].failed) == (6, 6)
    assert hosts["node-b"].note == "many failures"
    assert main(["summary", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    table = out.split("Hosts:\n")[1].splitlines()
    assert table[0].split()[:4] == ["host", "ranks", "evaluations", "failed"]
    assert table[1].split()[:4] == ["node-a", "1", "6", "0"]
    assert table[2].split()[:4] == ["node-b", "1", "6", "6"] and "<- many failures" in table[2]


def test_a_slow_host_stands_out():
    records = [
        {"host": host, "rank": rank, "status": "ok", "duration": duration}
        for host, rank, duration in [("a", 0, 1.0)] * 5 + [("b", 1, 1.1)] * 5 + [("c", 2, 5.0)] * 5
    ]
    notes = {h.host: h.note for h in summarize_hosts(records)}
    assert notes == {"a": "", "b": "", "c": "slow"}


def test_logs_without_session_records_still_load_without_hosts(tmp_path):
    """A log written before hosts were recorded: every record loads, the host is unknown."""
    run_local(1, tmp_path, generations=5)
    path = tmp_path / LOG
    data = path.read_bytes()
    _, start = parse_header(data, path)
    frames = [(first - 8, end + 4) for first, end in scan_frames(data, start, 2)]
    old = data[:start] + b"".join(
        data[a:b] for a, b in frames if data[a + 8] != KIND_SESSION
    )  # the same log without its session record
    assert len(old) < len(data)
    path.write_bytes(old)
    records = load_results(tmp_path)
    assert len(records) == 5 and all(r["host"] is None for r in records)
    summary = summarize_results(records)
    assert summary.hosts == [] and "Hosts:" not in format_summary(summary)


def test_the_host_of_an_individual_comes_from_the_log_of_the_rank_that_evaluated_it(
    tmp_path, monkeypatch
):
    """A rank also logs other ranks' individuals (migrants); those never take its host."""
    # Each rank runs in a thread of its own: the thread's name stands for the rank's host.
    monkeypatch.setattr(socket, "gethostname", lambda: threading.current_thread().name)
    run_islands(tmp_path, (2, 2), pollination=False, generations=15)
    host_of_rank = {}
    copies = 0
    for path in log_files(tmp_path):
        contents = scan_log(path)
        ((_, session),) = contents.sessions
        host_of_rank[contents.header["rank"]] = session["host"]
        copies += sum(ind.worker != contents.header["rank"] for ind in contents.individuals)
    assert copies > 0  # migrants were logged by ranks that did not evaluate them
    assert len(set(host_of_rank.values())) == 4
    records = load_results(tmp_path)
    assert len(records) == 60
    for record in records:
        assert record["host"] == host_of_rank[record["rank"]], record
