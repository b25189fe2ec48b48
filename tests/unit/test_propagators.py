from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence

import pytest

from propulate import Individual, SearchSpace, get_default_propagator
from propulate.errors import ConfigurationError
from propulate.population import Population
from propulate.propagators import (
    AvoidDuplicates,
    Compose,
    Conditional,
    CrossoverMultiple,
    CrossoverSigmoid,
    CrossoverUniform,
    InitUniform,
    IntervalMutationNormal,
    PointMutation,
    Propagator,
    RandomPointMutation,
    SelectMax,
    SelectMin,
    SelectUniform,
    Stochastic,
)
from propulate.propagators.base import as_list

FLOATS = {f"x{j}": (0.0, 1.0) for j in range(6)}
MIXED = {"n": (0, 9), "x": (0.0, 1.0), "act": ("relu", "tanh", "elu"), "lr": (0.01, 0.0001)}


def evaluated(values, limits, loss, rank=0, generation=0) -> Individual:
    ind = Individual(values, limits, generation=generation, rank=rank)
    ind.loss = loss
    return ind


def distinct_population(n: int) -> list[Individual]:
    """Individuals whose values differ from each other's in every coordinate."""
    return [
        evaluated(
            {name: (i + 1) / (n + 1) + j * 1e-3 for j, name in enumerate(FLOATS)},
            FLOATS,
            loss=float(i),
            rank=i,
        )
        for i in range(n)
    ]


def sources(child: Individual, parents: Sequence[Individual]) -> set[int]:
    """Indices of the parents the child's values come from."""
    found = set()
    for name in child:
        matches = [i for i, p in enumerate(parents) if p[name] == child[name]]
        assert len(matches) == 1, f"{name}={child[name]} is not a parent's value"
        found.add(matches[0])
    return found


def as_view(inds: Sequence[Individual]):
    population = Population()
    for ind in inds:
        population.add(ind)
    return population.active


class Marker(Propagator):
    """Returns a fixed individual, to see which branch ran."""

    def __init__(self, ind: Individual):
        super().__init__(-1, 1)
        self.ind = ind

    def __call__(self, inds):
        return self.ind


# ----- base class and containers ---------------------------------------------------------------
def test_propagator_argument_validation():
    with pytest.raises(ConfigurationError, match="offspring=0"):
        Propagator(1, 0)
    with pytest.raises(ConfigurationError, match="parents=-2"):
        Propagator(-2, 1)
    with pytest.raises(ConfigurationError, match="probability=1.5"):
        Stochastic(1, 1, probability=1.5)
    with pytest.raises(NotImplementedError):
        Propagator(1, 1)([])
    assert isinstance(Propagator(1, 1).rng, random.Random)


def test_compose_rejects_mismatched_stage_counts():
    with pytest.raises(ConfigurationError) as error:
        Compose([SelectMin(3), CrossoverUniform()])
    message = str(error.value)
    assert "SelectMin" in message and "CrossoverUniform" in message
    assert "3 offspring" in message and "2 parent" in message
    with pytest.raises(ConfigurationError, match="PointMutation.*CrossoverSigmoid"):
        Compose([PointMutation(FLOATS), CrossoverSigmoid()])
    with pytest.raises(ConfigurationError, match="at least one"):
        Compose([])
    # parents=-1 takes anything; offspring=-1 feeds anything.
    composed = Compose([SelectMin(5), SelectUniform(2), CrossoverUniform(), PointMutation(FLOATS)])
    assert (composed.parents, composed.offspring) == (-1, 1)


def test_compose_runs_stages_in_order():
    inds = distinct_population(6)
    composed = Compose([SelectMin(3), SelectMax(1)])
    assert composed(inds) == [inds[2]]


def test_conditional_switches_at_pop_size():
    space = SearchSpace(FLOATS)
    yes = Individual._from_trusted(space.sample(random.Random(0)), space)
    no = Individual._from_trusted(space.sample(random.Random(1)), space)
    conditional = Conditional(4, Marker(yes), Marker(no))
    inds = distinct_population(5)
    assert conditional([]) is no
    assert conditional(inds[:3]) is no
    assert conditional(inds[:4]) is yes
    assert conditional(inds) is yes
    assert conditional(as_view(inds[:3])) is no
    assert conditional(as_view(inds[:4])) is yes
    with pytest.raises(ConfigurationError, match="pop_size=0"):
        Conditional(0, Marker(yes), Marker(no))


