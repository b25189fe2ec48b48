"""Classic benchmark functions for trying optimizers out, with their usual search spaces.

Every function takes a dict-like ``params`` of floats (an :class:`~propulate.Individual` works)
and returns a float. The two-dimensional functions read the first two values in order (keys
``"a"`` and ``"b"`` in the search spaces below); the n-dimensional ones use every value.

:func:`get_function_search_space` returns a function with its limits dictionary under the names
Propulate 1.2 used, and :func:`parse_arguments` builds the command line of the example scripts.

Notes
-----
The definitions follow the published formulas. Where Propulate 1.2 deviated, this module keeps
the published form: the step function uses the floor (De Jong's F3), the quartic function adds
one Gaussian draw without taking an absolute value (De Jong's F4), Lunacek's functions use
``s = 1 - 1 / (2 sqrt(N + 20) - 8.2)``, the egg-crate minimum is 0, and Keane's minimum is
negative (and the function is 0, not NaN, at the origin).
"""

from __future__ import annotations

import argparse
import logging
import os
import string
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from ._functions_2d import bukin_n6, egg_crate, himmelblau, keane, leon
from ._functions_nd import Params as Params  # the argument type of every function
from ._functions_nd import (
    ackley,
    birastrigin,
    bisphere,
    griewank,
    quartic,
    rastrigin,
    rosenbrock,
    schwefel,
    sphere,
    step,
)

__all__ = [
    "sphere",
    "rosenbrock",
    "step",
    "quartic",
    "rastrigin",
    "griewank",
    "ackley",
    "schwefel",
    "bisphere",
    "birastrigin",
    "bukin_n6",
    "egg_crate",
    "himmelblau",
    "keane",
    "leon",
    "get_function_search_space",
    "parse_arguments",
    "FUNCTION_NAMES",
]

BenchmarkFunction = Callable[..., float]


# ----- search spaces ---------------------------------------------------------------------------
# name -> (function, (low, high) of every coordinate or per coordinate, default dimensions,
# whether the dimension may change). The defaults are Propulate 1.2's (ackley, which 1.2 lacked,
# gets 10 like griewank).
_TABLE: dict[str, tuple[BenchmarkFunction, tuple[tuple[float, float], ...], int, bool]] = {
    "sphere": (sphere, ((-5.12, 5.12),), 2, True),
    "rosenbrock": (rosenbrock, ((-2.048, 2.048),), 2, True),
    "step": (step, ((-5.12, 5.12),), 5, True),
    "quartic": (quartic, ((-1.28, 1.28),), 30, True),
    "rastrigin": (rastrigin, ((-5.12, 5.12),), 20, True),
    "griewank": (griewank, ((-600.0, 600.0),), 10, True),
    "ackley": (ackley, ((-32.768, 32.768),), 10, True),
    "schwefel": (schwefel, ((-500.0, 500.0),), 10, True),
    "bisphere": (bisphere, ((-5.12, 5.12),), 30, True),
    "birastrigin": (birastrigin, ((-5.12, 5.12),), 30, True),
    "bukin": (bukin_n6, ((-15.0, -5.0), (-3.0, 3.0)), 2, False),
    "eggcrate": (egg_crate, ((-5.0, 5.0),), 2, False),
    "himmelblau": (himmelblau, ((-6.0, 6.0),), 2, False),
    "keane": (keane, ((0.0, 10.0),), 2, False),
    "leon": (leon, ((0.0, 10.0),), 2, False),
}

FUNCTION_NAMES: tuple[str, ...] = tuple(_TABLE)
"""The names :func:`get_function_search_space` and ``--function`` accept."""

# The Python names of the functions are accepted too.
_ALIASES = {"bukin_n6": "bukin", "egg_crate": "eggcrate"}


def _coordinate_names(n: int) -> list[str]:
    """``a`` ... ``z``, then ``A1`` ... ``Z1``, ``A2`` ...: Propulate 1.2's names, extended."""
    names = list(string.ascii_lowercase[:n])
    for i in range(26, n):
        names.append(f"{string.ascii_uppercase[(i - 26) % 26]}{(i - 26) // 26 + 1}")
    return names


