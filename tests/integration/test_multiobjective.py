"""Several objectives through the real loop: storage, checkpoints, results, selection quality."""

from __future__ import annotations

import csv
import io
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from propulate import ConfigurationError, Propulator
from propulate.checkpoint import read_log
from propulate.cli import main as cli
from propulate.pareto import hypervolume
from propulate.population import Status
from propulate.propagators import SelectPareto
from propulate.results import format_summary, read_checkpoint, summarize_results
from propulate.utils import get_default_propagator

from .local_run import run_local

V2_LOG = Path(__file__).parent.parent / "data" / "v2_log"
LIMITS = {"x": (0.0, 1.0), "y": (0.0, 1.0), "act": ("relu", "tanh")}
DECLARED = {"accuracy": "maximize", "latency": "minimize"}


def trade_off(params):
    """A two-objective toy: accuracy grows with x, latency too; "tanh" costs latency."""
    accuracy = params["x"] - 0.1 * params["y"]
    latency = params["x"] ** 2 + params["y"] + (0.3 if params["act"] == "tanh" else 0.0)
    return {"accuracy": accuracy, "latency": latency}


def test_a_declared_run_stores_both_objectives_and_resumes_them(tmp_path):
    ranks = run_local(2, tmp_path, trade_off, generations=12, limits=LIMITS, objectives=DECLARED)
    population = ranks[0].population
    assert len(population) == 24 and all(i.status == Status.OK for i in population)
    for ind in population:
        accuracy = ind["x"] - 0.1 * ind["y"]
        assert ind.losses == pytest.approx((-accuracy, trade_off(ind)["latency"]))
        assert ind.loss == ind.losses[0]  # the first objective, in minimization sign
    header, logged, _, _ = read_log(tmp_path / "island-0-rank-0.ckpt")
    assert header["format_version"] == 3
    assert header["objectives"] == [
        {"name": "accuracy", "direction": "maximize"},
        {"name": "latency", "direction": "minimize"},
    ]
    assert all(ind.losses is not None and len(ind.losses) == 2 for ind in logged)
    # Resumed: every vector comes back from the checkpoint as it was.
    before = {ind.key: ind.losses for ind in population}
    again = run_local(2, tmp_path, trade_off, generations=14, limits=LIMITS, objectives=DECLARED)
    after = {ind.key: ind.losses for ind in again[0].population}
    assert len(after) == 28 and all(after[key] == losses for key, losses in before.items())
    # Results show the user's values: accuracy as returned, not negated.
    data = read_checkpoint(tmp_path)
    assert data.objectives.to_header() == header["objectives"]
    record = data.records[0]
    assert record["objectives"]["accuracy"] == pytest.approx(-record["losses"][0])
    assert record["objectives"]["latency"] == pytest.approx(record["losses"][1])


def test_an_undeclared_tuple_minimizes_every_value(tmp_path):
    ranks = run_local(1, tmp_path, lambda p: (p["x"], 1 - p["x"]), generations=6, limits=LIMITS)
    assert all(i.losses == (i["x"], 1 - i["x"]) for i in ranks[0].population)
    assert read_checkpoint(tmp_path).records[0]["objectives"].keys() == {
        "objective_0",
        "objective_1",
    }


def test_a_result_that_does_not_match_fails_the_evaluation(tmp_path):
    def wrong(params):
        return (1.0, 2.0, 3.0) if params["x"] < 0.5 else (params["x"], params["y"])

    ranks = run_local(1, tmp_path, wrong, generations=20, limits=LIMITS, objectives=["a", "b"])
    failed = [i for i in ranks[0].population if i["x"] < 0.5]
    assert failed and all(i.status == Status.FAILED and i.loss == math.inf for i in failed)
    assert all(i.losses is None for i in failed)
    assert "3 value(s)" in failed[0].error and "(a, b)" in failed[0].error
    summary = summarize_results(read_checkpoint(tmp_path).records)
    assert summary.failed == len(failed)


def test_a_bad_declaration_is_refused_by_the_constructor():
    with pytest.raises(ConfigurationError, match=r"Propulator: objectives\['a'\]='best'"):
        Propulator(trade_off, get_default_propagator(4, LIMITS), objectives={"a": "best"})


def test_a_log_written_before_format_3_is_read_and_resumed(tmp_path):
    data = read_checkpoint(V2_LOG)
    assert [r["params"]["x"] for r in data.records] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert [r["status"] for r in data.records].count(Status.FAILED) == 1
    assert all(r["objectives"] is None and r["losses"] is None for r in data.records)
    assert not data.objectives.is_declared
    assert "Best" in format_summary(summarize_results(data.records))
    # A run resumes it and appends in its format.
    folder = tmp_path / "old"
    shutil.copytree(V2_LOG, folder)
    space = {"x": (-5.0, 5.0), "act": ("relu", "tanh")}
    ranks = run_local(1, folder, lambda p: p["x"] ** 2, generations=8, limits=space)
    assert len(ranks[0].population) == 8
    header, logged, _, _ = read_log(folder / "island-0-rank-0.ckpt")
    assert header["format_version"] == 2 and len(logged) == 8


