"""The loss function never sees an infeasible combination (constraints= through the loop)."""

from __future__ import annotations

from propulate.testing import CONDITIONAL_LIMITS

from .local_run import run_local

SEEN = []


def feasible_only(params):
    values = dict(params)
    SEEN.append(values)
    assert values["lr"] * values["layers"] < 0.05, values  # the constraint below
    return values["lr"] + values.get("momentum", 0.0)


def test_the_loss_never_sees_an_infeasible_child(tmp_path):
    SEEN.clear()
    runs = run_local(
        2,
        tmp_path,
        loss_fn=feasible_only,
        generations=20,
        limits=CONDITIONAL_LIMITS,
        constraints=[lambda p: p["lr"] * p["layers"] < 0.05],
    )
    assert len(SEEN) == 40
    assert all(ind.loss is not None and ind.status == "ok" for ind in runs[0].population)
