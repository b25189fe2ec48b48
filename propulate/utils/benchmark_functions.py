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
import math
import os
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ConfigurationError

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

Params = Mapping[str, float]
BenchmarkFunction = Callable[..., float]


def _vector(params: Params | Sequence[float] | np.ndarray) -> np.ndarray:
    """The parameter values as a float vector, in the order of the mapping."""
    if isinstance(params, Mapping):
        return np.fromiter(params.values(), dtype=float, count=len(params))
    return np.asarray(params, dtype=float).ravel()


def _pair(params: Params | Sequence[float] | np.ndarray, name: str) -> tuple[float, float]:
    """The two values of a two-dimensional function's argument."""
    x = _vector(params)
    if x.size != 2:
        raise ConfigurationError(
            f"{name} is two-dimensional; got {x.size} value(s). Pass two, e.g. "
            "{'a': 0.0, 'b': 0.0}."
        )
    return float(x[0]), float(x[1])


# ----- n-dimensional functions -----------------------------------------------------------------
def sphere(params: Params) -> float:
    r"""Sphere function: :math:`f(x) = \sum_i x_i^2`.

    Continuous, convex, separable, unimodal. Usual domain :math:`-5.12 \le x_i \le 5.12`.
    Global minimum :math:`f = 0` at :math:`x = (0, \dots, 0)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    return float(np.dot(x, x))


def rosenbrock(params: Params) -> float:
    r"""Rosenbrock's valley: :math:`f(x) = \sum_{i=1}^{N-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`.

    A narrow, curved, parabola-shaped valley; finding it is easy, converging to the minimum is
    hard. For two dimensions this is :math:`100 (b - a^2)^2 + (1 - a)^2`. Usual domain
    :math:`-2.048 \le x_i \le 2.048`. Global minimum :math:`f = 0` at :math:`x = (1, \dots, 1)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (at least two values; every value is used).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    if x.size < 2:
        raise ConfigurationError(f"rosenbrock needs at least two values; got {x.size}.")
    head, tail = x[:-1], x[1:]
    return float(np.sum(100.0 * (tail - head**2) ** 2 + (1.0 - head) ** 2))


def step(params: Params) -> float:
    r"""De Jong's step function (F3): :math:`f(x) = \sum_i \lfloor x_i \rfloor`.

    Flat plateaus give an optimizer no local direction to follow. Usual domain
    :math:`-5.12 \le x_i \le 5.12` (N = 5 in the Propulate paper). On that domain the global
    minimum :math:`f = -6 N` is attained everywhere on :math:`[-5.12, -5)^N`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    return float(np.sum(np.floor(_vector(params))))


def quartic(params: Params, rng: np.random.Generator | None = None, noise: float = 1.0) -> float:
    r"""De Jong's noisy quartic (F4): :math:`f(x) = \sum_i i x_i^4 + \sigma \mathcal{N}(0, 1)`.

    A unimodal function plus Gaussian noise: the same point never gives the same value twice.
    Usual domain :math:`-1.28 \le x_i \le 1.28` (N = 30 in the Propulate paper). The noise-free
    part has its global minimum 0 at :math:`x = (0, \dots, 0)`, where :math:`f` is pure noise
    with mean 0.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used; ``i`` counts from 1).
    rng : numpy.random.Generator, optional
        Where the noise comes from; a fresh, unseeded generator per call if omitted.
    noise : float
        The noise's standard deviation :math:`\sigma`; 0 gives the noise-free function.

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    value = float(np.dot(np.arange(1, x.size + 1), x**4))
    if noise:
        generator = rng if rng is not None else np.random.default_rng()
        value += noise * float(generator.standard_normal())
    return value


def rastrigin(params: Params) -> float:
    r"""Rastrigin function: :math:`f(x) = 10 N + \sum_i (x_i^2 - 10 \cos(2 \pi x_i))`.

    Highly multimodal: local minima on the integer grid, higher the farther they lie from the
    origin. Usual domain :math:`-5.12 \le x_i \le 5.12` (N = 20 in the Propulate paper).
    Global minimum :math:`f = 0` at :math:`x = (0, \dots, 0)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    return float(10.0 * x.size + np.sum(x**2 - 10.0 * np.cos(2.0 * np.pi * x)))


