"""Launching a benchmark's worker under ``mpirun`` and reading the line it prints.

The MPI benchmarks are one script in two roles: the driver (run by the user) starts the same script
with ``--worker`` under ``mpirun`` once per configuration, and rank 0 of that job prints one line
``RESULT {json}``. This module is the driver's half of that protocol, shared by the scripts.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

RESULT_PREFIX = "RESULT "


def result_line(result: dict[str, Any]) -> None:
    """Print a worker's measurements as the line the driver reads."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def launch(
    mpirun: str,
    ranks: int,
    python: str,
    script: str,
    arguments: Sequence[str],
    *,
    timeout: float,
    reference: bool = False,
    prefix: str = "propulate-bench-",
) -> dict[str, Any] | None:
    """Run ``script --worker ...`` on ``ranks`` ranks in a fresh folder; return its result.

    Parameters
    ----------
    mpirun, ranks, python, script
        The launcher (a path, or a command line with options, split like a shell), the number
        of ranks, the interpreter and the benchmark script.
    arguments
        The worker's arguments after ``--worker``; ``--checkpoint <folder>/ckpt`` is appended.
    timeout
        Seconds before the job is abandoned (the result is then ``None``).
    reference
        Run without ``PYTHONPATH``: set to a source tree, it would make a reference interpreter
        (Propulate 1.2.2's) import that tree instead of its own Propulate.
    prefix
        The name prefix of the temporary folder (the job's working directory, removed afterwards).

    Returns
    -------
    dict[str, Any] | None
        The worker's ``RESULT`` line, or ``None`` when the job timed out or printed none (its
        output tail is then written to stderr).
    """
    folder = tempfile.mkdtemp(prefix=prefix)
    # A launcher with options (e.g. "mpirun --oversubscribe" for Open MPI) is split like a shell.
    launcher = [mpirun] if os.path.exists(mpirun) else shlex.split(mpirun)
    command = [*launcher, "-n", str(ranks), python, os.path.abspath(script), "--worker", *arguments]
    command += ["--checkpoint", os.path.join(folder, "ckpt")]
    env = {k: v for k, v in os.environ.items() if not (reference and k == "PYTHONPATH")}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, cwd=folder
        )
    except subprocess.TimeoutExpired:
        return None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])  # type: ignore[no-any-return]
    sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
    return None
