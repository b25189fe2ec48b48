"""Each early-stopping rule against synthetic learning curves whose fate is known in advance."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from propulate import (
    ASHA,
    ConfigurationError,
    DynamicSurrogate,
    Individual,
    MedianStoppingRule,
    StaticSurrogate,
    Surrogate,
)
from propulate.population import Status
from propulate.surrogate import EarlyStopping
from propulate.surrogate.base import run_data
from propulate.surrogate.dynamic import geometric_extrapolation

LIMITS = {"x": (0.0, 1.0)}


def drive(surrogate: Surrogate, curve, x: float = 0.5) -> int | None:
    """Feed ``curve`` as the loop does; return the step at which it was stopped (or None)."""
    surrogate.start_run(Individual({"x": x}, LIMITS))
    for step, value in enumerate(curve, start=1):
        if surrogate.cancel(value):
            surrogate.update(value)
            return step
    surrogate.update(curve[-1])
    return None


# ----- StaticSurrogate ---------------------------------------------------------------------------
def test_static_stops_runs_behind_the_best_curve_by_the_margin():
    s = StaticSurrogate(margin=0.8)
    assert drive(s, [10, 8, 6, 5]) is None  # the first run always completes: the baseline
    # step 1: 12 <= 10 / 0.8 = 12.5 goes on; step 2: 10.5 > 8 / 0.8 = 10 stops.
    assert drive(s, [12, 10.5, 9, 8]) == 2
    assert drive(s, [12.4, 9.9, 7.4, 6]) is None  # always within 25 %: completes
    assert s.baseline.tolist() == [10, 8, 6, 5]  # completed, but worse: not the baseline
    assert drive(s, [9, 7, 5, 4]) is None  # better: the new baseline
    assert s.baseline.tolist() == [9, 7, 5, 4]
    assert drive(s, [11.5, 8, 6, 4.5]) == 1  # 11.5 > 9 / 0.8 = 11.25


def test_static_margin_one_tolerates_nothing_and_negative_losses_loosen_the_right_way():
    s = StaticSurrogate(margin=1.0)
    drive(s, [3, 2, 1])
    assert drive(s, [3, 2.0001, 0.5]) == 2
    neg = StaticSurrogate(margin=0.8)
    drive(neg, [-0.5, -0.8, -0.9])  # e.g. negative accuracies
    # -0.5 loosened by 25 % of its magnitude is -0.375.
    assert drive(neg, [-0.3, -0.9, -0.95]) == 1
    assert drive(neg, [-0.4, -0.9, -0.95]) is None


def test_static_does_not_stop_past_the_baseline_and_learns_from_peers():
    a, b = StaticSurrogate(), StaticSurrogate()
    drive(a, [10, 5])
    b.merge(json.loads(json.dumps(a.data())))  # what travels between ranks
    assert b.baseline.tolist() == [10, 5]
    worse = {"params": {"x": 0.1}, "curve": [20, 15], "loss": 15, "status": Status.OK}
    b.merge(worse)  # Propulate 1.2 replaced the baseline with a worse run here
    assert b.baseline.tolist() == [10, 5]
    assert drive(b, [11, 5.5, 50, 60]) is None  # longer than the baseline: never stopped there


def test_nothing_is_stopped_before_the_first_completed_run():
    for surrogate in (StaticSurrogate(), MedianStoppingRule(min_runs=1), DynamicSurrogate(LIMITS)):
        assert drive(surrogate, [100.0, 100.0, 100.0]) is None


# ----- MedianStoppingRule ------------------------------------------------------------------------
def test_median_rule_known_answers():
    s = MedianStoppingRule(warmup_steps=1, min_runs=3)
    for curve in ([10, 8, 6, 4], [12, 9, 7, 5], [11, 10, 8, 6]):
        assert drive(s, curve) is None
    assert s.median(2) == 9
    assert drive(s, [50, 9.5, 1, 1]) == 2  # step 1 is warm-up; 9.5 > median 9 at step 2
    # Step 2 now also holds the pruned run's 9.5: median of 8, 9, 9.5, 10 is 9.25.
    assert s.median(2) == 9.25
    assert drive(s, [50, 9.2, 6.9, 100]) is None  # 9.2 < 9.25, 6.9 < 7; step 4 ends a run
    assert drive(s, [11, 9, 7.5, 1]) == 3  # step 3: median of 6, 7, 6.9, 8 is 6.95


def test_median_rule_waits_for_min_runs_and_warmup():
    s = MedianStoppingRule(warmup_steps=2, min_runs=3)
    drive(s, [1, 1, 1, 1])
    drive(s, [2, 2, 2, 2])
    assert drive(s, [9, 9, 9, 9]) is None  # only 2 completed runs so far
    assert drive(s, [9, 9, 9, 9]) == 3  # steps 1 and 2 are warm-up


def test_median_rule_learns_from_peer_records():
    a, b = MedianStoppingRule(min_runs=2), MedianStoppingRule(min_runs=2)
    for curve in ([4, 3, 2], [6, 5, 4]):
        drive(a, curve)
        b.merge(a.data())
    assert b.completed_runs == 2 and b.median(1) == 5
    ind = Individual({"x": 0.2}, LIMITS)
    ind.loss, ind.status, ind.curve = 7.0, Status.PRUNED, [7.0]
    b.merge(b.result_data(ind))  # a pruned peer: counted at the steps it reached only
    assert b.completed_runs == 2 and b.median(1) == 6 and b.median(2) == 4


# ----- ASHA -------------------------------------------------------------------------------------
def test_asha_rungs():
    asha = ASHA(min_resource=2, reduction_factor=3, max_resource=50)
    assert asha.rung_steps(100) == [2, 6, 18]
    assert [s for s in range(1, 60) if asha._is_rung(s)] == [2, 6, 18]


def test_asha_known_answers():
    asha = ASHA(min_resource=1, reduction_factor=2, max_resource=8)  # rungs 1, 2, 4
    assert drive(asha, [8, 7, 6, 5, 4, 3, 2, 1]) is None  # first at every rung
    assert drive(asha, [9, 1, 1, 1, 1, 1, 1, 1]) == 1  # 2 at rung 1: only the best goes on
    assert drive(asha, [7.5, 6.5, 5.5, 4.5, 4, 3, 2, 0.5]) is None  # best at every rung
    # Rung 1 holds 7.5, 8, 9 (+ 8.5): the best 4 // 2 = 2 go on; 8.5 is third.
    assert drive(asha, [8.5, 1, 1, 1, 1, 1, 1, 1]) == 1
    # Rung 1: 7.8 is second of 5 (best 2 go on); rung 2 holds 6.5, 7 (+ 6.9): only the best.
    assert drive(asha, [7.8, 6.9, 1, 1, 1, 1, 1, 1]) == 2
    assert drive(asha, [7.0, 6.0, 5.0, 4.9, 1, 1, 1, 1]) == 4  # rung 4: 4.9 vs 4.5, 5


def test_asha_learns_the_full_length_and_never_stops_a_complete_run():
    asha = ASHA(min_resource=1, reduction_factor=3)  # no max_resource: learned
    assert drive(asha, [5, 4, 3]) is None
    assert asha.full_length == 3
    # Step 3 is a rung (1 * 3), but a run of 3 steps is complete there: never stopped.
    assert drive(asha, [4, 3.5, 100]) is None


# ----- DynamicSurrogate -------------------------------------------------------------------------
def decay(x: float, steps: int = 12) -> list[float]:
    """Exponential decay from 10 to the asymptote 1 + 4 x."""
    asymptote = 1 + 4 * x
    return [asymptote + (10 - asymptote) * math.exp(-t / 3) for t in range(1, steps + 1)]


def test_dynamic_surrogate_stops_runs_predicted_to_end_badly():
    s = DynamicSurrogate(LIMITS, margin=0.8, min_runs=5)
    for x in np.linspace(0.0, 1.0, 8):
        assert drive(s, decay(x), x) is None  # not before min_runs; then all close enough...
        if x > 0.5:
            break
    # The best final loss is ~1.02 (x = 0). A run heading for 4.6 is stopped as soon as its own
    # curve has three values to extrapolate, one heading for 1.1 (within 25 %) completes, as does
    # one better than all.
    assert drive(s, decay(0.9), 0.9) == 3
    assert drive(s, decay(0.02), 0.02) is None
    prediction = s.predict(3, decay(0.7)[2])
    assert prediction is not None and abs(prediction[0] - decay(0.7)[-1]) < 0.05


def test_dynamic_surrogate_lets_a_late_bloomer_finish():
    # Fast runs (time constant 1) teach the models that a value of ~5 at step 3 ends badly; a run
    # that is still far from its asymptote, slow but heading for the best loss, must go on, while
    # a fast run with the same value at step 3 (it has converged there) is stopped.
    def curve(asymptote: float, tau: float, steps: int = 12) -> list[float]:
        return [asymptote + (10 - asymptote) * math.exp(-t / tau) for t in range(1, steps + 1)]

    s = DynamicSurrogate(LIMITS, min_runs=5)
    for x in np.linspace(0.0, 1.0, 9):
        c = curve(1 + 4 * x, 1.0)
        s.merge({"params": {"x": float(x)}, "curve": c, "loss": c[-1], "status": "ok"})
    late = curve(1.0, 2.5)  # 3.71 at step 3, ends at 1.07: within the margin of the best (1.0)
    assert drive(s, late, 0.0) is None
    done = curve(3.38, 1.0)  # 3.71 at step 3 too, but it has nearly converged there
    assert done[2] == pytest.approx(late[2], abs=0.01)
    assert drive(s, done, 0.0) == 3


def test_geometric_extrapolation_known_answers():
    exact = [2 + 8 * 0.5**t for t in range(1, 6)]  # improvements halve: ends near 2
    assert geometric_extrapolation(exact, horizon=40) == pytest.approx(2.0, abs=1e-9)
    assert geometric_extrapolation(exact, horizon=6) == pytest.approx(2 + 8 * 0.5**6)
    assert geometric_extrapolation(exact, horizon=5) == exact[-1]  # no steps left
    assert geometric_extrapolation([5.0, 4.0, 4.5], horizon=10) == 4.5  # got worse: no progress
    assert geometric_extrapolation([5.0, 4.0, 2.0], horizon=10) == -math.inf  # accelerating
    assert geometric_extrapolation([5.0, 4.0], horizon=10) == -math.inf  # too short to tell


def test_dynamic_surrogate_keeps_a_bounded_window():
    s = DynamicSurrogate(LIMITS, window=10, min_runs=3)
    rng = np.random.default_rng(0)
    for x in rng.random(40):
        curve = decay(float(x))
        s.merge({"params": {"x": float(x)}, "curve": curve, "loss": curve[-1], "status": "ok"})
    drive(s, decay(0.5), 0.5)
    assert len(s._runs) == 10 and s.completed_runs >= 40
    assert s._gp is not None and s._gp.x.shape == (10, 1)


def test_dynamic_surrogate_features_handle_categoricals_and_log_scales():
    s = DynamicSurrogate({"lr": (1e-4, 1e-2, "log"), "act": ("relu", "tanh"), "n": (1, 5)})
    f = s.features({"lr": 1e-3, "act": "tanh", "n": 5})
    assert f.tolist() == pytest.approx([0.5, 0.0, 1.0, 1.0])


# ----- contract shared by the built-in rules ------------------------------------------------------
RULES = [
    lambda: StaticSurrogate(),
    lambda: DynamicSurrogate(LIMITS, min_runs=2),
    lambda: MedianStoppingRule(min_runs=2),
    lambda: ASHA(),
]


@pytest.mark.parametrize("factory", RULES)
def test_rules_ignore_failures_and_survive_nan(factory):
    s = factory()
    for x in (0.1, 0.2, 0.3):
        drive(s, decay(x), x)
    s.start_run(Individual({"x": 0.9}, LIMITS))
    assert s.cancel(math.nan) is False  # never a decision on nan
    s.update(math.inf)  # the run failed
    assert s.data()["status"] == Status.FAILED
    text = json.dumps(s.data())
    assert json.dumps(json.loads(text)) == text  # JSON round trip (nan included)


@pytest.mark.parametrize("factory", RULES)
def test_rules_share_through_records_and_data_alike(factory):
    """Learning from a peer's data() or from its result record gives the same decisions."""
    a, b, c = factory(), factory(), factory()
    rng = np.random.default_rng(1)
    for x in rng.random(12):
        stopped = drive(a, decay(float(x)), float(x))
        b.merge(json.loads(json.dumps(a.data())))
        ind = Individual({"x": float(x)}, LIMITS)
        curve = decay(float(x))[: stopped or None]
        ind.curve, ind.loss = curve, curve[-1]
        ind.status = Status.PRUNED if stopped else Status.OK
        c.merge(c.result_data(ind))
    for x in rng.random(6):
        assert drive(b, decay(float(x)), float(x)) == drive(c, decay(float(x)), float(x))


def test_run_data_of_a_plain_result():
    ind = Individual({"x": 0.3}, LIMITS)
    ind.loss, ind.status = 2.5, Status.OK
    assert run_data(ind) == {"params": {"x": 0.3}, "curve": [2.5], "loss": 2.5, "status": "ok"}


@pytest.mark.parametrize(
    "make",
    [
        lambda: StaticSurrogate(margin=0),
        lambda: StaticSurrogate(margin=1.5),
        lambda: MedianStoppingRule(min_runs=0),
        lambda: ASHA(reduction_factor=1),
        lambda: DynamicSurrogate(LIMITS, window=2),
        lambda: EarlyStopping.from_factory("median"),  # type: ignore[arg-type]
        lambda: EarlyStopping(object()),  # type: ignore[arg-type]
    ],
)
def test_bad_settings_are_configuration_errors(make):
    with pytest.raises(ConfigurationError):
        make()


def test_merge_rejects_foreign_data():
    with pytest.raises(ConfigurationError, match="merge expects"):
        MedianStoppingRule().merge([1.0, 2.0])