def get_function_search_space(
    fname: str, dimensions: int | None = None
) -> tuple[BenchmarkFunction, dict[str, tuple[float, float]]]:
    """The benchmark function called ``fname`` and its limits dictionary.

    Parameters
    ----------
    fname : str
        One of ``"sphere"``, ``"rosenbrock"``, ``"step"``, ``"quartic"``, ``"rastrigin"``,
        ``"griewank"``, ``"ackley"``, ``"schwefel"``, ``"bisphere"``, ``"birastrigin"``
        (n-dimensional) or
        ``"bukin"``, ``"eggcrate"``, ``"himmelblau"``, ``"keane"``, ``"leon"`` (two-dimensional).
    dimensions : int, optional
        The number of coordinates of an n-dimensional function; Propulate 1.2's default if
        omitted (sphere and rosenbrock 2, step 5, griewank, ackley and schwefel 10, rastrigin 20,
        quartic, bisphere and birastrigin 30). Two-dimensional functions accept only 2.

    Returns
    -------
    Callable
        The function; it takes the dict-like individual and returns a float.
    dict[str, tuple[float, float]]
        The limits, coordinates named ``"a"``, ``"b"``, ... and after ``"z"`` ``"A1"``, ``"B1"``...

    Raises
    ------
    ConfigurationError
        If the name is unknown or the dimension is not allowed for the function.
    """
    key = _ALIASES.get(fname, fname) if isinstance(fname, str) else fname
    if key not in _TABLE:
        raise ConfigurationError(
            f"unknown benchmark function {fname!r}; choose one of {', '.join(FUNCTION_NAMES)}."
        )
    function, bounds, default_dimensions, scalable = _TABLE[key]
    n = default_dimensions if dimensions is None else dimensions
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigurationError(
            f"get_function_search_space({fname!r}): dimensions={dimensions!r}; give a positive "
            "integer or leave it out for the default."
        )
    if not scalable and n != default_dimensions:
        raise ConfigurationError(
            f"{key} is {default_dimensions}-dimensional; got dimensions={dimensions}. Leave "
            "dimensions out, or pick an n-dimensional function such as 'sphere'."
        )
    if key == "rosenbrock" and n < 2:
        raise ConfigurationError(f"rosenbrock needs at least 2 dimensions; got {n}.")
    names = _coordinate_names(int(n))
    limits = {name: bounds[i] if len(bounds) > 1 else bounds[0] for i, name in enumerate(names)}
    return function, limits


# ----- command line of the examples ------------------------------------------------------------
def _world_size(propulate_comm: Any) -> int:
    """The communicator's size, or the launcher's world size when no communicator is given."""
    if propulate_comm is not None:
        size = getattr(propulate_comm, "size", None)
        return int(size if size is not None else propulate_comm.Get_size())
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_NTASKS"):
        value = os.environ.get(variable)
        if value is not None and value.isdigit():
            return int(value)
    return 1


def parse_arguments(
    propulate_comm: Any = None, args: Sequence[str] | None = None
) -> tuple[argparse.Namespace, dict[str, bool]]:
    """Parse the command line of the benchmark example scripts.

    Parameters
    ----------
    propulate_comm : mpi4py.MPI.Comm, optional
        The communicator of the optimization; only its size is used (``--pop_size`` defaults to
        twice the number of ranks). Without it the launcher's world size is read from the
        environment (1 outside ``mpirun``).
    args : Sequence[str], optional
        The arguments to parse; ``sys.argv[1:]`` if omitted.

    Returns
    -------
    argparse.Namespace
        The parsed options.
    dict[str, bool]
        For ``"inertia"``, ``"cognitive"`` and ``"social"``: whether it was given on the command
        line (PSO variants pick their own defaults for the ones that were not).
    """
    pop_size = 2 * _world_size(propulate_comm)
    parser = argparse.ArgumentParser(
        prog="propulate-benchmark",
        description="Optimize a benchmark function with Propulate.",
    )
    parser.add_argument("--function", choices=FUNCTION_NAMES, default="sphere")
    parser.add_argument(
        "--dimensions",
        type=int,
        default=None,
        help="number of coordinates of an n-dimensional function (default: the function's)",
    )
    parser.add_argument("--generations", type=int, default=1000, help="evaluations per worker")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random generators")
    parser.add_argument("--verbosity", type=int, default=1)
    parser.add_argument(
        "--checkpoint", type=str, default="./", help="directory for reading/writing checkpoints"
    )
    parser.add_argument("--pop_size", type=int, default=pop_size, help="breeding pool size")
    parser.add_argument("--crossover_probability", type=float, default=0.7)
    parser.add_argument("--mutation_probability", type=float, default=0.4)
    parser.add_argument("--random_init_probability", type=float, default=0.1)
    parser.add_argument("--top_n", type=int, default=1)
    parser.add_argument("--logging_interval", type=int, default=10)
    parser.add_argument("--logging_level", type=int, default=logging.INFO)

    islands = parser.add_argument_group("island model")
    islands.add_argument("--num_islands", type=int, default=2)
    islands.add_argument("--migration_probability", type=float, default=0.9)
    islands.add_argument("--num_migrants", type=int, default=1)
    islands.add_argument("--pollination", action="store_true")

    explicitly_set = {"inertia": False, "cognitive": False, "social": False}

    class _RecordSet(argparse.Action):
        """Store the value and note that the user chose it."""

        def __call__(
            self,
            parser: argparse.ArgumentParser,
            namespace: argparse.Namespace,
            values: Any,
            option_string: str | None = None,
        ) -> None:
            explicitly_set[self.dest] = True
            setattr(namespace, self.dest, values)

    pso = parser.add_argument_group("particle swarm")
    pso.add_argument(
        "--variant",
        choices=["Basic", "VelocityClamping", "Constriction", "Canonical"],
        default="Basic",
    )
    pso.add_argument("--inertia", type=float, default=0.729, action=_RecordSet)
    pso.add_argument("--cognitive", type=float, default=1.49445, action=_RecordSet)
    pso.add_argument("--social", type=float, default=1.49445, action=_RecordSet)
    pso.add_argument("--clamping_factor", type=float, default=0.6)

    parser.add_argument_group("CMA-ES").add_argument("--adapter", type=str, default="basic")
    parser.add_argument_group("multi-rank workers").add_argument(
        "--ranks_per_worker", type=int, default=2
    )
    return parser.parse_args(args), explicitly_set