def griewank(params: Params) -> float:
    r"""Griewank function: :math:`f(x) = 1 + \sum_i x_i^2 / 4000 - \prod_i \cos(x_i / \sqrt{i})`.

    A parabola overlaid with many regularly spaced local minima that flatten out as the
    dimension grows. Usual domain :math:`-600 \le x_i \le 600` (N = 10 in the Propulate paper).
    Global minimum :math:`f = 0` at :math:`x = (0, \dots, 0)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used; ``i`` counts from 1).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    i = np.arange(1, x.size + 1)
    return float(1.0 + np.dot(x, x) / 4000.0 - np.prod(np.cos(x / np.sqrt(i))))


def ackley(params: Params) -> float:
    r"""Ackley's function.

    :math:`f(x) = -20 \exp(-0.2 \sqrt{\tfrac{1}{N} \sum_i x_i^2})
    - \exp(\tfrac{1}{N} \sum_i \cos(2 \pi x_i)) + 20 + e`.

    A nearly flat outer region riddled with small local minima around one deep funnel at the
    origin (D. H. Ackley, "A connectionist machine for genetic hillclimbing", 1987). Usual domain
    :math:`-32.768 \le x_i \le 32.768`. Global minimum :math:`f = 0` at
    :math:`x = (0, \dots, 0)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    n = x.size
    radius = math.sqrt(float(np.dot(x, x)) / n)
    waves = float(np.sum(np.cos(2.0 * np.pi * x))) / n
    # Grouped as two non-negative terms, so the value is exactly 0 at the origin (the textbook
    # order, -20 - e + 20 + e, leaves a rounding residue of 4e-16).
    return 20.0 * (1.0 - math.exp(-0.2 * radius)) + (math.e - math.exp(waves))


# -x sin(sqrt(|x|)) is smallest at x* = 420.96874636 where it is -418.98288727243...: adding
# this per coordinate puts the global minimum at 0.
_SCHWEFEL_SHIFT = 418.9828872724337


def schwefel(params: Params) -> float:
    r"""Schwefel's function: :math:`f(x) = 418.9829 N - \sum_i x_i \sin(\sqrt{|x_i|})`.

    Deceptive: the second-best minimum lies far from the global one, near the opposite corner.
    Usual domain :math:`-500 \le x_i \le 500` (N = 10 in the Propulate paper).
    Global minimum :math:`f = 0` (to about 1e-10 per dimension) at
    :math:`x = (420.968746, \dots, 420.968746)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    return float(_SCHWEFEL_SHIFT * x.size - np.sum(x * np.sin(np.sqrt(np.abs(x)))))


_LUNACEK_MU1 = 2.5
_LUNACEK_D = 1.0


def _lunacek_funnels(x: np.ndarray) -> float:
    """The smaller of Lunacek's two sphere funnels (Lunacek, Whitley & Sutton, PPSN 2008)."""
    n = x.size
    s = 1.0 - 1.0 / (2.0 * math.sqrt(n + 20.0) - 8.2)
    mu2 = -math.sqrt((_LUNACEK_MU1**2 - _LUNACEK_D) / s)
    near = np.sum((x - _LUNACEK_MU1) ** 2)
    far = _LUNACEK_D * n + s * np.sum((x - mu2) ** 2)
    return float(min(near, far))