# ----- selections ------------------------------------------------------------------------------
@pytest.mark.parametrize("container", [list, as_view])
def test_select_min_and_max(container):
    rng = random.Random(3)
    inds = distinct_population(10)
    rng.shuffle(inds)
    for ind in inds:
        ind.loss = rng.uniform(-5, 5)
    by_loss = sorted(inds, key=lambda ind: ind.loss)
    given = container(inds)
    assert SelectMin(3)(given) == by_loss[:3]
    assert SelectMax(3)(given) == by_loss[::-1][:3]
    assert SelectMin(10)(given) == by_loss
    with pytest.raises(ConfigurationError, match=r"SelectMin\(11\) got only 10"):
        SelectMin(11)(given)
    with pytest.raises(ConfigurationError, match="SelectMax"):
        SelectMax(11)(given)


@pytest.mark.parametrize("container", [list, as_view])
def test_select_uniform(container):
    inds = distinct_population(10)
    given = container(inds)
    selector = SelectUniform(3, rng=random.Random(0))
    counts = dict.fromkeys(range(10), 0)
    for _ in range(3000):
        chosen = selector(given)
        assert len(chosen) == 3 and len({ind.rank for ind in chosen}) == 3
        for ind in chosen:
            counts[ind.rank] += 1
    assert all(800 < c < 1000 for c in counts.values())  # 900 expected each
    with pytest.raises(ConfigurationError, match="SelectUniform"):
        selector(given[:2])


# ----- default propagator ----------------------------------------------------------------------
def crossover_children(
    crossover_prob: float, trials: int, operators_only: bool = True
) -> list[tuple[Individual, set[int]]]:
    """Children of the default propagator's operators (or of the whole propagator)."""
    pop_size = 4
    inds = distinct_population(pop_size)
    propagator = get_default_propagator(
        pop_size,
        FLOATS,
        crossover_prob=crossover_prob,
        mutation_prob=0.0,
        random_init_prob=0.0,
        rng=random.Random(42),
        cma_share=0.0,  # the genetic algorithm alone
    )
    if operators_only:  # without the AvoidDuplicates wrapper, which re-breeds copies
        propagator = propagator.true_prop.propagator
    view = as_view(inds)
    return [
        (child, sources(child, inds))
        for child in (as_list(propagator(view))[0] for _ in range(trials))
    ]


def test_default_propagator_without_crossover_copies_one_parent():
    for _, parents in crossover_children(0.0, 300):
        assert len(parents) == 1


def test_default_propagator_with_crossover_mixes_parents():
    # Propulate 1.2 passed crossover_prob as the parents' share of a crossover that always
    # happened: crossover_prob=1 then never mixed anything.
    mixed = [len(parents) > 1 for _, parents in crossover_children(1.0, 300)]
    # Six coordinates each from one of two parents: all from one parent has probability 1/32.
    assert sum(mixed) / len(mixed) > 0.9
    assert all(len(parents) <= 2 for _, parents in crossover_children(1.0, 50))


def test_default_propagator_crossover_prob_is_the_probability_of_crossover():
    children = crossover_children(0.5, 2000)
    mixed = sum(len(parents) > 1 for _, parents in children) / len(children)
    assert mixed == pytest.approx(0.5 * (1 - 2 * 0.5**6), abs=0.05)


def test_default_propagator_breeds_again_instead_of_copying_a_parent():
    # Without crossover and mutation every child is a copy: after 10 tries it is returned anyway.
    assert all(len(parents) == 1 for _, parents in crossover_children(0.0, 50, False))
    # Half the operators' children are copies; the wrapper replaces them by mixes.
    children = crossover_children(0.5, 500, operators_only=False)
    mixed = sum(len(parents) > 1 for _, parents in children) / len(children)
    assert mixed > 0.99


def test_avoid_duplicates_retries_at_most_tries_times():
    space = {"n": (0, 1)}
    population = as_view([evaluated({"n": n}, space, float(n), rank=n) for n in (0, 1)])

    class Counting(Propagator):
        calls = 0

        def __call__(self, inds):
            Counting.calls += 1
            return Individual({"n": 0}, space)

    assert AvoidDuplicates(Counting(1, 1), tries=3)(population)["n"] == 0  # exhausted: given up
    assert Counting.calls == 3
    with pytest.raises(ConfigurationError, match="tries=0"):
        AvoidDuplicates(Counting(1, 1), tries=0)


