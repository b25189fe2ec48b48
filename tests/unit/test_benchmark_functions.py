from __future__ import annotations

import math
import random

import numpy as np
import pytest

from propulate import Individual, SearchSpace
from propulate.errors import ConfigurationError
from propulate.utils import benchmark_functions as bf
from propulate.utils.benchmark_functions import get_function_search_space, parse_arguments

ALL_NAMES = [
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
    "bukin",
    "eggcrate",
    "himmelblau",
    "keane",
    "leon",
]

SCHWEFEL_ARGMIN = 420.9687463


def point(values) -> dict[str, float]:
    return {f"x{i}": float(v) for i, v in enumerate(values)}


# name -> (function, a global minimizer of the n-d default-ish space, minimum value)
MINIMA = {
    "sphere": (bf.sphere, [0.0] * 7, 0.0),
    "rosenbrock2": (bf.rosenbrock, [1.0, 1.0], 0.0),
    "rosenbrock5": (bf.rosenbrock, [1.0] * 5, 0.0),
    "rastrigin": (bf.rastrigin, [0.0] * 20, 0.0),
    "griewank": (bf.griewank, [0.0] * 10, 0.0),
    "ackley": (bf.ackley, [0.0] * 10, 0.0),
    "ackley2": (bf.ackley, [0.0, 0.0], 0.0),
    "schwefel": (bf.schwefel, [SCHWEFEL_ARGMIN] * 10, 0.0),
    "bisphere": (bf.bisphere, [2.5] * 26, 0.0),
    "birastrigin": (bf.birastrigin, [2.5] * 26, 0.0),
    "bukin": (bf.bukin_n6, [-10.0, 1.0], 0.0),
    "eggcrate": (bf.egg_crate, [0.0, 0.0], 0.0),
    "himmelblau1": (bf.himmelblau, [3.0, 2.0], 0.0),
    "himmelblau2": (bf.himmelblau, [-2.805118, 3.131312], 0.0),
    "himmelblau3": (bf.himmelblau, [-3.779310, -3.283186], 0.0),
    "himmelblau4": (bf.himmelblau, [3.584428, -1.848126], 0.0),
    "keane1": (bf.keane, [1.3932491, 0.0], -0.6736675),
    "keane2": (bf.keane, [0.0, 1.3932491], -0.6736675),
    "leon": (bf.leon, [1.0, 1.0], 0.0),
    "step": (bf.step, [-5.05] * 5, -30.0),
}


@pytest.mark.parametrize("case", sorted(MINIMA))
def test_value_at_global_minimum(case):
    function, x, minimum = MINIMA[case]
    assert function(point(x)) == pytest.approx(minimum, abs=1e-5)


@pytest.mark.parametrize("case", sorted(MINIMA))
def test_global_minimum_beats_random_points(case):
    # Every random point of the usual domain must be no better than the documented minimum.
    function, x, minimum = MINIMA[case]
    name = case.rstrip("0123456789")
    _, limits = get_function_search_space(name, dimensions=None if name in TWO_D else len(x))
    rng = np.random.default_rng(0)
    lows = np.array([low for low, _ in limits.values()])
    highs = np.array([high for _, high in limits.values()])
    samples = rng.uniform(lows, highs, size=(300, len(limits)))
    values = [function(point(s)) for s in samples]
    assert min(values) >= minimum - 1e-6


TWO_D = {"bukin", "eggcrate", "himmelblau", "keane", "leon"}


def test_values_at_known_non_optimal_points():
    assert bf.sphere(point([1.0, 2.0, 3.0])) == pytest.approx(14.0)
    assert bf.rosenbrock(point([0.0, 0.0])) == pytest.approx(1.0)
    # 100 * (1 - 0)^2 + (1 - 0)^2 for the first pair, 100 * (0 - 1)^2 + 0 for the second.
    assert bf.rosenbrock(point([0.0, 1.0, 0.0])) == pytest.approx(101.0 + 100.0)
    assert bf.rastrigin(point([1.0, 0.0])) == pytest.approx(1.0)
    assert bf.rastrigin(point([0.5])) == pytest.approx(20.25)
    assert bf.griewank(point([math.pi * 2.0])) == pytest.approx(1 + (2 * math.pi) ** 2 / 4000 - 1)
    assert bf.step(point([0.5, -0.5, 1.9])) == -1.0 + 0.0 + 1.0
    assert bf.step(point([-5.12] * 5)) == -30.0
    assert bf.bukin_n6(point([-15.0, 3.0])) == pytest.approx(
        100 * math.sqrt(abs(3.0 - 2.25)) + 0.05
    )
    assert bf.egg_crate(point([math.pi, 0.0])) == pytest.approx(math.pi**2)
    assert bf.himmelblau(point([0.0, 0.0])) == pytest.approx(170.0)
    assert bf.leon(point([0.0, 0.0])) == pytest.approx(1.0)
    assert bf.leon(point([2.0, 8.0])) == pytest.approx(1.0)
    assert bf.keane(point([1.0, 1.0])) == pytest.approx(0.0, abs=1e-12)
    assert bf.schwefel(point([0.0] * 3)) == pytest.approx(3 * 418.9828872724337)


