"""HPO-shaped benchmark problems over mixed search spaces (ints, floats, log scales, categories).

Every problem is a :class:`Problem`: a name, a limits dictionary in Propulate's plain syntax,
a deterministic loss (lower is better) and a description. :data:`PROBLEMS` holds them by name;
:func:`suggest` draws the same search space through an Optuna trial, so the references of
``search_quality.py --suite mixed`` search exactly what our strategies search.

Two families:

* **synthetic** (microseconds per evaluation): classic test functions (sphere, rotated ellipsoid,
  Rosenbrock, Rastrigin, Ackley, Levy, Styblinski-Tang, Griewank, Zakharov, a coupled quadratic
  chain) rebuilt over mixed spaces, and four models of real tuning problems (training an MLP,
  gradient-boosted trees, an SVM, fine-tuning a transformer). Every numeric parameter is mapped
  to a coordinate of the underlying function that is 0 at an arbitrary interior value (never the
  centre of the box, a bound or a round number), log-scaled parameters in decades; categoricals
  add a penalty, shift the optimum of other parameters, scale the landscape or decide which
  parameters matter, with one choice clearly best and another close. Each has a documented
  optimum (``Problem.optimum``, ``Problem.optimal_loss``).
* **sklearn**: scikit-learn models tuned by 3-fold cross-validation (stratified for classifiers,
  ``shuffle=True, random_state=0``) on data sets bundled with scikit-learn (no download). The
  loss is a smooth metric: the log loss of the out-of-fold class probabilities (clipped to
  ``[1e-4, 1]``, so one confidently wrong sample costs at most ``ln 1e4 = 9.2``), or ``1 - R^2``
  of the out-of-fold predictions for regression. Every model has ``random_state=0``;
  evaluations run single-threaded (a contended multi-threaded BLAS was 50 times slower here) with
  convergence warnings silenced, and each data set is loaded once per process.

Every synthetic problem takes microseconds per evaluation (2-30 us on idle cores). The
scikit-learn ones aim at 50 ms or less on average over random configurations; measured with
``--check --samples 100 --timed 100`` (the mean over 100 random configurations, one process) on
2 cores shared with other jobs at load 6, which made them 2-3 times slower than on idle cores
(sk_svc_wine took 22-28 ms, sk_logreg_breast_cancer 17-23 ms there); the two boosting problems
exceed the aim even so:

============================  =======  =====================================
problem                       mean ms  parameters
============================  =======  =====================================
sk_svc_wine                        76  1 int, 1 float, 2 log, 1 categorical
sk_svr_diabetes                    96  1 int, 3 log, 1 categorical
sk_logreg_breast_cancer            27  1 int, 2 log, 2 categorical
sk_random_forest_wine              57  3 int, 1 float, 1 log, 2 categorical
sk_extra_trees_breast_cancer       38  2 int, 1 float, 2 log, 2 categorical
sk_hist_gb_diabetes               107  2 int, 1 float, 3 log, 1 categorical
sk_gb_friedman                    154  2 int, 2 float, 1 log, 1 categorical
sk_knn_digits                     122  2 int, 1 log (int), 1 categorical
sk_sgd_breast_cancer               58  1 int, 1 float, 2 log, 3 categorical
sk_elastic_net_friedman            25  1 int, 1 float, 2 log, 2 categorical
============================  =======  =====================================

``python benchmarks/hpo_problems.py --check`` checks and times every problem: every loss is
finite at random points, every synthetic problem's documented optimum beats 1,000 random samples
and every change of one parameter away from it (ints and categories every value, floats a grid
of 101).
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Params = Mapping[str, Any]
Limits = dict[str, tuple[Any, ...]]

__all__ = ["Problem", "PROBLEMS", "suggest", "sample"]


@dataclass(frozen=True)
class Problem:
    """One benchmark problem.

    Attributes
    ----------
    name : str
        Unique name, the key in :data:`PROBLEMS`.
    limits : dict
        The search space in Propulate's syntax: ``(lo, hi)`` ints or floats, ``(lo, hi, "log")``
        log-scaled, a tuple of strings categorical.
    loss : Callable[[Mapping[str, Any]], float]
        Deterministic loss of a mapping name -> value; lower is better.
    description : str
        What the problem models and how its parameters act.
    family : str
        ``"synthetic"`` or ``"sklearn"``.
    optimum : dict or None
        A global minimizer (synthetic problems only).
    optimal_loss : float or None
        The loss at ``optimum``.
    """

    name: str
    limits: Limits
    loss: Callable[[Params], float]
    description: str
    family: str
    optimum: dict[str, Any] | None = None
    optimal_loss: float | None = None

    @property
    def kinds(self) -> dict[str, int]:
        """How many parameters of each kind: int, float, log (int or float), categorical."""
        counts = {"int": 0, "float": 0, "log": 0, "categorical": 0}
        for domain in self.limits.values():
            counts[_kind(domain)] += 1
        return counts


def _kind(domain: tuple[Any, ...]) -> str:
    """``"int"``, ``"float"``, ``"log"`` or ``"categorical"`` for one domain."""
    if all(isinstance(v, str) for v in domain):
        return "categorical"
    if len(domain) == 3:
        return "log"
    return "int" if all(isinstance(v, int) for v in domain) else "float"


def suggest(trial: Any, limits: Limits) -> dict[str, Any]:
    """Draw every parameter of ``limits`` through an Optuna trial.

    Ints become ``suggest_int(name, lo, hi, log=...)``, floats ``suggest_float(name, min, max,
    log=...)`` (bounds sorted: Propulate accepts them in either order, Optuna does not) and
    categoricals ``suggest_categorical(name, choices)``.
    """
    params: dict[str, Any] = {}
    for name, domain in limits.items():
        kind = _kind(domain)
        if kind == "categorical":
            params[name] = trial.suggest_categorical(name, list(domain))
            continue
        low, high = sorted(domain[:2])
        log = kind == "log"
        if all(isinstance(v, int) and not isinstance(v, bool) for v in domain[:2]):
            params[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            params[name] = trial.suggest_float(name, float(low), float(high), log=log)
    return params


def sample(limits: Limits, rng: random.Random) -> dict[str, Any]:
    """A uniform random point of ``limits`` (log-uniform on log scales)."""
    params: dict[str, Any] = {}
    for name, domain in limits.items():
        kind = _kind(domain)
        if kind == "categorical":
            params[name] = rng.choice(domain)
            continue
        low, high = sorted(domain[:2])
        is_int = all(isinstance(v, int) for v in domain[:2])
        if kind == "log":
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
            params[name] = min(max(round(value), low), high) if is_int else value
        else:
            params[name] = rng.randint(low, high) if is_int else rng.uniform(low, high)
    return params


# ===== synthetic problems ========================================================================
# ----- the underlying functions: each has its minimum 0 at z = 0 --------------------------------
def _sphere(z: np.ndarray) -> float:
    return float(np.dot(z, z))


def _ellipsoid(z: np.ndarray) -> float:
    # Condition number 1e3 across the coordinates.
    weights = 10.0 ** (3.0 * np.arange(z.size) / max(z.size - 1, 1))
    return float(np.dot(weights, z * z))


def _rosenbrock(z: np.ndarray) -> float:
    x = z + 1.0
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def _rastrigin(z: np.ndarray) -> float:
    return float(10.0 * z.size + np.sum(z * z - 10.0 * np.cos(2.0 * math.pi * z)))


def _ackley(z: np.ndarray) -> float:
    n = z.size
    first = -20.0 * math.exp(-0.2 * math.sqrt(float(np.dot(z, z)) / n))
    second = -math.exp(float(np.sum(np.cos(2.0 * math.pi * z))) / n)
    return max(first + second + 20.0 + math.e, 0.0)  # 0 at z = 0, not -4e-16


def _levy(z: np.ndarray) -> float:
    w = 1.0 + z / 4.0  # Levy's x = z + 1
    middle = (w[:-1] - 1.0) ** 2 * (1.0 + 10.0 * np.sin(math.pi * w[:-1] + 1.0) ** 2)
    last = (w[-1] - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * w[-1]) ** 2)
    # sin(pi w)^2 instead of sin(pi w_0)^2 alone would be Levy's; sin(pi) is 1.2e-16, squared 0.
    return float(math.sin(math.pi * w[0]) ** 2 + np.sum(middle) + last)


# Styblinski-Tang's minimizer per coordinate: the smallest root of 4x^3 - 32x + 5 = 0.
_ST_X = float(min(np.roots([4.0, 0.0, -32.0, 5.0]).real))
_ST_MIN = 0.5 * (_ST_X**4 - 16.0 * _ST_X**2 + 5.0 * _ST_X)


def _styblinski_tang(z: np.ndarray) -> float:
    x = z + _ST_X
    return float(0.5 * np.sum(x**4 - 16.0 * x**2 + 5.0 * x) - z.size * _ST_MIN)


def _griewank(z: np.ndarray) -> float:
    i = np.arange(1, z.size + 1)
    return float(1.0 + np.dot(z, z) / 4000.0 - np.prod(np.cos(z / np.sqrt(i))))


def _zakharov(z: np.ndarray) -> float:
    s = float(np.dot(0.5 * np.arange(1, z.size + 1), z))
    return float(np.dot(z, z)) + s**2 + s**4


def _chain(z: np.ndarray) -> float:
    # Trid's function about its minimizer: sum z_i^2 - sum z_i z_(i-1), a coupled quadratic.
    return float(np.dot(z, z) - np.dot(z[1:], z[:-1]))


def _rotation(n: int, angle: float) -> np.ndarray:
    """A fixed rotation: Givens rotations of every pair of coordinates (no random numbers)."""
    q = np.eye(n)
    for i in range(n):
        for j in range(i + 1, n):
            theta = angle * (1.0 + 0.37 * i + 0.23 * j)
            g = np.eye(n)
            g[i, i] = g[j, j] = math.cos(theta)
            g[i, j], g[j, i] = -math.sin(theta), math.sin(theta)
            q = g @ q
    return q


def _rotated(base: Callable[[np.ndarray], float], n: int, angle: float) -> Callable:
    q = _rotation(n, angle)

    def function(z: np.ndarray) -> float:
        return base(q @ z)

    return function


# ----- how parameters map to coordinates ---------------------------------------------------------
@dataclass(frozen=True)
class _Num:
    """A numeric parameter whose coordinate is ``(value - opt) / unit`` (in decades if log)."""

    low: float
    high: float
    opt: float
    unit: float
    log: bool = False

    @property
    def domain(self) -> tuple[Any, ...]:
        return (self.low, self.high, "log") if self.log else (self.low, self.high)

    def coordinate(self, value: float) -> float:
        if self.log:
            return (math.log10(value) - math.log10(self.opt)) / self.unit
        return (value - self.opt) / self.unit


@dataclass(frozen=True)
class _Effect:
    """What one category does: add ``penalty``, shift coordinates, scale, switch off some."""

    penalty: float = 0.0
    shift: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0
    ignore: tuple[str, ...] = ()


def _mixed(
    name: str,
    base: Callable[[np.ndarray], float],
    numeric: dict[str, _Num],
    categorical: dict[str, dict[str, _Effect]],
    description: str,
    order: Sequence[str] | None = None,
) -> Problem:
    """A mixed-space problem: ``penalty + scale * base(z)`` over the numeric coordinates ``z``.

    Under each categorical's first choice (penalty 0, no shift, scale 1) the minimum is 0 at
    every numeric parameter's ``opt``; every other choice has a positive penalty, so that point is
    the global minimum.
    """
    names = list(numeric)
    for cat, effects in categorical.items():
        first = next(iter(effects.values()))
        if first != _Effect() or any(e.penalty <= 0 for e in list(effects.values())[1:]):
            raise ValueError(f"{name}: {cat}'s first choice must be neutral, the others penalized")

    def loss(params: Params) -> float:
        z = {n: spec.coordinate(params[n]) for n, spec in numeric.items()}
        penalty, scale = 0.0, 1.0
        for cat, effects in categorical.items():
            effect = effects[params[cat]]
            penalty += effect.penalty
            scale *= effect.scale
            for n, s in effect.shift.items():
                z[n] -= s
            for n in effect.ignore:
                z[n] = 0.0
        return penalty + scale * base(np.array([z[n] for n in names]))

    limits: Limits = {n: spec.domain for n, spec in numeric.items()}
    limits.update({c: tuple(effects) for c, effects in categorical.items()})
    if order is not None:
        limits = {n: limits[n] for n in order}
    optimum = {n: spec.opt for n, spec in numeric.items()}
    optimum.update({c: next(iter(effects)) for c, effects in categorical.items()})
    return Problem(name, limits, loss, description, "synthetic", optimum, loss(optimum))


def _int(low: int, high: int, opt: int, unit: float, log: bool = False) -> _Num:
    return _Num(low, high, opt, unit, log)


def _float(low: float, high: float, opt: float, unit: float) -> _Num:
    return _Num(low, high, opt, unit)


def _logf(low: float, high: float, opt: float, decades: float) -> _Num:
    return _Num(low, high, opt, decades, log=True)


def _classic_problems() -> list[Problem]:
    """Classic functions over mixed spaces."""
    e = _Effect
    return [
        _mixed(
            "mixed_sphere",
            _sphere,
            {
                "layers": _int(1, 8, 3, 1.5),
                "batch": _int(8, 256, 45, 0.6, log=True),
                "x": _float(-2.0, 3.0, 0.8137, 0.9),
                "momentum": _float(0.0, 0.99, 0.6721, 0.2),
                "lr": _logf(1e-5, 1e-1, 2.7e-3, 0.7),
            },
            {"act": {"gelu": e(), "relu": e(0.15), "tanh": e(0.9, shift={"x": 0.8})}},
            "Shifted sphere, 6-d: 2 ints (one log), 2 floats, a log learning rate, one categorical "
            "(a penalty; the worst choice also moves x's optimum). The easy baseline.",
        ),
        _mixed(
            "mixed_rotated_ellipsoid",
            _rotated(_ellipsoid, 7, 0.41),
            {
                "u1": _int(0, 9, 6, 2.0),
                "u2": _int(1, 12, 4, 2.5),
                "u3": _int(2, 7, 3, 1.0),
                "x1": _float(-1.0, 1.0, 0.3412, 0.4),
                "x2": _float(0.0, 5.0, 1.7321, 1.1),
                "x3": _float(10.0, 20.0, 12.84, 2.5),
                "lr": _logf(1e-6, 1e-2, 4.6e-5, 0.8),
            },
            {"mode": {"a": e(), "b": e(0.05, scale=2.0), "c": e(2.5, scale=0.5)}},
            "Rotated ellipsoid (condition 1e3), 8-d: every parameter interacts with every other; "
            "3 ints, 3 floats, a log float, a categorical that scales the landscape (b close, c "
            "flatter but worse).",
        ),
        _mixed(
            "mixed_rosenbrock",
            _rosenbrock,
            {
                "w1": _float(-3.0, 2.0, -0.7431, 1.2),
                "w2": _float(0.0, 1.0, 0.2689, 0.25),
                "k": _int(0, 10, 7, 2.5),
                "lr": _logf(1e-4, 1.0, 1.9e-2, 1.0),
                "w3": _float(-1.0, 4.0, 2.4183, 1.25),
            },
            {
                "solver": {
                    "lbfgs": e(),
                    "adam": e(0.08, shift={"w2": 0.3}),
                    "sgd": e(1.0, scale=2.0),
                },
                "scaling": {"standard": e(), "minmax": e(0.25), "none": e(0.5, ignore=("lr",))},
            },
            "Rosenbrock's curved valley through 5 coordinates (a float, a float, an int, a log "
            "float, a float), 7-d; two categoricals: the solver (adam close, its valley shifted) "
            "and the scaling (none ignores lr).",
        ),
        _mixed(
            "mixed_rastrigin",
            _rastrigin,
            {
                "n1": _int(1, 8, 3, 1.0),
                "n2": _int(1, 8, 6, 1.0),
                "n3": _int(0, 16, 11, 2.0),
                "n4": _int(2, 64, 20, 0.3, log=True),
                "x1": _float(-5.0, 5.0, 1.3172, 1.0),
                "x2": _float(0.0, 1.0, 0.2718, 0.15),
                "x3": _float(-1.0, 3.0, 2.2361, 0.5),
                "x4": _float(100.0, 400.0, 163.7, 40.0),
                "lr": _logf(1e-5, 1e-1, 3.3e-3, 0.6),
            },
            {"init": {"he": e(), "xavier": e(0.5, shift={"x1": 1.0}), "normal": e(3.0)}},
            "Rastrigin, 10-d, a local minimum at every integer coordinate: 4 ints (one log, one "
            "on half steps), 4 floats, a log float, and the initialization (xavier close, with "
            "x1's optimum one basin away).",
        ),
        _mixed(
            "mixed_ackley",
            _ackley,
            {
                "k1": _int(1, 8, 5, 0.5),
                "k2": _int(0, 20, 13, 1.0),
                "x1": _float(-10.0, 10.0, 2.8713, 0.5),
                "x2": _float(0.0, 1.0, 0.6413, 0.04),
                "x3": _float(-3.0, 3.0, -1.1187, 0.2),
                "lr": _logf(1e-6, 1e-1, 7.4e-4, 0.15),
                "wd": _logf(1e-8, 1e-2, 2.1e-5, 0.2),
            },
            {
                "schedule": {
                    "cosine": e(),
                    "step": e(0.6, shift={"k2": 2.0}),
                    "constant": e(2.0, scale=1.5),
                }
            },
            "Ackley, 8-d: a nearly flat outer region full of local minima around one deep "
            "funnel; 2 ints, 3 floats, 2 log floats over 5 and 6 decades, a schedule "
            "categorical (step moves k2's optimum).",
        ),
        _mixed(
            "mixed_levy",
            _levy,
            {
                "k1": _int(1, 12, 4, 1.0),
                "x1": _float(-4.0, 6.0, 1.8867, 1.0),
                "x2": _float(0.0, 1.0, 0.3846, 0.1),
                "lr": _logf(1e-5, 1.0, 5.6e-3, 0.5),
                "k2": _int(0, 30, 21, 3.0),
                "x3": _float(-1.0, 1.0, -0.2315, 0.2),
            },
            {
                "norm": {
                    "batchnorm": e(),
                    "layernorm": e(0.1, shift={"x1": 0.5}),
                    "none": e(1.5),
                }
            },
            "Levy, 7-d, many local minima: 2 ints, 3 floats, a log float over 5 decades, a "
            "normalization categorical (layernorm close, x1 shifted).",
        ),
        _mixed(
            "mixed_styblinski_tang",
            _styblinski_tang,
            {
                "k1": _int(0, 10, 2, 1.0),
                "x1": _float(0.0, 1.0, 0.2093, 0.1),
                "lr": _logf(1e-4, 1.0, 8.1e-4, 0.4),
                "x2": _float(-2.0, 8.0, -0.1742, 1.0),
                "k2": _int(1, 11, 3, 1.0),
            },
            {"optimizer": {"adamw": e(), "adam": e(0.8), "sgd": e(6.0, shift={"lr": 1.5})}},
            "Styblinski-Tang, 6-d, deceptive: each coordinate has a second, wider basin far from "
            "the best one (14 worse per coordinate); 2 ints, 2 floats, a log float, an optimizer.",
        ),
        _mixed(
            "mixed_griewank",
            _griewank,
            {
                "k1": _int(0, 20, 13, 0.5),
                "k2": _int(1, 6, 2, 0.25),
                "k3": _int(4, 64, 23, 0.05, log=True),
                "x1": _float(-1.0, 1.0, 0.4172, 0.05),
                "x2": _float(0.0, 10.0, 6.4531, 0.5),
                "x3": _float(-5.0, 5.0, -2.1964, 0.4),
                "lr": _logf(1e-5, 1e-1, 4.4e-4, 0.2),
                "wd": _logf(1e-6, 1e-1, 3.7e-5, 0.3),
            },
            {
                "optimizer": {
                    "sgd": e(),
                    "nesterov": e(0.05, shift={"x2": 3.0}),
                    "rmsprop": e(0.3),
                }
            },
            "Griewank on a narrow domain where its product of cosines makes many local minima, "
            "9-d: 3 ints (one log), 3 floats, 2 log floats, an optimizer (nesterov close).",
        ),
        _mixed(
            "mixed_zakharov",
            _zakharov,
            {
                "k1": _int(1, 9, 3, 1.0),
                "x1": _float(-5.0, 10.0, -1.3271, 1.0),
                "x2": _float(0.0, 1.0, 0.7164, 0.2),
                "lr": _logf(1e-5, 1e-1, 1.3e-2, 1.0),
                "k2": _int(2, 32, 7, 0.25, log=True),
            },
            {"pooling": {"mean": e(), "max": e(0.2, shift={"x2": -1.0}), "sum": e(1.0)}},
            "Zakharov, 6-d: a weighted sum of all coordinates enters squared and to the fourth "
            "power, so they all interact; 2 ints (one log), 2 floats, a log float, a pooling "
            "categorical.",
        ),
        _mixed(
            "mixed_coupled_chain",
            _chain,
            {
                "a": _float(0.0, 1.0, 0.5831, 0.06),
                "b": _int(1, 16, 5, 1.5),
                "c": _logf(1e-4, 1e0, 6.3e-2, 0.35),
                "d": _float(-2.0, 2.0, -0.6627, 0.3),
                "e": _int(0, 9, 7, 0.8),
                "f": _logf(1e-7, 1e-1, 2.9e-4, 0.5),
            },
            {"variant": {"v1": e(), "v2": e(0.3, shift={"a": 2.0, "d": -2.0}), "v3": e(4.0)}},
            "Trid's coupled quadratic about its minimizer, 7-d: each parameter interacts with "
            "its neighbour (a-b-c-d-e-f), a narrow diagonal valley; 2 ints, 2 floats, 2 log "
            "floats, a categorical (v2 close, its valley elsewhere).",
        ),
        _mixed(
            "mixed_rotated_rastrigin",
            _rotated(_rastrigin, 5, 0.63),
            {
                "k1": _int(1, 10, 7, 1.2),
                "x1": _float(-2.0, 2.0, 0.6283, 0.8),
                "lr": _logf(1e-5, 1e-1, 1.7e-4, 0.9),
                "k2": _int(0, 12, 4, 1.4),
                "x2": _float(0.0, 1.0, 0.1892, 0.25),
            },
            {"act": {"silu": e(), "relu": e(0.7), "sigmoid": e(2.0, scale=1.3)}},
            "Rotated Rastrigin, 6-d: a lattice of local minima not aligned with any parameter, "
            "so every parameter interacts; 2 ints, 2 floats, a log float, an activation.",
        ),
        _mixed(
            "mixed_switched_ackley",
            _ackley,
            {
                "a1": _float(0.0, 1.0, 0.3391, 0.1),
                "a2": _int(1, 8, 6, 0.8),
                "a3": _logf(1e-5, 1e-1, 6.1e-4, 0.6),
                "a4": _float(-1.0, 1.0, 0.5527, 0.3),
                "b1": _float(0.0, 10.0, 2.9172, 1.5),
                "b2": _int(2, 40, 9, 0.2, log=True),
                "b3": _logf(1e-6, 1e-2, 8.3e-5, 0.5),
                "c1": _float(0.0, 1.0, 0.7713, 0.12),
                "c2": _int(0, 5, 3, 0.5),
                "c3": _logf(1e-3, 1e1, 1.4e-1, 0.5),
            },
            {
                "model": {
                    "full": e(),
                    "small": e(0.3, ignore=("b1", "b2", "b3")),
                    "tiny": e(2.5, ignore=("b1", "b2", "b3", "c1", "c2", "c3")),
                },
                "norm": {"layer": e(), "batch": e(0.1, shift={"a4": 1.0}), "none": e(1.0)},
            },
            "Ackley, 12-d, where the model categorical decides which parameters matter: 'full' "
            "uses all 10 numeric ones (best), 'small' ignores the b's (close), 'tiny' uses only "
            "the a's; 3 ints (one log), 4 floats, 3 log floats, 2 categoricals.",
        ),
    ]


# ----- models of real tuning problems ------------------------------------------------------------
def _argmin_int(function: Callable[[int], float], low: int, high: int) -> int:
    return min(range(low, high + 1), key=function)


def _ripple(offset: float, period: float, height: float) -> float:
    """``height * (1 - cos(2 pi offset / period))``: 0 at offset 0, local minima every period."""
    return height * (1.0 - math.cos(2.0 * math.pi * offset / period))


_MLP_LR0 = {"adam": 1.37e-3, "rmsprop": 6.1e-4, "sgd": 4.3e-2, "adagrad": 2.2e-2}
_MLP_SLOPE = {"adam": 0.5, "rmsprop": 0.5, "sgd": 1.0, "adagrad": 0.7}
_MLP_CURVE = {"adam": 0.08, "rmsprop": 0.12, "sgd": 0.2, "adagrad": 0.1}
_MLP_OPTIMIZER = {"adam": 0.0, "rmsprop": 0.004, "sgd": 0.012, "adagrad": 0.03}
_MLP_ACT = {"gelu": (0.0, 0.0), "relu": (0.003, 0.05), "tanh": (0.02, -0.3)}  # penalty, lr shift


def _mlp_depth(layers: int) -> float:
    # Underfitting falls off geometrically with depth, each layer costs a little: diminishing.
    return 0.25 * 0.55 ** (layers - 1) + 0.0065 * (layers - 1)


def _mlp_width(width: int) -> float:
    return 0.12 * (64.0 / width) ** 0.7 + 0.04 * width / 1024.0


def _mlp_lr(params: Params) -> float:
    opt, act = params["optimizer"], params["activation"]
    return (
        math.log10(_MLP_LR0[opt])
        + _MLP_SLOPE[opt] * math.log10(params["batch_size"] / 64.0)
        - 0.04 * (params["n_layers"] - 3)
        + _MLP_ACT[act][1]
    )


def _mlp_dropout(params: Params) -> float:
    return 0.08 + 0.045 * math.log2(params["width"] / 64.0) + 0.01 * (params["n_layers"] - 3)


def _mlp_loss(params: Params) -> float:
    opt = params["optimizer"]
    d = math.log10(params["lr"]) - _mlp_lr(params)
    loss = 0.1 + _MLP_CURVE[opt] * d * d + _ripple(d, 0.25, 0.004)
    if d > 0.7:  # too large a learning rate diverges
        loss += 0.5 * (d - 0.7) ** 2
    loss += _MLP_OPTIMIZER[opt] + _MLP_ACT[params["activation"]][0]
    loss += 0.01 * (math.log2(params["batch_size"]) - math.log2(88.0)) ** 2
    loss += _mlp_depth(params["n_layers"]) + _mlp_width(params["width"])
    p = params["dropout"] - _mlp_dropout(params)
    loss += 0.3 * p * p + _ripple(p, 0.1, 0.002)
    wd = math.log10(params["weight_decay"]) - (-4.5 - 0.5 * (math.log10(params["lr"]) + 2.86))
    loss += 0.02 * wd * wd
    loss += 0.0015 * (params["warmup_epochs"] - 3) ** 2 * (1.0 if opt == "adam" else 0.5)
    return loss


def _mlp_problem() -> Problem:
    limits: Limits = {
        "lr": (1e-5, 1.0, "log"),
        "batch_size": (16, 1024, "log"),
        "optimizer": ("adam", "sgd", "rmsprop", "adagrad"),
        "n_layers": (1, 8),
        "width": (16, 1024, "log"),
        "dropout": (0.0, 0.8),
        "weight_decay": (1e-8, 1e-2, "log"),
        "activation": ("gelu", "relu", "tanh"),
        "warmup_epochs": (0, 10),
    }
    optimum: dict[str, Any] = {
        "batch_size": 88,
        "optimizer": "adam",
        "n_layers": _argmin_int(_mlp_depth, 1, 8),
        "width": _argmin_int(_mlp_width, 16, 1024),
        "activation": "gelu",
        "warmup_epochs": 3,
    }
    optimum["lr"] = 10.0 ** _mlp_lr(optimum)
    optimum["dropout"] = _mlp_dropout(optimum)
    optimum["weight_decay"] = 10.0 ** (-4.5 - 0.5 * (math.log10(optimum["lr"]) + 2.86))
    optimum = {n: optimum[n] for n in limits}
    return Problem(
        "synth_mlp_training",
        limits,
        _mlp_loss,
        "A model of training an MLP, 9-d: the best learning rate moves with the batch size "
        "(linearly for sgd, by its square root for adam), the optimizer, the depth and the "
        "activation, with ripples and a divergence cliff above it; depth and width have "
        "diminishing returns, the best dropout grows with the width, the best weight decay "
        "falls with the learning rate. 4 ints (2 log), a float, 2 log floats, 2 categoricals.",
        "synthetic",
        optimum,
        _mlp_loss(optimum),
    )


_GB_BOOSTER = {"gbtree": (0.0, 0.0), "dart": (0.003, math.log10(1.6)), "gblinear": (0.08, 0.0)}
_GB_N = 340
_GB_PRODUCT = 7.3  # learning rate x trees along the valley


def _gb_loss(params: Params) -> float:
    booster = params["booster"]
    penalty, lr_shift = _GB_BOOSTER[booster]
    log_lr, log_n = math.log10(params["learning_rate"]), math.log10(params["n_estimators"])
    ridge = log_lr + log_n - math.log10(_GB_PRODUCT) - lr_shift
    along = log_n - math.log10(_GB_N)
    loss = 0.25 + penalty + 0.15 * ridge * ridge + 0.01 * along * along
    loss += _ripple(along, 0.2, 0.002)
    s, c = params["subsample"] - 0.8137, params["colsample"] - 0.6642
    loss += 0.05 * s * s + 0.03 * (s + c) ** 2
    loss += 0.01 * (math.log10(params["reg_lambda"]) - math.log10(2.7)) ** 2
    if booster != "gblinear":  # a linear booster has no trees to shape
        loss += 0.04 * c * c
        lossguide = params["grow_policy"] == "lossguide"
        best_depth = 9 if lossguide else 6
        loss += 0.004 * (params["max_depth"] - best_depth) ** 2 + (0.002 if lossguide else 0.0)
        mcw = math.log10(params["min_child_weight"]) - (0.37 + 0.15 * (params["max_depth"] - 6))
        loss += 0.012 * mcw * mcw
    return loss


def _gb_problem() -> Problem:
    limits: Limits = {
        "learning_rate": (1e-3, 0.5, "log"),
        "n_estimators": (10, 1000, "log"),
        "max_depth": (2, 12),
        "min_child_weight": (1e-2, 1e2, "log"),
        "subsample": (0.3, 1.0),
        "colsample": (0.3, 1.0),
        "reg_lambda": (1e-4, 1e2, "log"),
        "booster": ("gbtree", "dart", "gblinear"),
        "grow_policy": ("depthwise", "lossguide"),
    }
    optimum = {
        "learning_rate": _GB_PRODUCT / _GB_N,
        "n_estimators": _GB_N,
        "max_depth": 6,
        "min_child_weight": 10.0**0.37,
        "subsample": 0.8137,
        "colsample": 0.6642,
        "reg_lambda": 2.7,
        "booster": "gbtree",
        "grow_policy": "depthwise",
    }
    return Problem(
        "synth_gbdt",
        limits,
        _gb_loss,
        "A model of tuning gradient-boosted trees, 9-d: a long diagonal valley where learning "
        "rate x trees is constant (rippled along it), the best min_child_weight grows with the "
        "depth, subsample and colsample interact; dart is close (its valley shifted), gblinear "
        "ignores the tree parameters. 2 ints (one log), 2 floats, 3 log floats, 2 categoricals.",
        "synthetic",
        optimum,
        _gb_loss(optimum),
    )


_SVM_KERNEL = {"rbf": 0.0, "poly": 0.01, "sigmoid": 0.12, "linear": 0.03}


def _svm_loss(params: Params) -> float:
    kernel = params["kernel"]
    u = math.log10(params["C"]) - math.log10(37.4)
    if kernel == "linear":  # no gamma; its own best C
        u, v = math.log10(params["C"]) - math.log10(0.41), 0.0
    else:
        gamma_opt = 2.3e-3 * (3.0 if kernel == "poly" else 1.0)
        v = math.log10(params["gamma"]) - math.log10(gamma_opt)
    across, along = (u + v) / math.sqrt(2.0), (u - v) / math.sqrt(2.0)
    q = 0.2 * across * across + 0.02 * along * along
    # Far from the valley a SVM predicts a constant: the loss saturates into a plateau.
    loss = 0.06 + _SVM_KERNEL[kernel] + 0.4 * (1.0 - math.exp(-q / 0.4))
    if kernel == "poly":
        loss += 0.004 * (params["degree"] - 3) ** 2
    if kernel in ("poly", "sigmoid"):
        loss += 0.03 * (params["coef0"] - 0.73) ** 2
    return loss + (0.008 if params["class_weight"] == "none" else 0.0)


def _svm_problem() -> Problem:
    limits: Limits = {
        "C": (1e-3, 1e4, "log"),
        "gamma": (1e-5, 10.0, "log"),
        "kernel": ("rbf", "poly", "sigmoid", "linear"),
        "degree": (2, 5),
        "coef0": (0.0, 2.0),
        "class_weight": ("balanced", "none"),
    }
    # degree and coef0 do not matter for rbf: any value is optimal.
    optimum = {
        "C": 37.4,
        "gamma": 2.3e-3,
        "kernel": "rbf",
        "degree": 3,
        "coef0": 0.73,
        "class_weight": "balanced",
    }
    return Problem(
        "synth_svm",
        limits,
        _svm_loss,
        "A model of tuning an SVM, 6-d: a diagonal valley in (log C, log gamma) with a flat "
        "plateau far from it; the kernel decides which parameters matter (degree for poly, "
        "coef0 for poly and sigmoid, no gamma for linear). An int, a float, 2 log floats over 7 "
        "and 6 decades, 2 categoricals.",
        "synthetic",
        optimum,
        _svm_loss(optimum),
    )


_FT_SCHEDULER = {"cosine": 0.0, "linear": 0.002, "polynomial": 0.006, "constant": 0.02}


def _ft_epochs(epochs: int) -> float:
    return 0.08 * 0.5 ** (epochs - 1) + 0.006 * (epochs - 1)


def _ft_lr(params: Params) -> float:
    return (
        math.log10(2.7e-5)
        + 0.5 * math.log10(params["batch_size"] / 32.0)
        - 0.05 * (params["epochs"] - 3)
        + 0.08 * params["frozen_layers"]
    )


def _ft_loss(params: Params) -> float:
    d = math.log10(params["lr"]) - _ft_lr(params)
    loss = 0.3 + 0.1 * d * d + _ripple(d, 0.3, 0.003)
    if d > 0.5:  # catastrophic forgetting above the best rate
        loss += 0.4 * (d - 0.5) ** 2
    loss += _FT_SCHEDULER[params["scheduler"]] + _ft_epochs(params["epochs"])
    loss += 0.002 * (math.log2(params["batch_size"]) - math.log2(21.0)) ** 2
    warmup = 0.0 if params["scheduler"] == "constant" else params["warmup_ratio"] - 0.0637
    loss += 0.2 * warmup * warmup
    wd = math.log10(params["weight_decay"]) - math.log10(1.3e-2)
    loss += 0.004 * wd * wd
    smoothing = params["label_smoothing"] - 0.0815
    loss += 0.15 * smoothing * smoothing
    # Layer-wise decay and freezing trade off: the more layers frozen, the less decay needed.
    decay = params["layer_decay"] - (0.7713 + 0.04 * params["frozen_layers"])
    loss += 0.1 * decay * decay + 0.0035 * abs(params["frozen_layers"] - 2)
    return loss


def _ft_problem() -> Problem:
    limits: Limits = {
        "lr": (1e-6, 1e-3, "log"),
        "batch_size": (8, 128, "log"),
        "epochs": (1, 10),
        "warmup_ratio": (0.0, 0.3),
        "weight_decay": (1e-5, 0.3, "log"),
        "scheduler": ("cosine", "linear", "constant", "polynomial"),
        "label_smoothing": (0.0, 0.3),
        "layer_decay": (0.5, 1.0),
        "frozen_layers": (0, 6),
    }
    optimum: dict[str, Any] = {
        "batch_size": 21,
        "epochs": _argmin_int(_ft_epochs, 1, 10),
        "warmup_ratio": 0.0637,
        "weight_decay": 1.3e-2,
        "scheduler": "cosine",
        "label_smoothing": 0.0815,
        "frozen_layers": 2,
    }
    optimum["layer_decay"] = 0.7713 + 0.04 * 2
    optimum["lr"] = 10.0 ** _ft_lr(optimum)
    optimum = {n: optimum[n] for n in limits}
    return Problem(
        "synth_finetune",
        limits,
        _ft_loss,
        "A model of fine-tuning a pretrained transformer, 9-d: a narrow learning-rate optimum "
        "(moving with batch size, epochs and frozen layers; a cliff above it), epochs with "
        "diminishing returns, warmup irrelevant under a constant schedule, layer decay traded "
        "against frozen layers. 3 ints (one log), 3 floats, 2 log floats, a scheduler.",
        "synthetic",
        optimum,
        _ft_loss(optimum),
    )


# ===== scikit-learn problems =====================================================================
_CLIP = 1e-4  # smallest probability the log loss counts


@functools.cache
def _threads() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Features (standardized) and targets of a bundled data set, loaded once per process."""
    from sklearn import datasets
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    if name.startswith("friedman"):
        # make_friedman1: 5 informative features of 10, y = 10 sin(pi x1 x2) + 20 (x3 - .5)^2 ...
        x, y = datasets.make_friedman1(n_samples=300, noise=1.0, random_state=0)
        degree = int(name[len("friedman") :] or 1)
        if degree > 1:
            x = PolynomialFeatures(degree, include_bias=False).fit_transform(x)
    else:
        loader = {
            "wine": datasets.load_wine,
            "breast_cancer": datasets.load_breast_cancer,
            "digits": datasets.load_digits,
            "diabetes": datasets.load_diabetes,
        }[name]
        x, y = loader(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    if name in ("diabetes",) or name.startswith("friedman"):
        y = (y - y.mean()) / y.std()
    return np.ascontiguousarray(x), y


@functools.cache
def _folds(name: str, classification: bool) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    from sklearn.model_selection import KFold, StratifiedKFold

    x, y = _data(name)
    splitter = (StratifiedKFold if classification else KFold)(3, shuffle=True, random_state=0)
    return tuple(splitter.split(x, y))


@functools.cache
def _ranked_features(name: str) -> np.ndarray:
    """Feature indices by decreasing ANOVA F score on the whole data set (computed once)."""
    from sklearn.feature_selection import f_classif

    x, y = _data(name)
    scores, _ = f_classif(x, y)
    return np.argsort(-np.nan_to_num(scores), kind="stable")


@functools.cache
def _pca(name: str) -> np.ndarray:
    """The data set projected on all its principal components (computed once)."""
    from sklearn.decomposition import PCA

    x, _ = _data(name)
    return PCA(random_state=0).fit_transform(x)


def _cross_validate(
    make_model: Callable[[], Any], data: str, classification: bool, x: np.ndarray | None = None
) -> float:
    """Out-of-fold log loss (classification) or 1 - R^2 (regression) of ``make_model()``."""
    features, y = _data(data)
    if x is not None:
        features = x
    with warnings.catch_warnings(), _threads().limit(limits=1):
        warnings.simplefilter("ignore")  # convergence warnings at small iteration budgets
        if classification:
            classes = np.unique(y)
            proba = np.zeros((y.size, classes.size))
            for train, test in _folds(data, True):
                model = make_model().fit(features[train], y[train])
                proba[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(
                    features[test]
                )
            truth = np.nan_to_num(proba[np.arange(y.size), np.searchsorted(classes, y)])
            return float(-np.mean(np.log(np.clip(truth, _CLIP, 1.0))))
        predicted = np.zeros(y.size)
        for train, test in _folds(data, False):
            predicted[test] = make_model().fit(features[train], y[train]).predict(features[test])
        if not np.all(np.isfinite(predicted)):
            return 10.0  # a diverged model: worse than predicting the mean (1 - R^2 = 1)
        return float(min(np.mean((predicted - y) ** 2) / np.var(y), 10.0))


def _svc_wine(p: Params) -> float:
    from sklearn.svm import SVC

    return _cross_validate(
        lambda: SVC(
            C=p["C"],
            gamma=p["gamma"],
            kernel=p["kernel"],
            degree=p["degree"],
            coef0=p["coef0"],
            probability=True,
            max_iter=20000,
            random_state=0,
        ),
        "wine",
        True,
    )


def _svr_diabetes(p: Params) -> float:
    from sklearn.svm import SVR

    return _cross_validate(
        lambda: SVR(
            C=p["C"],
            epsilon=p["epsilon"],
            gamma=p["gamma"],
            kernel=p["kernel"],
            degree=p["degree"],
            max_iter=3000,
        ),
        "diabetes",
        False,
    )


def _logreg_breast_cancer(p: Params) -> float:
    from sklearn.linear_model import LogisticRegression

    columns = _ranked_features("breast_cancer")[: p["n_features"]]
    return _cross_validate(
        lambda: LogisticRegression(
            C=p["C"],
            l1_ratio=1.0 if p["penalty"] == "l1" else 0.0,
            solver="liblinear",
            intercept_scaling=p["intercept_scaling"],
            class_weight=None if p["class_weight"] == "none" else "balanced",
            random_state=0,
        ),
        "breast_cancer",
        True,
        _data("breast_cancer")[0][:, columns],
    )


def _random_forest_wine(p: Params) -> float:
    from sklearn.ensemble import RandomForestClassifier

    return _cross_validate(
        lambda: RandomForestClassifier(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            max_features=p["max_features"],
            min_samples_leaf=p["min_samples_leaf"],
            min_impurity_decrease=p["min_impurity_decrease"],
            criterion=p["criterion"],
            bootstrap=p["bootstrap"] == "yes",
            random_state=0,
        ),
        "wine",
        True,
    )


def _extra_trees_breast_cancer(p: Params) -> float:
    from sklearn.ensemble import ExtraTreesClassifier

    return _cross_validate(
        lambda: ExtraTreesClassifier(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            max_features=p["max_features"],
            min_samples_split=p["min_samples_split"],
            ccp_alpha=p["ccp_alpha"],
            criterion=p["criterion"],
            class_weight=None if p["class_weight"] == "none" else p["class_weight"],
            random_state=0,
        ),
        "breast_cancer",
        True,
    )


def _hist_gb_diabetes(p: Params) -> float:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return _cross_validate(
        lambda: HistGradientBoostingRegressor(
            loss=p["loss"],
            learning_rate=p["learning_rate"],
            max_iter=p["max_iter"],
            max_leaf_nodes=p["max_leaf_nodes"],
            min_samples_leaf=p["min_samples_leaf"],
            l2_regularization=p["l2_regularization"],
            max_features=p["max_features"],
            early_stopping=False,
            random_state=0,
        ),
        "diabetes",
        False,
    )


def _gb_friedman(p: Params) -> float:
    from sklearn.ensemble import GradientBoostingRegressor

    return _cross_validate(
        lambda: GradientBoostingRegressor(
            criterion=p["criterion"],
            learning_rate=p["learning_rate"],
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            subsample=p["subsample"],
            max_features=p["max_features"],
            random_state=0,
        ),
        "friedman",
        False,
    )


def _knn_digits(p: Params) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    return _cross_validate(
        lambda: KNeighborsClassifier(
            n_neighbors=p["n_neighbors"],
            weights=p["weights"],
            p=p["p"],
            algorithm="brute",
        ),
        "digits",
        True,
        _pca("digits")[:, : p["n_components"]],
    )


def _sgd_breast_cancer(p: Params) -> float:
    from sklearn.linear_model import SGDClassifier

    return _cross_validate(
        lambda: SGDClassifier(
            loss="log_loss",
            alpha=p["alpha"],
            eta0=p["eta0"],
            learning_rate=p["learning_rate"],
            penalty=p["penalty"],
            l1_ratio=p["l1_ratio"],
            max_iter=p["max_iter"],
            average=p["average"] == "yes",
            tol=None,
            random_state=0,
        ),
        "breast_cancer",
        True,
    )


def _elastic_net_friedman(p: Params) -> float:
    from sklearn.linear_model import ElasticNet

    return _cross_validate(
        lambda: ElasticNet(
            alpha=p["alpha"],
            l1_ratio=p["l1_ratio"],
            fit_intercept=p["fit_intercept"] == "yes",
            selection=p["selection"],
            max_iter=p["max_iter"],
            random_state=0,
        ),
        "friedman",
        False,
        _data(f"friedman{p['degree']}")[0],
    )


def _sklearn_problems() -> list[Problem]:
    return [
        Problem(
            "sk_svc_wine",
            {
                "C": (1e-2, 1e3, "log"),
                "gamma": (1e-4, 10.0, "log"),
                "kernel": ("rbf", "poly", "sigmoid"),
                "degree": (2, 5),
                "coef0": (-1.0, 1.0),
            },
            _svc_wine,
            "SVC with Platt-scaled probabilities on wine (178 x 13, 3 classes), log loss.",
            "sklearn",
        ),
        Problem(
            "sk_svr_diabetes",
            {
                "C": (1e-2, 1e2, "log"),
                "epsilon": (1e-3, 1.0, "log"),
                "gamma": (1e-4, 1.0, "log"),
                "kernel": ("rbf", "sigmoid", "poly"),
                "degree": (2, 4),
            },
            _svr_diabetes,
            "SVR on diabetes (442 x 10, standardized target), 1 - R^2.",
            "sklearn",
        ),
        Problem(
            "sk_logreg_breast_cancer",
            {
                "C": (1e-4, 1e2, "log"),
                "penalty": ("l1", "l2"),
                "intercept_scaling": (1e-2, 1e2, "log"),
                "class_weight": ("none", "balanced"),
                "n_features": (2, 30),
            },
            _logreg_breast_cancer,
            "Logistic regression (liblinear) on the n_features best features (ANOVA F) of "
            "breast cancer (569 x 30, 2 classes), log loss.",
            "sklearn",
        ),
        Problem(
            "sk_random_forest_wine",
            {
                "n_estimators": (2, 8),
                "max_depth": (1, 10),
                "max_features": (0.05, 1.0),
                "min_samples_leaf": (1, 16),
                "min_impurity_decrease": (1e-6, 1e-1, "log"),
                "criterion": ("gini", "entropy", "log_loss"),
                "bootstrap": ("yes", "no"),
            },
            _random_forest_wine,
            "Random forest on wine, log loss (few trees keep it cheap; more trees also smooth "
            "the probabilities).",
            "sklearn",
        ),
        Problem(
            "sk_extra_trees_breast_cancer",
            {
                "n_estimators": (2, 8),
                "max_depth": (1, 12),
                "max_features": (0.05, 1.0),
                "min_samples_split": (2, 32, "log"),
                "ccp_alpha": (1e-5, 1e-1, "log"),
                "criterion": ("gini", "entropy"),
                "class_weight": ("none", "balanced", "balanced_subsample"),
            },
            _extra_trees_breast_cancer,
            "Extremely randomized trees on breast cancer, log loss.",
            "sklearn",
        ),
        Problem(
            "sk_hist_gb_diabetes",
            {
                "learning_rate": (1e-3, 1.0, "log"),
                "max_iter": (5, 20),
                "max_leaf_nodes": (2, 32, "log"),
                "min_samples_leaf": (2, 60),
                "l2_regularization": (1e-6, 10.0, "log"),
                "max_features": (0.2, 1.0),
                "loss": ("squared_error", "absolute_error"),
            },
            _hist_gb_diabetes,
            "Histogram gradient boosting (no early stopping) on diabetes, 1 - R^2.",
            "sklearn",
        ),
        Problem(
            "sk_gb_friedman",
            {
                "learning_rate": (1e-2, 1.0, "log"),
                "n_estimators": (3, 16),
                "max_depth": (1, 6),
                "subsample": (0.3, 1.0),
                "max_features": (0.2, 1.0),
                "criterion": ("friedman_mse", "squared_error"),
            },
            _gb_friedman,
            "Gradient boosting on Friedman #1 (300 x 10, noise 1, seed 0), 1 - R^2.",
            "sklearn",
        ),
        Problem(
            "sk_knn_digits",
            {
                "n_neighbors": (1, 40),
                "weights": ("uniform", "distance"),
                "p": (1, 2),
                "n_components": (3, 32, "log"),
            },
            _knn_digits,
            "k nearest neighbours on the first n_components principal components of digits "
            "(1797 x 64, 10 classes), log loss. No float: every parameter is an int or a choice.",
            "sklearn",
        ),
        Problem(
            "sk_sgd_breast_cancer",
            {
                "alpha": (1e-7, 1.0, "log"),
                "eta0": (1e-4, 1.0, "log"),
                "learning_rate": ("optimal", "constant", "invscaling", "adaptive"),
                "penalty": ("l2", "l1", "elasticnet"),
                "l1_ratio": (0.0, 1.0),
                "max_iter": (3, 40),
                "average": ("no", "yes"),
            },
            _sgd_breast_cancer,
            "Logistic regression by SGD on breast cancer, log loss; l1_ratio matters only for "
            "elasticnet, eta0 not for 'optimal'.",
            "sklearn",
        ),
        Problem(
            "sk_elastic_net_friedman",
            {
                "alpha": (1e-5, 10.0, "log"),
                "l1_ratio": (0.01, 1.0),
                "degree": (1, 2),
                "fit_intercept": ("yes", "no"),
                "selection": ("cyclic", "random"),
                "max_iter": (20, 500, "log"),
            },
            _elastic_net_friedman,
            "Elastic net on polynomial features (degree 1 or 2) of Friedman #1, 1 - R^2.",
            "sklearn",
        ),
    ]


def _all_problems() -> dict[str, Problem]:
    problems = [
        *_classic_problems(),
        _mlp_problem(),
        _gb_problem(),
        _svm_problem(),
        _ft_problem(),
        *_sklearn_problems(),
    ]
    by_name = {p.name: p for p in problems}
    if len(by_name) != len(problems):
        raise ValueError("two problems share a name")
    return by_name


#: Every problem by name: synthetic ones first, then scikit-learn ones.
PROBLEMS: dict[str, Problem] = _all_problems()


# ===== checks ====================================================================================
def _neighbours(problem: Problem, point: dict[str, Any]) -> list[dict[str, Any]]:
    """Every change of one parameter of ``point``: all ints and choices, 101 floats per range."""
    changed = []
    for name, domain in problem.limits.items():
        kind = _kind(domain)
        low, high = (None, None) if kind == "categorical" else sorted(domain[:2])
        if kind == "categorical":
            values: Sequence[Any] = domain
        elif all(isinstance(v, int) for v in domain[:2]):
            values = range(int(low), int(high) + 1)
        elif kind == "log":
            values = np.geomspace(low, high, 101).tolist()
        else:
            values = np.linspace(low, high, 101).tolist()
        changed += [{**point, name: v} for v in values if v != point[name]]
    return changed


def check(names: Sequence[str], samples: int, timed: int) -> None:
    """Print, per problem, its kinds, the best of random samples, the optimum and the timing."""
    for name in names:
        problem = PROBLEMS[name]
        rng = random.Random(0)
        points = [sample(problem.limits, rng) for _ in range(samples)]
        problem.loss(points[0])  # imports and loads the data set: not part of the timing
        started = time.perf_counter()
        timed_losses = [problem.loss(p) for p in points[:timed]]
        seconds = (time.perf_counter() - started) / timed
        losses = timed_losses + [problem.loss(p) for p in points[timed:]]
        if not all(math.isfinite(v) for v in losses):
            raise AssertionError(f"{name}: a non-finite loss at a random point")
        line = (
            f"{name:30s} {len(problem.limits):2d}-d {problem.kinds} "
            f"{seconds * 1e3:8.3f} ms  random best {min(losses):.6g} median "
            f"{float(np.median(losses)):.6g}"
        )
        if problem.optimum is not None:
            optimum = problem.loss(problem.optimum)
            if not math.isclose(optimum, problem.optimal_loss or 0.0, abs_tol=1e-12):
                raise AssertionError(f"{name}: loss at the optimum {optimum} is not documented")
            if not optimum < min(losses):
                raise AssertionError(f"{name}: a random sample beats the optimum {optimum}")
            near = min(problem.loss(p) for p in _neighbours(problem, problem.optimum))
            if near < optimum - 1e-12:
                raise AssertionError(f"{name}: a neighbour ({near}) beats the optimum {optimum}")
            line += f"  optimum {optimum:.6g} (best neighbour +{near - optimum:.3g})"
        print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Check and time the benchmark problems.")
    parser.add_argument("--check", action="store_true", help="check and time every problem")
    parser.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), default=None)
    parser.add_argument("--samples", type=int, default=1000, help="random points per problem")
    parser.add_argument("--timed", type=int, default=40, help="of which timed")
    args = parser.parse_args(argv)
    names = args.problems or list(PROBLEMS)
    if args.check:
        check(names, args.samples, args.timed)
        return
    for name in names:
        problem = PROBLEMS[name]
        print(f"{name}: {problem.limits}\n    {problem.description}")


if __name__ == "__main__":
    main()