def test_avoid_duplicates_knows_inactive_individuals_and_plain_lists():
    space = {"n": (0, 9)}
    inds = [evaluated({"n": n}, space, float(n), rank=n) for n in range(3)]
    population = Population()
    for ind in inds:
        population.add(ind)
    population.set_active(inds[2].key, False)  # e.g. emigrated: still evaluated here
    view = population.active
    assert len(view) == 2
    assert view.knows_values(Individual({"n": 2}, space))
    assert not view.knows_values(Individual({"n": 3}, space))
    repeats = iter([2, 2, 7])
    breeder = AvoidDuplicates(made_by(lambda: Individual({"n": next(repeats)}, space)), tries=5)
    assert breeder(view)["n"] == 7
    repeats = iter([1, 4])
    assert breeder(list(inds))["n"] == 4  # a plain list: its own members count


def made_by(make):
    class Made(Propagator):
        def __call__(self, inds):
            return make()

    return Made(-1, 1)


def test_default_propagator_mixes_the_genetic_algorithm_with_cma_es():
    from propulate.propagators import TPE, CMAPropagator, Compose, Mixture
    from propulate.propagators.base import listeners

    propagator = get_default_propagator(4, MIXED, rng=random.Random(0))
    mixture = propagator.true_prop.propagator
    assert isinstance(mixture, Mixture) and mixture.weights == [0.5, 0.5]
    ga, cma_unless_several = mixture.stages()
    # CMA-ES breeds its share while there is one objective; with several, multi-objective TPE.
    cma = cma_unless_several.single
    assert isinstance(ga, Compose) and isinstance(cma, CMAPropagator)
    assert isinstance(cma_unless_several.several, TPE)
    assert listeners(propagator) == [mixture]  # CMA-ES learns every result through the mixture
    genetic = get_default_propagator(4, MIXED, rng=random.Random(0), cma_share=0.0)
    assert isinstance(genetic.true_prop.propagator, Compose) and not listeners(genetic)
    only_categories = {"a": ("x", "y"), "b": ("u", "v")}  # nothing for CMA-ES to search
    assert isinstance(get_default_propagator(4, only_categories).true_prop.propagator, Compose)


@pytest.mark.parametrize("objectives", [1, 2])
def test_default_propagator_tells_only_the_strategy_that_breeds(objectives):
    # One objective: CMA-ES breeds and learns, TPE is told nothing (it cost a third of the
    # loop's work); several: the reverse. Both learn until a successful result tells which.
    from propulate.population import Status

    propagator = get_default_propagator(4, MIXED, rng=random.Random(0))
    one_or_several = propagator.true_prop.propagator.stages()[1]
    cma, tpe = one_or_several.single, one_or_several.several
    failed = evaluated(SearchSpace(MIXED).sample(random.Random(99)), MIXED, math.inf, rank=9)
    failed.status = Status.FAILED
    propagator.tell(failed)
    assert (cma._unused, tpe._n) == (1, 1)
    for i in range(6):
        ind = evaluated(SearchSpace(MIXED).sample(random.Random(i)), MIXED, float(i), rank=i)
        ind.status = Status.OK
        if objectives > 1:
            ind.losses = (float(i), float(-i))
        propagator.tell(ind)
    assert (cma._unused, tpe._n) == ((7, 1) if objectives == 1 else (1, 7))


def test_default_propagator_initializes_randomly_until_pop_size():
    propagator = get_default_propagator(4, MIXED, rng=random.Random(0))
    inds = [
        evaluated(SearchSpace(MIXED).sample(random.Random(i)), MIXED, 1.0, rank=i) for i in range(3)
    ]
    children = [as_list(propagator(inds))[0] for _ in range(20)]
    assert all(all(child != ind for ind in inds) for child in children)
    assert len({tuple(child.values()) for child in children}) == 20
    with pytest.raises(ConfigurationError, match="pop_size=1"):
        get_default_propagator(1, MIXED)