def test_ackley_values():
    # The published form (Ackley 1987): -20 exp(-0.2 r) - exp(mean cos(2 pi x)) + 20 + e.
    assert bf.ackley(point([0.0] * 3)) == 0.0
    # At integer points cos(2 pi x) = 1, so only the radius term remains.
    x = [1.0, 0.0]
    expected = -20.0 * math.exp(-0.2 * math.sqrt(0.5)) - math.e + 20.0 + math.e
    assert bf.ackley(point(x)) == pytest.approx(expected)
    # Half-integers: cos = -1 everywhere.
    expected = -20.0 * math.exp(-0.2 * 0.5) - math.exp(-1.0) + 20.0 + math.e
    assert bf.ackley(point([0.5, -0.5, 0.5])) == pytest.approx(expected)
    # A local minimum lies near (0.95, 0), pulled from the grid point (1, 0) towards the origin.
    assert bf.ackley(point([0.8, 0.0])) > bf.ackley(point([0.95, 0.0]))
    assert bf.ackley(point([1.05, 0.0])) > bf.ackley(point([0.95, 0.0]))
    assert bf.ackley(point([0.95, 0.0])) > bf.ackley(point([0.0, 0.0])) + 2.5
    assert get_function_search_space("ackley")[1]["j"] == (-32.768, 32.768)


def test_keane_is_finite_at_the_origin():
    assert bf.keane(point([0.0, 0.0])) == 0.0


def test_lunacek_second_funnel_is_worse_than_the_first():
    # The published constants (Lunacek et al. 2008): s = 1 - 1 / (2 sqrt(N + 20) - 8.2).
    n = 30
    s = 1.0 - 1.0 / (2.0 * math.sqrt(n + 20) - 8.2)
    mu2 = -math.sqrt((2.5**2 - 1.0) / s)
    x = point([mu2] * n)
    # The bottom of the sub-optimal funnel: d * N.
    assert bf.bisphere(x) == pytest.approx(n * 1.0)
    assert bf.bisphere(point([mu2 + 0.01] * n)) > bf.bisphere(x)
    assert bf.birastrigin(x) > bf.bisphere(x)
    assert bf.bisphere({"a": 0.0, "b": 0.0}) == pytest.approx(12.5)


def test_quartic_noise():
    zeros = point([0.0] * 30)
    assert bf.quartic(zeros, noise=0.0) == 0.0
    assert bf.quartic(point([1.0, 1.0]), noise=0.0) == pytest.approx(3.0)
    # The noise comes from the given generator: same seed, same value.
    expected = np.random.default_rng(7).standard_normal()
    assert bf.quartic(zeros, rng=np.random.default_rng(7)) == pytest.approx(expected)
    rng = np.random.default_rng(1)
    draws = np.array([bf.quartic(zeros, rng=rng) for _ in range(2000)])
    assert abs(draws.mean()) < 0.1
    assert draws.std() == pytest.approx(1.0, abs=0.1)
    assert (draws < 0).any()  # no absolute value
    # Without a generator the value still varies from call to call.
    assert len({bf.quartic(zeros) for _ in range(5)}) > 1


def test_functions_accept_an_individual_and_return_python_floats():
    function, limits = get_function_search_space("rastrigin", dimensions=4)
    ind = Individual({name: 0.0 for name in limits}, limits)
    value = function(ind)
    assert type(value) is float
    assert value == 0.0
    for name in ALL_NAMES:
        function, limits = get_function_search_space(name)
        ind = Individual(SearchSpace(limits).sample(random.Random(0)), limits)
        assert type(function(ind)) is float


