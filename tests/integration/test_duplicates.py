"""The default propagator rarely spends an evaluation on hyperparameters already evaluated."""

from __future__ import annotations

from .local_run import run_local

# A converging search where the operators hand a parent on unchanged in about a third of the
# calls once the best individuals agree (no crossover effect, no mutation, no random draw).
MIXED = {"n": (0, 20), "x": (-5.0, 5.0), "act": ("relu", "tanh", "elu")}


def loss(params):
    return abs(params["n"] - 7) + (params["x"] - 1.0) ** 2 + (params["act"] != "tanh")


def test_a_converging_run_repeats_almost_no_evaluation(tmp_path):
    (propulator,) = run_local(1, tmp_path, loss_fn=loss, generations=400, limits=MIXED)
    population = list(propulator.population)
    assert len(population) == 400
    distinct = {ind.values_key() for ind in population}
    # The operators alone repeat about half of the evaluations here (194 of 400 measured);
    # re-breeding leaves at most a few (a child can only repeat after 10 failed tries).
    assert len(population) - len(distinct) <= 4
    assert min(ind.loss for ind in population) < 0.01  # and the search still converges