# ----- mutations -------------------------------------------------------------------------------
def test_interval_mutation_with_reversed_bounds_spreads_values():
    # Propulate 1.2 clipped every mutated value of a range written high-to-low to one bound.
    limits = {"lr": (0.01, 0.0001)}
    parent = evaluated({"lr": 0.005}, limits, 1.0)
    mutation = IntervalMutationNormal(limits, sigma_factor=0.1, rng=random.Random(0))
    values = [mutation(parent)["lr"] for _ in range(4000)]
    width = 0.01 - 0.0001
    assert all(0.0001 <= v <= 0.01 for v in values)
    at_bounds = sum(v in (0.0001, 0.01) for v in values) / len(values)
    assert at_bounds < 0.01
    assert statistics.mean(values) == pytest.approx(0.005, abs=0.02 * width)
    assert statistics.stdev(values) == pytest.approx(0.1 * width, rel=0.1)
    assert sum(v < 0.005 for v in values) / len(values) == pytest.approx(0.5, abs=0.05)
    # A wide mutation reaches across the whole range.
    wide = IntervalMutationNormal(limits, sigma_factor=1.0, rng=random.Random(1))
    values = [wide(parent)["lr"] for _ in range(2000)]
    assert min(values) < 0.001 and max(values) > 0.009
    # Unit sigma around the middle: about a quarter of the draws land in the middle 60%.
    assert sum(0.002 < v < 0.008 for v in values) / len(values) > 0.15


def test_interval_mutation_log_scale_moves_in_log_space():
    limits = {"wd": (1e-6, 1e-2, "log")}
    parent = evaluated({"wd": 1e-4}, limits, 1.0)
    mutation = IntervalMutationNormal(limits, sigma_factor=0.1, rng=random.Random(2))
    logs = [math.log10(mutation(parent)["wd"]) for _ in range(3000)]
    # sigma = 0.1 of the range's width in log10 units (4 decades).
    assert statistics.mean(logs) == pytest.approx(-4.0, abs=0.05)
    assert statistics.stdev(logs) == pytest.approx(0.4, rel=0.1)


def test_interval_mutation_moves_only_numeric_values():
    parent = evaluated({"n": 4, "x": 0.5, "act": "tanh", "lr": 0.005}, MIXED, 1.0)
    mutation = IntervalMutationNormal(MIXED, sigma_factor=0.2, points=3, rng=random.Random(0))
    for _ in range(100):
        child = mutation(parent)
        assert child["act"] == "tanh"
        assert type(child["n"]) is int and 0 <= child["n"] <= 9
    with pytest.raises(ConfigurationError, match="3 numeric"):
        IntervalMutationNormal(MIXED, points=4)
    with pytest.raises(ConfigurationError, match="0 numeric"):
        IntervalMutationNormal({"act": ("a", "b")})
    with pytest.raises(ConfigurationError, match="sigma_factor"):
        IntervalMutationNormal(MIXED, sigma_factor=0.0)


def test_point_mutation_changes_exactly_points_values():
    parent = evaluated({"n": 4, "x": 0.5, "act": "tanh", "lr": 0.005}, MIXED, 1.0)
    for points in (1, 2, 4):
        mutation = PointMutation(MIXED, points=points, rng=random.Random(points))
        for _ in range(200):
            child = mutation(parent)
            assert sum(child[k] != parent[k] for k in parent) == points
    with pytest.raises(ConfigurationError, match="points=5"):
        PointMutation(MIXED, points=5)


def test_point_mutation_changes_log_scaled_integers_too():
    # A narrow log-scaled integer range used to be resampled blindly: half the "mutations" of
    # (1, 3, "log") kept the value.
    limits = {"w": (1, 3, "log"), "f": (1e-3, 1e-2, "log")}
    parent = evaluated({"w": 2, "f": 5e-3}, limits, 1.0)
    mutation = PointMutation(limits, points=2, rng=random.Random(0))
    children = [mutation(parent) for _ in range(500)]
    assert all(child["w"] != 2 and child["f"] != 5e-3 for child in children)
    assert {child["w"] for child in children} == {1, 3}


def test_random_point_mutation_changes_between_min_and_max_values():
    parent = evaluated({"n": 4, "x": 0.5, "act": "tanh", "lr": 0.005}, MIXED, 1.0)
    mutation = RandomPointMutation(MIXED, min_points=2, max_points=3, rng=random.Random(0))
    children = [mutation(parent) for _ in range(300)]
    changed = {sum(child[k] != parent[k] for k in parent) for child in children}
    assert changed == {2, 3}
    with pytest.raises(ConfigurationError, match="min_points"):
        RandomPointMutation(MIXED, min_points=3, max_points=2)