@pytest.mark.parametrize("function", [bf.bukin_n6, bf.egg_crate, bf.himmelblau, bf.keane, bf.leon])
def test_two_dimensional_functions_reject_other_sizes(function):
    with pytest.raises(ConfigurationError, match="two-dimensional"):
        function(point([0.0, 0.0, 0.0]))


DEFAULT_DIMENSIONS = {
    "sphere": 2,
    "rosenbrock": 2,
    "step": 5,
    "quartic": 30,
    "rastrigin": 20,
    "griewank": 10,
    "ackley": 10,
    "schwefel": 10,
    "bisphere": 30,
    "birastrigin": 30,
    "bukin": 2,
    "eggcrate": 2,
    "himmelblau": 2,
    "keane": 2,
    "leon": 2,
}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_search_space_is_valid(name):
    function, limits = get_function_search_space(name)
    assert callable(function)
    assert len(limits) == DEFAULT_DIMENSIONS[name]
    space = SearchSpace(limits)
    assert all(d.kind == "float" for d in space)
    assert list(limits)[:2] == ["a", "b"]


def test_search_space_limits_of_propulate_1_2():
    assert get_function_search_space("bukin")[1] == {"a": (-15.0, -5.0), "b": (-3.0, 3.0)}
    assert get_function_search_space("sphere")[1] == {"a": (-5.12, 5.12), "b": (-5.12, 5.12)}
    assert get_function_search_space("keane")[1] == {"a": (0.0, 10.0), "b": (0.0, 10.0)}
    assert get_function_search_space("griewank")[1]["j"] == (-600.0, 600.0)
    names = list(get_function_search_space("quartic")[1])
    assert names[25:] == ["z", "A1", "B1", "C1", "D1"]
    assert get_function_search_space("bukin")[0] is bf.bukin_n6
    assert get_function_search_space("eggcrate")[0] is bf.egg_crate


def test_dimensions_keyword():
    function, limits = get_function_search_space("sphere", dimensions=10)
    assert function is bf.sphere
    assert len(limits) == 10 and len(set(limits)) == 10
    _, limits = get_function_search_space("rastrigin", dimensions=60)
    assert len(set(limits)) == 60
    SearchSpace(limits)
    with pytest.raises(ConfigurationError, match="2-dimensional"):
        get_function_search_space("himmelblau", dimensions=3)
    with pytest.raises(ConfigurationError, match="positive"):
        get_function_search_space("sphere", dimensions=0)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigurationError) as error:
        get_function_search_space("sphre")
    message = str(error.value)
    assert "'sphre'" in message
    for name in ALL_NAMES:
        assert name in message


class FakeComm:
    size = 3


def test_parse_arguments_defaults():
    config, explicitly_set = parse_arguments(FakeComm(), args=[])
    assert config.function == "sphere"
    assert config.pop_size == 6
    assert config.generations == 1000
    assert config.seed == 0
    assert config.checkpoint == "./"
    assert config.crossover_probability == 0.7
    assert config.mutation_probability == 0.4
    assert config.random_init_probability == 0.1
    assert config.num_islands == 2
    assert config.migration_probability == 0.9
    assert config.num_migrants == 1
    assert config.pollination is False
    assert config.variant == "Basic"
    assert config.inertia == 0.729
    assert config.ranks_per_worker == 2
    assert config.top_n == 1
    assert config.logging_interval == 10
    assert explicitly_set == {"inertia": False, "cognitive": False, "social": False}


def test_parse_arguments_options():
    config, explicitly_set = parse_arguments(
        None,
        args=[
            "--function",
            "rastrigin",
            "--generations",
            "7",
            "--seed",
            "3",
            "--checkpoint",
            "/tmp/x",
            "--social",
            "2.0",
            "--pollination",
            "--dimensions",
            "4",
        ],
    )
    assert (config.function, config.generations, config.seed) == ("rastrigin", 7, 3)
    assert config.checkpoint == "/tmp/x"
    assert config.social == 2.0 and config.pollination and config.dimensions == 4
    assert explicitly_set == {"inertia": False, "cognitive": False, "social": True}
    with pytest.raises(SystemExit):
        parse_arguments(None, args=["--function", "nope"])


def test_parse_arguments_without_comm_reads_launcher_size(monkeypatch):
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_NTASKS"):
        monkeypatch.delenv(variable, raising=False)
    assert parse_arguments(args=[])[0].pop_size == 2
    monkeypatch.setenv("PMI_SIZE", "5")
    assert parse_arguments(args=[])[0].pop_size == 10
