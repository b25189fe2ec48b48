"""Every bad input of issue 14 ("Why" list) gets a Propulate error naming it and the fix.

One case per entry of the issue; where another test file already asserts the message, the case
says which (``ELSEWHERE``) so that this file is the index of them all.
"""

from __future__ import annotations

import errno
import io
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import propulate.checkpoint as checkpoint_module
from propulate import Islands, Propulator
from propulate.backends import Backends
from propulate.errors import CheckpointError, ConfigurationError, SearchSpaceError
from propulate.failures import forget_failures
from propulate.files import write_json_atomically
from propulate.migrator import Migrator
from propulate.propagators import CrossoverUniform, SelectUniform
from propulate.search_space import SearchSpace
from propulate.utils import get_default_propagator

LIMITS = {"x": (-1.0, 1.0)}

# Entries of the list asserted in other files.
ELSEWHERE = {
    "corrupt record log (file, offset, records skipped)": "tests/integration/test_log_faults.py",
    "damaged log header (file, fix)": "tests/integration/test_log_faults.py",
    "state file that is not JSON / wrong rng length": "tests/integration/test_partial_failure.py",
    "damaged unfinished-evaluations journal": "tests/unit/test_unfinished.py",
    "second job on one checkpoint / other island layout": "tests/integration/test_one_job.py",
    "planted symlink at a checkpoint file's name": "tests/integration/test_one_job.py",
    "record extras outside the allow-list": "tests/unit/test_records.py",
}


def square(params: Any) -> float:
    return float(params["x"]) ** 2


def propulator(tmp_path: Path, **kwargs: Any) -> Propulator:
    arguments: dict[str, Any] = {
        "loss_fn": square,
        "propagator": get_default_propagator(4, LIMITS, rng=random.Random(1)),
        "rng": random.Random(2),
        "generations": 3,
        "checkpoint_path": tmp_path,
    }
    arguments.update(kwargs)
    return Propulator(**arguments)