def test_summary_and_export_show_the_front_and_one_column_per_objective(tmp_path, capsys):
    run_local(2, tmp_path, trade_off, generations=15, limits=LIMITS, objectives=DECLARED)
    records = read_checkpoint(tmp_path).records
    summary = summarize_results(records)
    front = summary.front
    assert front
    points = np.array([r["losses"] for r in records if r["status"] == Status.OK])
    for r in front:  # nothing dominates a member of the front
        assert not np.any(np.all(points <= r["losses"], axis=1) & np.any(points < r["losses"], 1))
    text = format_summary(summary)
    assert f"Pareto front: {len(front)} individual" in text
    header_line = next(line for line in text.splitlines() if "accuracy" in line)
    assert header_line.split()[:3] == ["#", "accuracy", "latency"]
    assert cli(["summary", str(tmp_path)]) == 0
    assert "Pareto front" in capsys.readouterr().out
    target = tmp_path / "out.csv"
    assert cli(["export", str(tmp_path), "--csv", str(target)]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert list(rows[0])[4:7] == ["loss", "accuracy", "latency"]
    for row, record in zip(rows, records, strict=True):
        assert float(row["accuracy"]) == pytest.approx(record["objectives"]["accuracy"])
        assert float(row["accuracy"]) == pytest.approx(-float(row["loss"]))


def test_one_maximized_objective_is_shown_as_the_users_metric(tmp_path):
    run_local(1, tmp_path, lambda p: p["x"], generations=6, limits=LIMITS,
              objectives={"accuracy": "maximize"})  # fmt: skip
    records = read_checkpoint(tmp_path).records
    summary = summarize_results(records, top_n=2)
    text = format_summary(summary)
    best = max(r["params"]["x"] for r in records)
    assert not summary.front and summary.best[0]["objectives"]["accuracy"] == best
    header_line = next(line for line in text.splitlines() if line.strip().startswith("#"))
    assert header_line.split()[1] == "accuracy" and f"{best:.6g}" in text


def _zdt1(params):
    x = np.array([params[f"x{i}"] for i in range(5)])
    g = 1.0 + 9.0 * x[1:].mean()
    return (x[0], g * (1.0 - math.sqrt(x[0] / g)))


ZDT_LIMITS = {f"x{i}": (0.0, 1.0) for i in range(5)}
REFERENCE = (1.1, 6.0)


def test_the_default_propagator_beats_random_search_on_two_objectives(tmp_path):
    """4 ranks x 75 evaluations of ZDT1 (5 variables) against 300 random points, 3 seeds.

    Measured over seeds 0-4 (hypervolume, reference (1.1, 6)): ours 5.71-6.11, random search
    4.59-5.19. The bound, 5.45, lies between the worst of ours and the best of random search.
    """
    for seed in range(3):
        ranks = run_local(4, tmp_path / str(seed), _zdt1, generations=75, limits=ZDT_LIMITS,
                          seed=seed)  # fmt: skip
        ours = hypervolume([i.losses for i in ranks[0].population], REFERENCE)
        rng = random.Random(seed)
        randoms = [_zdt1({n: rng.random() for n in ZDT_LIMITS}) for _ in range(300)]
        assert hypervolume(randoms, REFERENCE) < 5.45 < ours


def test_the_default_propagator_selects_by_pareto_rank():
    propagator = get_default_propagator(4, ZDT_LIMITS)
    selections = [s for s in propagator.true_prop.propagator.stages()[0].stages()]
    assert isinstance(selections[0], SelectPareto)


def test_the_default_propagator_breeds_with_tpe_for_several_objectives_only(monkeypatch):
    from propulate.population import Individual
    from propulate.propagators import TPE
    from propulate.propagators.cmaes import CMAPropagator

    propagator = get_default_propagator(4, ZDT_LIMITS, rng=random.Random(0), cma_share=1.0)
    assert not propagator.wants_pending  # single-objective runs announce no evaluation starts
    rng = random.Random(1)
    inds = []
    for generation in range(12):
        ind = Individual({n: rng.random() for n in ZDT_LIMITS}, ZDT_LIMITS)
        ind.worker, ind.generation, ind.status = 0, generation, "ok"
        ind.losses = _zdt1(ind)
        ind.loss = ind.losses[0]
        inds.append(ind)
        propagator.tell(ind)
    calls: list[str] = []
    for cls in (TPE, CMAPropagator):

        def spy(self, population, _original=cls.__call__, _name=cls.__name__):
            calls.append(_name)
            return _original(self, population)

        monkeypatch.setattr(cls, "__call__", spy)
    propagator(inds)
    for ind in inds:
        ind.losses = None  # the same population with one objective
    propagator(inds)
    assert calls == ["TPE", "CMAPropagator"]


def test_islands_refuse_a_bad_declaration_before_splitting_the_world(monkeypatch):
    import propulate.comm.topology as topology
    from propulate import Islands

    def no_split(*args, **kwargs):
        raise AssertionError("the communicators were split before the check")

    monkeypatch.setattr(topology, "split_world", no_split)
    with pytest.raises(ConfigurationError, match=r"Islands: objectives=\[\] must name at least"):
        Islands(trade_off, get_default_propagator(4, LIMITS), objectives=[])


def test_plots_of_the_front_and_of_the_hypervolume(tmp_path):
    pytest.importorskip("matplotlib")
    from propulate import plots
    from propulate.plots.front import hypervolume_history

    run_local(2, tmp_path, trade_off, generations=15, limits=LIMITS, objectives=DECLARED)
    data = read_checkpoint(tmp_path)
    figures, skipped = plots.make_figures(data, x="evaluations")
    assert {"pareto_front", "hypervolume"} <= set(figures)
    ax = figures["pareto_front"].axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("accuracy", "latency")
    dominated, front = (c.get_offsets() for c in ax.collections)
    assert len(dominated) + len(front) == 30
    assert len(front) == len(summarize_results(data.records).front)
    times, volumes, reference = hypervolume_history(data.records)
    assert np.all(np.diff(volumes) >= 0) and volumes[-1] > volumes[0]
    final = hypervolume([r["losses"] for r in data.records], reference)
    assert volumes[-1] == pytest.approx(final)
    line = figures["hypervolume"].axes[0].lines[0]
    assert line.get_ydata()[-1] == pytest.approx(final)
    # One objective: the two plots are skipped when asked for, left out otherwise.
    run_local(1, tmp_path / "one", lambda p: p["x"], generations=4, limits=LIMITS)
    figures, skipped = plots.make_figures(tmp_path / "one", kinds=["history", "pareto_front"])
    assert set(figures) == {"history"} and "one objective" in skipped["pareto_front"]
    assert "hypervolume" not in plots.make_figures(tmp_path / "one")[0]


def test_the_console_shows_a_maximized_objective_in_the_users_sign(tmp_path, caplog):
    from propulate.comm.local import LocalNetwork

    from .local_run import LIMITS_3D

    def accuracy(params):  # a generator's values are the objective's, its last the result
        yield 0.25
        yield 1.0 - 0.01 * sum(v * v for v in params.values())

    transport = LocalNetwork(1).transport(0)
    rng = random.Random(0)
    propulator = Propulator(accuracy, get_default_propagator(4, LIMITS_3D, rng=rng), rng,
                            generations=4, checkpoint_path=tmp_path, transport=transport,
                            collectives=transport, rank=0,
                            objectives={"accuracy": "maximize"})  # fmt: skip
    caplog.set_level("INFO", logger="propulate")
    propulator.propulate(logging_interval=1, epoch_seconds=0)
    best = max(1.0 - 0.01 * sum(v * v for v in ind.values()) for ind in propulator.population)
    progress = [r.getMessage() for r in caplog.records if "evaluations (" in r.getMessage()]
    assert progress and f"best accuracy {best:.6g}" in progress[-1]
    epochs = [r.getMessage() for r in caplog.records if "epoch 1" in r.getMessage()]
    assert len(epochs) == 4 and all("accuracy 0.25 " in line for line in epochs)


def test_tpe_with_two_objectives_beats_random_search(tmp_path):
    """TPE ranks by Pareto front with several objectives: same problem and bound as above.

    Measured over seeds 0-4: TPE 5.70-6.13; random search 4.59-5.19; TPE ranking by the first
    objective only (as before) 3.36-4.78.
    """
    from propulate.propagators import TPE

    for seed in range(3):
        ranks = run_local(4, tmp_path / str(seed), _zdt1, generations=75, limits=ZDT_LIMITS,
                          seed=seed,
                          make_propagator=lambda rank, rng: TPE(ZDT_LIMITS, rng=rng))  # fmt: skip
        ours = hypervolume([i.losses for i in ranks[0].population], REFERENCE)
        rng = random.Random(seed)
        randoms = [_zdt1({n: rng.random() for n in ZDT_LIMITS}) for _ in range(300)]
        assert hypervolume(randoms, REFERENCE) < 5.45 < ours