def bisphere(params: Params) -> float:
    r"""Lunacek's double-sphere function.

    :math:`f(x) = \min\left(\sum_i (x_i - \mu_1)^2,\ d N + s \sum_i (x_i - \mu_2)^2\right)` with
    :math:`\mu_1 = 2.5`, :math:`d = 1`, :math:`s = 1 - 1 / (2 \sqrt{N + 20} - 8.2)` and
    :math:`\mu_2 = -\sqrt{(\mu_1^2 - d) / s}`: two funnels on the diagonal, the optimal one in
    the positive and a broader, sub-optimal one in the negative quadrant (Lunacek, Whitley &
    Sutton, "The impact of global structure on search", PPSN 2008). Usual domain
    :math:`-5.12 \le x_i \le 5.12` (N = 30 in the Propulate paper).
    Global minimum :math:`f = 0` at :math:`x = (2.5, \dots, 2.5)`; the other funnel bottoms out
    at :math:`f = d N` at :math:`x = (\mu_2, \dots, \mu_2)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    return _lunacek_funnels(_vector(params))


def birastrigin(params: Params) -> float:
    r"""Lunacek's bi-Rastrigin function: the double sphere plus a Rastrigin term.

    :math:`f(x) = \mathrm{bisphere}(x) + 10 \sum_i (1 - \cos(2 \pi (x_i - \mu_1)))` with the
    constants of :func:`bisphere` (Lunacek, Whitley & Sutton, PPSN 2008). Usual domain
    :math:`-5.12 \le x_i \le 5.12` (N = 30 in the Propulate paper).
    Global minimum :math:`f = 0` at :math:`x = (2.5, \dots, 2.5)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The coordinates (every value is used).

    Returns
    -------
    float
        The function value.
    """
    x = _vector(params)
    ruggedness = 10.0 * np.sum(1.0 - np.cos(2.0 * np.pi * (x - _LUNACEK_MU1)))
    return _lunacek_funnels(x) + float(ruggedness)


# ----- two-dimensional functions ---------------------------------------------------------------
def bukin_n6(params: Params) -> float:
    r"""Bukin function N. 6: :math:`f(a, b) = 100 \sqrt{|b - 0.01 a^2|} + 0.01 |a + 10|`.

    Non-differentiable along a narrow parabolic ridge of local minima. Usual domain
    :math:`-15 \le a \le -5`, :math:`-3 \le b \le 3`.
    Global minimum :math:`f = 0` at :math:`(a, b) = (-10, 1)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The two coordinates ``a``, ``b`` (first and second value).

    Returns
    -------
    float
        The function value.
    """
    a, b = _pair(params, "bukin_n6")
    return 100.0 * math.sqrt(abs(b - 0.01 * a**2)) + 0.01 * abs(a + 10.0)


def egg_crate(params: Params) -> float:
    r"""Egg-crate function: :math:`f(a, b) = a^2 + b^2 + 25 (\sin^2 a + \sin^2 b)`.

    A bowl covered in a regular grid of local minima. Usual domain :math:`-5 \le a, b \le 5`.
    Global minimum :math:`f = 0` at :math:`(a, b) = (0, 0)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The two coordinates ``a``, ``b`` (first and second value).

    Returns
    -------
    float
        The function value.
    """
    a, b = _pair(params, "egg_crate")
    return a**2 + b**2 + 25.0 * (math.sin(a) ** 2 + math.sin(b) ** 2)


def himmelblau(params: Params) -> float:
    r"""Himmelblau's function: :math:`f(a, b) = (a^2 + b - 11)^2 + (a + b^2 - 7)^2`.

    Four global minima, :math:`f = 0` at :math:`(3, 2)`, :math:`(-2.805118, 3.131312)`,
    :math:`(-3.779310, -3.283186)` and :math:`(3.584428, -1.848126)`. Usual domain
    :math:`-6 \le a, b \le 6`.

    Parameters
    ----------
    params : Mapping[str, float]
        The two coordinates ``a``, ``b`` (first and second value).

    Returns
    -------
    float
        The function value.
    """
    a, b = _pair(params, "himmelblau")
    return (a**2 + b - 11.0) ** 2 + (a + b**2 - 7.0) ** 2


def keane(params: Params) -> float:
    r"""Keane's bump function: :math:`f(a, b) = -\sin^2(a - b) \sin^2(a + b) / \sqrt{a^2 + b^2}`.

    Usual domain :math:`0 \le a, b \le 10`. Global minimum :math:`f \approx -0.6736675` at
    :math:`(a, b) \approx (1.3932491, 0)` and :math:`(0, 1.3932491)`. At the origin, where the
    formula reads 0/0, the function takes its limit 0.

    Parameters
    ----------
    params : Mapping[str, float]
        The two coordinates ``a``, ``b`` (first and second value).

    Returns
    -------
    float
        The function value.
    """
    a, b = _pair(params, "keane")
    radius = math.hypot(a, b)
    if radius == 0.0:
        # The numerator vanishes like radius**4, so the limit at the origin is 0.
        return 0.0
    return -(math.sin(a - b) ** 2) * math.sin(a + b) ** 2 / radius


def leon(params: Params) -> float:
    r"""Leon's function: :math:`f(a, b) = 100 (b - a^3)^2 + (1 - a)^2`.

    A cubic analogue of Rosenbrock's valley. Usual domain :math:`0 \le a, b \le 10` (Propulate
    1.2's limits; the literature also uses :math:`-1.2 \le a, b \le 1.2`).
    Global minimum :math:`f = 0` at :math:`(a, b) = (1, 1)`.

    Parameters
    ----------
    params : Mapping[str, float]
        The two coordinates ``a``, ``b`` (first and second value).

    Returns
    -------
    float
        The function value.
    """
    a, b = _pair(params, "leon")
    return 100.0 * (b - a**3) ** 2 + (1.0 - a) ** 2


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