def test_stochastic_probability_zero_passes_the_parent_through():
    parent = evaluated({"n": 4, "x": 0.5, "act": "tanh", "lr": 0.005}, MIXED, 1.0)
    for mutation in (
        PointMutation(MIXED, probability=0.0),
        RandomPointMutation(MIXED, probability=0.0),
        IntervalMutationNormal(MIXED, probability=0.0),
        InitUniform(MIXED, parents=1, probability=0.0),
    ):
        assert mutation([parent]) is parent


def test_mutations_accept_one_individual_or_a_sequence():
    parent = evaluated({"n": 4, "x": 0.5, "act": "tanh", "lr": 0.005}, MIXED, 1.0)
    for mutation_type in (PointMutation, RandomPointMutation, IntervalMutationNormal):
        a = mutation_type(MIXED, rng=random.Random(5))(parent)
        b = mutation_type(MIXED, rng=random.Random(5))([parent])
        assert dict(a) == dict(b)


@pytest.mark.parametrize(
    "propagator",
    [
        PointMutation(MIXED),
        RandomPointMutation(MIXED),
        IntervalMutationNormal(MIXED),
        CrossoverUniform(),
        CrossoverSigmoid(),
        CrossoverMultiple(),
        CrossoverMultiple(parents=3),
    ],
    ids=lambda p: type(p).__name__,
)
def test_too_few_parents_raise_configuration_error(propagator):
    with pytest.raises(ConfigurationError, match=type(propagator).__name__):
        propagator([])


def test_init_uniform():
    init = InitUniform(MIXED, rng=random.Random(0))
    children = [init() for _ in range(50)]
    assert len({tuple(c.values()) for c in children}) == 50
    assert all(c.loss is None for c in children)
    parent = evaluated({"n": 4, "x": 0.5, "act": "tanh", "lr": 0.005}, MIXED, 1.0)
    replace = InitUniform(MIXED, parents=1, probability=1.0, rng=random.Random(0))
    assert replace([parent]) is not parent
    half = InitUniform(MIXED, parents=1, probability=0.5, rng=random.Random(0))
    kept = sum(half([parent]) is parent for _ in range(2000)) / 2000
    assert kept == pytest.approx(0.5, abs=0.05)


# ----- crossovers ------------------------------------------------------------------------------
def share_of_first(crossover, parents, trials=400) -> float:
    taken = [
        sum(c[k] == parents[0][k] for k in c) for c in (crossover(parents) for _ in range(trials))
    ]
    return sum(taken) / (trials * len(parents[0]))


def test_crossover_uniform_relative_contribution():
    parents = distinct_population(2)
    assert share_of_first(CrossoverUniform(rng=random.Random(0)), parents) == pytest.approx(
        0.5, abs=0.04
    )
    biased = CrossoverUniform(relative_parent_contribution=0.8, rng=random.Random(0))
    assert share_of_first(biased, parents) == pytest.approx(0.8, abs=0.04)
    assert CrossoverUniform(probability=0.0)(parents) is parents[0]
    with pytest.raises(ConfigurationError, match="relative_parent_contribution"):
        CrossoverUniform(relative_parent_contribution=1.5)


def test_crossover_multiple_takes_values_from_all_parents():
    parents = distinct_population(4)
    crossover = CrossoverMultiple(rng=random.Random(0))
    counts = [0] * 4
    for _ in range(500):
        for i in sources(crossover(parents), parents):
            counts[i] += 1
    assert all(c > 400 for c in counts)
    assert CrossoverMultiple(probability=0.0)(parents) is parents[0]


def test_crossover_sigmoid_favours_the_better_parent():
    parents = distinct_population(2)
    parents[0].loss, parents[1].loss = 0.0, 2.0
    crossover = CrossoverSigmoid(temperature=1.0, rng=random.Random(0))
    expected = 1.0 / (1.0 + math.exp(-2.0))
    assert share_of_first(crossover, parents) == pytest.approx(expected, abs=0.04)
    # The better parent is favoured whatever its position.
    assert share_of_first(crossover, parents[::-1]) == pytest.approx(1 - expected, abs=0.04)
    # Equal losses: no preference. A higher temperature flattens the preference.
    hot = CrossoverSigmoid(temperature=100.0, rng=random.Random(0))
    assert share_of_first(hot, parents) == pytest.approx(0.5, abs=0.05)
    parents[1].loss = 0.0
    assert share_of_first(crossover, parents) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ConfigurationError, match="temperature"):
        CrossoverSigmoid(temperature=0.0)


