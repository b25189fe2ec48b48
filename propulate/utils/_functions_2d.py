"""The two-dimensional benchmark functions (see :mod:`propulate.utils.benchmark_functions`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigurationError
from ._functions_nd import Params, _vector


def _pair(params: Params | Sequence[float] | np.ndarray, name: str) -> tuple[float, float]:
    """The two values of a two-dimensional function's argument."""
    x = _vector(params)
    if x.size != 2:
        raise ConfigurationError(
            f"{name} is two-dimensional; got {x.size} value(s). Pass two, e.g. "
            "{'a': 0.0, 'b': 0.0}."
        )
    return float(x[0]), float(x[1])


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