# ----- constructor arguments: (what is built, the error's type, words the message must hold) ---
CASES = {
    "limits not a dict (list)": (
        lambda tmp: get_default_propagator(4, [("x", (0.0, 1.0))]),
        SearchSpaceError,
        ["limits must be a dict of name -> domain; got list", "Example:"],
    ),
    "limits not a dict (str)": (
        lambda tmp: SearchSpace.of("x"),
        SearchSpaceError,
        ["limits must be a dict", "got str"],
    ),
    "(-1e308, 1e308) overflows": (
        lambda tmp: get_default_propagator(4, {"x": (-1e308, 1e308)}),
        SearchSpaceError,
        ["limits['x']", "too wide", "overflows", "Narrow it"],
    ),
    "int bounds above 2**53": (
        lambda tmp: SearchSpace({"n": (0, 2**60)}),
        SearchSpaceError,
        ["limits['n']", "1152921504606846976 is beyond 2**53", "Keep int bounds within"],
    ),
    "int value set above 2**53": (
        lambda tmp: SearchSpace({"n": (1, 2, -(2**53) - 1)}),
        SearchSpaceError,
        ["-9007199254740993 is beyond 2**53"],
    ),
    "island_idx=-1": (
        lambda tmp: propulator(tmp, island_idx=-1),
        ConfigurationError,
        ["Propulator: island_idx=-1 must be an int >= 0; e.g. island_idx=0."],
    ),
    "rng a numpy Generator (Propulator)": (
        lambda tmp: propulator(tmp, rng=np.random.default_rng(1)),
        ConfigurationError,
        ["Propulator: rng=Generator", "must be a random.Random", "e.g. rng=random.Random("],
    ),
    "rng a seed (Propulator)": (
        lambda tmp: propulator(tmp, rng=7),
        ConfigurationError,
        ["Propulator: rng=7 must be a random.Random", "e.g. rng=random.Random(7)"],
    ),
    "rng a numpy Generator (get_default_propagator)": (
        lambda tmp: get_default_propagator(4, LIMITS, rng=np.random.default_rng(1)),
        ConfigurationError,
        ["get_default_propagator: rng=Generator", "must be a random.Random"],
    ),
    "rng a seed (a propagator)": (
        lambda tmp: SelectUniform(2, rng=3),
        ConfigurationError,
        ["SelectUniform: rng=3 must be a random.Random"],
    ),
    "rng a numpy Generator (Islands)": (
        lambda tmp: Islands(square, get_default_propagator(4, LIMITS), np.random.default_rng(1)),
        ConfigurationError,
        ["Islands: rng=Generator", "must be a random.Random"],
    ),
    "string probability (get_default_propagator)": (
        lambda tmp: get_default_propagator(4, LIMITS, crossover_prob="0.5"),
        ConfigurationError,
        ["crossover_prob='0.5' must be a probability in [0, 1]; e.g. crossover_prob=0.1."],
    ),
    "string probability (an operator)": (
        lambda tmp: CrossoverUniform(probability="0.7"),
        ConfigurationError,
        ["CrossoverUniform: probability='0.7' must be a probability in [0, 1]"],
    ),
    "string probability (Propulator)": (
        lambda tmp: propulator(tmp, migration_prob="0.1"),
        ConfigurationError,
        ["Propulator: migration_prob='0.1' must be a probability"],
    ),
    "string probability (Migrator)": (
        lambda tmp: Migrator(square, get_default_propagator(4, LIMITS), migration_prob="1"),
        ConfigurationError,
        ["Migrator: migration_prob='1' must be a probability"],
    ),
    "string probability (Islands)": (
        lambda tmp: Islands(square, get_default_propagator(4, LIMITS), migration_probability="1"),
        ConfigurationError,
        ["Islands: migration_probability='1' must be a probability"],
    ),
    "loss with the wrong signature (Islands, multi-rank workers)": (
        lambda tmp: Islands(square, get_default_propagator(4, LIMITS), ranks_per_worker=2),
        ConfigurationError,
        ["Islands: loss_fn=square(params) cannot be called as loss_fn(params, comm)"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_argument_is_refused_with_a_message_naming_it_and_the_fix(case, tmp_path):
    build, error_type, words = CASES[case]
    with pytest.raises(error_type) as raised:
        build(tmp_path)
    for word in words:
        assert word in str(raised.value), (case, str(raised.value))


@pytest.mark.parametrize(
    "generations", [np.int64(3), np.int32(3), np.uint8(3)], ids=["int64", "int32", "uint8"]
)
def test_numpy_ints_are_ints(generations, tmp_path):
    p = propulator(tmp_path, generations=generations)
    assert p.generations == 3 and type(p.generations) is int


# ----- a loss function whose signature does not fit: refused before any communication --------
def no_argument() -> float:
    return 1.0


def two_arguments(params: Any, comm: Any) -> float:
    return 1.0


def keyword_only(*, params: Any) -> float:
    return 1.0


@pytest.mark.parametrize("loss_fn", [no_argument, two_arguments, keyword_only])
def test_a_loss_with_the_wrong_signature_stops_the_run_before_it_communicates(
    loss_fn, tmp_path, monkeypatch
):
    def communicate(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the check must come before any communication")

    monkeypatch.setattr(Backends, "connect", communicate)
    with pytest.raises(ConfigurationError) as raised:
        propulator(tmp_path, loss_fn=loss_fn).propulate()
    message = str(raised.value)
    assert f"loss_fn={loss_fn.__name__}(" in message
    assert "cannot be called as loss_fn(params)" in message
    assert "e.g. def loss_fn(params)" in message
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_loss_with_an_optional_second_argument_fits(tmp_path):
    def loss(params: Any, comm: Any = None) -> float:
        return float(params["x"]) ** 2

    p = propulator(tmp_path, loss_fn=loss, generations=2)
    p.propulate()
    assert len(p.population) == 2


# ----- one line per failed evaluation, one traceback per distinct error ------------------------
def failing(params: Any) -> float:
    if params["x"] > 0:
        raise ValueError(f"x={params['x']} is positive")
    raise KeyError("negative")


def test_failures_log_one_line_each_and_each_traceback_once(tmp_path, caplog):
    forget_failures()
    caplog.set_level(logging.WARNING, logger="propulate.evaluation")
    p = propulator(tmp_path, loss_fn=failing, generations=12)
    p.propulate()
    lines = [r.getMessage() for r in caplog.records if r.name == "propulate.evaluation"]
    assert len(lines) == 12  # one per failed evaluation
    assert all(line.startswith("loss_fn raised ") for line in lines)
    tracebacks = [line for line in lines if "Traceback (most recent call last)" in line]
    kinds = {("ValueError" if "ValueError" in line else "KeyError") for line in lines}
    assert len(tracebacks) == len(kinds) == 2  # two distinct errors, each traceback once
    assert all(len(line.splitlines()) == 1 for line in lines if line not in tracebacks)
    assert all(p.loss == float("inf") and p.status == "failed" for p in p.population)


# ----- a full disk: one clear error, no chained tracebacks, no temporary file left ------------
class _FullDisk(io.RawIOBase):
    """A file whose every write fails as on a full disk."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_under_the_log_is_one_checkpoint_error(tmp_path, monkeypatch):
    real_open = checkpoint_module.open_for_append

    def full(path: Any) -> Any:
        real_open(path).close()
        return io.BufferedWriter(_FullDisk())

    monkeypatch.setattr(checkpoint_module, "open_for_append", full)
    with pytest.raises(CheckpointError) as raised:
        propulator(tmp_path, generations=3).propulate()
    message = str(raised.value)
    assert "island-0-rank-0.ckpt: could not write (No space left on device)" in message
    assert "free space on that file system" in message
    # Not "During handling of the above exception, another exception occurred".
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def test_a_full_disk_under_a_state_file_leaves_no_temporary_file(tmp_path, monkeypatch):
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", no_space)
    target = tmp_path / "rank-0.state.json"
    with pytest.raises(CheckpointError, match=r"rank-0.state.json: could not write \(No space"):
        write_json_atomically(target, {"a": 1})
    assert list(tmp_path.iterdir()) == []  # neither the target nor a 0-byte temporary file


def test_the_index_of_cases_tested_elsewhere_points_to_existing_files():
    root = Path(__file__).parents[2]
    for case, path in ELSEWHERE.items():
        assert (root / path).is_file(), case


def test_a_record_with_an_intact_frame_that_does_not_decode_is_named_with_file_and_offset(
    tmp_path, caplog
):
    """Not a JSONDecodeError, KeyError or struct.error: a warning with the file and offset."""
    from propulate.checkpoint import CheckpointLog, scan_log
    from propulate.log_format import encode_frame
    from propulate.population import Individual
    from propulate.records import encode_individual

    space = SearchSpace(LIMITS)
    log = CheckpointLog(tmp_path, space, 0, 0)
    log.open()
    good = []
    for generation in range(3):
        ind = Individual({"x": generation / 10}, space)
        ind.loss, ind.status, ind.generation = 1.0, "ok", generation
        good.append(encode_individual(ind))
    log.append_record(good[0])
    # A record whose checksum is right but whose JSON extras are not JSON, and one cut short.
    bad_json = good[1][:-4] + (7).to_bytes(4, "little") + b"{broken"
    log.close()
    path = tmp_path / "island-0-rank-0.ckpt"
    with path.open("ab") as stream:
        offset = stream.tell()
        stream.write(encode_frame(bad_json) + encode_frame(good[1][:20]) + encode_frame(good[2]))
    caplog.set_level(logging.WARNING, logger="propulate")
    contents = scan_log(path)
    assert [ind.generation for ind in contents.individuals] == [0, 2]
    assert f"{path}: " in caplog.text and f"at offset {offset} skipped" in caplog.text
