"""Bad inputs under mpirun: the same error on every rank, before any communication, no hang."""

from __future__ import annotations

import random

import numpy as np
import pytest

from propulate import ConfigurationError, Islands, Propulator
from propulate.utils import get_default_propagator

LIMITS = {"a": (-5.0, 5.0), "b": (-5.0, 5.0)}


def world():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def no_argument():
    return 1.0


def two_arguments(params, comm):
    return 1.0


def check_every_rank_raised(raised: ConfigurationError, words: str) -> None:
    # Every rank got here with the error: nobody waits in a collective for a rank that raised.
    assert world().allgather(words in str(raised)) == [True] * world().size


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(60)
@pytest.mark.parametrize("loss", [no_argument, two_arguments])
def test_a_loss_with_the_wrong_signature_is_refused_on_every_rank(shared_tmp_path, loss):
    rng = random.Random(world().rank)
    propagator = get_default_propagator(4, LIMITS, rng=rng)
    with pytest.raises(ConfigurationError) as raised:
        Propulator(
            loss, propagator, rng, generations=5, checkpoint_path=shared_tmp_path
        ).propulate()
    check_every_rank_raised(raised.value, "cannot be called as loss_fn(params)")
    assert not list(shared_tmp_path.iterdir())  # nothing written either


@pytest.mark.mpi(min_size=2)
@pytest.mark.timeout(60)
def test_islands_refuse_a_wrong_signature_and_rng_before_splitting(shared_tmp_path):
    propagator = get_default_propagator(4, LIMITS)
    with pytest.raises(ConfigurationError) as raised:
        Islands(no_argument, propagator, random.Random(0), generations=5, num_islands=2,
                checkpoint_path=shared_tmp_path)  # fmt: skip
    check_every_rank_raised(raised.value, "Islands: loss_fn=no_argument()")
    with pytest.raises(ConfigurationError) as raised:
        Islands(lambda p: 0.0, propagator, np.random.default_rng(0), generations=5,
                checkpoint_path=shared_tmp_path)  # fmt: skip
    check_every_rank_raised(raised.value, "Islands: rng=Generator")
