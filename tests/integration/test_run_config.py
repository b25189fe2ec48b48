"""The run's configuration in the checkpoint: a resume with another one fails on every rank."""

from __future__ import annotations

import json

import pytest

from propulate import CheckpointError, Propulator
from propulate.errors import ConfigurationError
from propulate.job_lock import LAYOUT_FILE
from propulate.utils import get_default_propagator

from .local_run import LIMITS_3D, local_island, sphere
from .test_one_job import _errors_of, _generations

SPHERE = {"function": "sphere", "dimensions": 3, "pop_size": 4}


def _island(folder, generations, run_config):
    def make(rank, rng):
        return get_default_propagator(4, LIMITS_3D, rng=rng)

    return local_island(3, folder, make, generations, loss_fn=sphere, run_config=run_config)


def test_the_configuration_is_kept_and_a_resume_with_the_same_one_continues(tmp_path):
    assert _errors_of(_island(tmp_path, 4, SPHERE)) == [None] * 3
    stored = json.loads((tmp_path / LAYOUT_FILE).read_text())
    assert stored["config"] == SPHERE
    # The same configuration (its keys in another order) resumes and extends the run.
    same = dict(reversed(list(SPHERE.items())))
    assert _errors_of(_island(tmp_path, 7, same)) == [None] * 3
    assert all(g == list(range(7)) for g in _generations(tmp_path).values())


def test_another_configuration_fails_on_every_rank_before_writing(tmp_path):
    assert _errors_of(_island(tmp_path, 4, SPHERE)) == [None] * 3
    before = _generations(tmp_path)
    other = dict(SPHERE, function="rastrigin", pop_size=8)
    errors = _errors_of(_island(tmp_path, 8, other))
    assert all(isinstance(e, CheckpointError) for e in errors), errors
    message = str(errors[0])
    assert "function: 'sphere' != 'rastrigin'" in message
    assert "pop_size: 4 != 8" in message and "dimensions" not in message
    assert "another checkpoint_path" in message
    assert _generations(tmp_path) == before  # nothing was written


def test_an_entry_only_one_run_has_is_a_difference(tmp_path):
    assert _errors_of(_island(tmp_path, 2, SPHERE)) == [None] * 3
    errors = _errors_of(_island(tmp_path, 4, dict(SPHERE, seed=1)))
    assert all(isinstance(e, CheckpointError) for e in errors)
    assert "seed: (not set) != 1" in str(errors[0])


def test_a_run_without_configuration_resumes_any(tmp_path):
    # Configurations are compared only when both runs give one (a library user's own resume).
    assert _errors_of(_island(tmp_path, 2, SPHERE)) == [None] * 3
    assert _errors_of(_island(tmp_path, 4, None)) == [None] * 3


@pytest.mark.parametrize("bad", [["sphere"], {"function": object()}, {"x": float("nan")}])
def test_a_configuration_that_is_no_json_mapping_is_refused_at_once(bad, tmp_path):
    propagator = get_default_propagator(4, LIMITS_3D)
    with pytest.raises(ConfigurationError, match="run_config=") as error:
        Propulator(sphere, propagator, generations=1, checkpoint_path=tmp_path, run_config=bad)
    assert "e.g. run_config=" in str(error.value)
    assert list(tmp_path.iterdir()) == []
