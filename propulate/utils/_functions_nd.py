"""The n-dimensional benchmark functions (see :mod:`propulate.utils.benchmark_functions`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import ConfigurationError

Params = Mapping[str, float]


def _vector(params: Params | Sequence[float] | np.ndarray) -> np.ndarray:
    """The parameter values as a float vector, in the order of the mapping."""
    if isinstance(params, Mapping):
        return np.fromiter(params.values(), dtype=float, count=len(params))
    return np.asarray(params, dtype=float).ravel()


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