@pytest.mark.parametrize(
    ("better", "worse"),
    [(0.0, math.inf), (-math.inf, 0.0), (-math.inf, math.inf), (0.0, 1e6), (0.0, None)],
)
def test_crossover_sigmoid_with_extreme_losses_takes_the_better_parent(better, worse):
    parents = distinct_population(2)
    parents[0].loss, parents[1].loss = better, worse
    crossover = CrossoverSigmoid(rng=random.Random(0))
    assert share_of_first(crossover, parents, trials=50) == 1.0
    assert share_of_first(crossover, parents[::-1], trials=50) == 0.0


@pytest.mark.parametrize("losses", [(math.inf, math.inf), (-math.inf, -math.inf), (math.nan, 0.0)])
def test_crossover_sigmoid_without_a_clear_winner_mixes(losses):
    parents = distinct_population(2)
    parents[0].loss, parents[1].loss = losses
    crossover = CrossoverSigmoid(rng=random.Random(0))
    assert share_of_first(crossover, parents) == pytest.approx(0.5, abs=0.05)


class Stubborn(Propagator):
    """Proposes the same point until it is told that point's result, then the next one."""

    def __init__(self, points, space):
        super().__init__(-1, 1)
        self.points, self.space, self.told = list(points), space, []
        self.proposal = None

    def __call__(self, inds):
        self.proposal = Individual({"n": self.points[0]}, self.space)
        return self.proposal

    def tell(self, ind):
        self.told.append(ind)
        if ind is self.proposal:
            self.points.pop(0)


def test_avoid_duplicates_tells_a_learning_propagator_the_known_result_of_its_repeats():
    space = {"n": (0, 9)}
    inds = [evaluated({"n": n}, space, 10.0 + n, rank=n) for n in range(3)]
    population = Population()
    for ind in inds:
        population.add(ind)
    stubborn = Stubborn([1, 2, 5], space)
    child = AvoidDuplicates(stubborn, tries=5)(population.active)
    assert child["n"] == 5
    # Each repeat was answered with the known result, as if it had been evaluated.
    assert [(ind["n"], ind.loss, ind.rank) for ind in stubborn.told] == [
        (1, 11.0, -1),
        (2, 12.0, -1),
    ]
    assert stubborn.told[-1] is not inds[2]  # the proposal itself, not the known individual


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pop_size": 1}, r"pop_size=1 must be an int >= 2 \(crossover needs two parents\)"),
        ({"crossover_prob": 1.5}, r"crossover_prob=1.5 must be a probability in \[0, 1\]"),
        ({"mutation_prob": "0.4"}, r"mutation_prob='0.4' must be a probability"),
        ({"random_init_prob": -0.1}, r"random_init_prob=-0.1 must be a probability"),
        ({"sigma_factor": 0.0}, r"sigma_factor=0.0 must be a finite number > 0"),
    ],
)
def test_default_propagator_names_the_bad_argument(kwargs, match):
    arguments = {"pop_size": 4, "limits": {"x": (0.0, 1.0)}, **kwargs}
    with pytest.raises(ConfigurationError, match=f"get_default_propagator: {match}"):
        get_default_propagator(**arguments)


def test_avoid_duplicates_never_relabels_a_parent_passed_through():
    """A learning breeder that hands back an evaluated member of the population (a parent no
    operator changed), whose values another member holds too (after a migration), must leave it
    as it is: relabelling it as a repeat (rank and generation -1) corrupted the population's
    index at 8 ranks with migration."""
    space = {"n": (0, 9)}
    first = evaluated({"n": 4}, space, 1.0, rank=0)
    twin = evaluated({"n": 4}, space, 1.0, rank=1)  # the same values, another individual
    population = Population()
    population.add(first)
    population.add(twin)

    class PassThrough(Propagator):
        told: list = []

        def __call__(self, inds):
            return twin

        def tell(self, ind):
            PassThrough.told.append(ind)

    AvoidDuplicates(PassThrough(-1, 1), tries=3)(population.active)
    assert (twin.rank, twin.generation, twin.key) == (1, 0, (1, 0))
    assert PassThrough.told == []
    population.set_active(twin.key, False)  # the index still finds it under its key
