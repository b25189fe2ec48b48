"""Known configurations evaluated first: the ``seeds`` of a run.

``Propulator(..., seeds=[{"lr": 1e-3, "layers": 2}, ...])`` (or :class:`~propulate.Islands`)
evaluates each given configuration exactly once in the whole run, before any bred child:

* every configuration is checked against the search space in the constructor, before any
  communication, on every rank (a :class:`~propulate.errors.ConfigurationError` names the
  configuration, the parameter, the value and the fix);
* configuration ``i`` goes to one worker: the workers are taken in turn, one from each island
  (first the first worker of every island, then the second ...), so a few seeds spread over the
  islands and many over every worker; configuration 0 is the first evaluation of the first
  worker of island 0, so a seeded optimum is found at evaluation 1 on every rank count;
* a worker's seeds are its generations ``0, 1, ...``: the generation counter is restored from the
  checkpoint, so a resumed run (after a SIGKILL too) evaluates exactly the seeds not yet recorded,
  and an evaluation interrupted on the way is resumed as every interrupted evaluation is
  (see :mod:`propulate.unfinished`);
* the configurations are kept in the checkpoint folder with the run's configuration (see
  ``run_config``), so a resume with other seeds is refused instead of skipping or repeating some;
* seeds given on the resume of a run that had none (whose generations ``0, 1, ...`` were bred)
  are evaluated first from the worker's next generation on, skipping any whose hyperparameters
  the population already knows (see :meth:`Seeds.plan`).

Seeds count towards ``generations`` and ``total_evaluations`` like every evaluation.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .dimension import Value
from .errors import ConfigurationError
from .population import Individual
from .search_space import SearchSpace

if TYPE_CHECKING:
    from .checkpoint import CheckpointLog
    from .job_lock import Layout
    from .knowledge import Knowledge
    from .warm_start import WarmStart

__all__ = [
    "Head",
    "Seeds",
    "check_configuration",
    "check_head_arguments",
    "worker_order",
    "with_seeds",
    "SEEDS_CONFIG_KEY",
]

log = logging.getLogger(__name__)

# The entry of the stored run configuration that holds the seeds (a name users' own entries
# are unlikely to take).
SEEDS_CONFIG_KEY = "propulate.seeds"


def _example(space: SearchSpace) -> str:
    legal = {name: _legal(space, name) for name in space.names}
    active = space.active(legal)
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in legal.items() if k in active) + "}"


def _legal(space: SearchSpace, name: str) -> Value:
    dimension = space[name]
    if dimension.kind == "categorical":
        return dimension.choices[0]  # type: ignore[no-any-return]  # str or bool
    return dimension.from_unit(0.5)


def check_configuration(
    owner: str, label: str, config: Any, space: SearchSpace
) -> dict[str, Value]:
    """A configuration of every hyperparameter of ``space``, checked and in the space's types.

    Parameters
    ----------
    owner : str
        Who complains (e.g. ``"Propulator"``).
    label : str
        The configuration's name in messages (e.g. ``"seeds[2]"``).
    config : Any
        The configuration given.
    space : SearchSpace
        The search space it must belong to.

    Returns
    -------
    dict
        The values, converted to the space's types (``1`` for a float becomes ``1.0``).

    Raises
    ------
    ConfigurationError
        If ``config`` is no mapping, misses or adds a name, or holds a value outside its domain.
    """
    if not isinstance(config, Mapping):
        raise ConfigurationError(
            f"{owner}: {label}={config!r} must be a dict of hyperparameter -> value; e.g. "
            f"{label}={_example(space)}."
        )
    active = space.active(config)  # conditional parameters: only those whose condition holds
    missing = [name for name in space.names if name in active and name not in config]
    unknown = [name for name in config if name not in space.by_name]
    inactive = [name for name in config if name in space.by_name and name not in active]
    if missing or unknown or inactive:
        raise ConfigurationError(
            f"{owner}: {label}={dict(config)!r} does not match the search space: missing "
            f"{missing}, unknown {unknown}, inactive for these values {inactive}. Give exactly "
            f"the active names; e.g. {label}={_example(space)}."
        )
    return {
        name: _checked_value(owner, label, config, name, config[name], space)
        for name in space.names
        if name in active
    }


def _checked_value(
    owner: str, label: str, config: Mapping[str, Any], name: str, value: Any, space: SearchSpace
) -> Value:
    dimension = space[name]
    try:
        coerced: Value | None = space.coerce(name, value)
    except (ValueError, TypeError):
        coerced = None
    legal = coerced is not None and dimension.contains(coerced)
    if legal and dimension.kind != "categorical":
        # coerce rounds to the grid or to an int; a seed must be a legal value as given.
        legal = math.isclose(float(value), float(coerced), rel_tol=1e-12)  # type: ignore[arg-type]  # numbers here
    if not legal:
        raise ConfigurationError(
            f"{owner}: {label}[{name!r}]={value!r} (in {label}={dict(config)!r}) is not a legal "
            f"value of {name!r} ({dimension.describe()} {_domain(space, name)}); use a value "
            f"inside it, e.g. {label}[{name!r}]={_legal(space, name)!r}, or widen the limits."
        )
    return coerced  # type: ignore[return-value]  # checked above


def _domain(space: SearchSpace, name: str) -> str:
    dimension = space[name]
    if dimension.kind == "categorical":
        return f"with choices {list(dimension.choices)}"
    if dimension.values:
        return f"with values {list(dimension.values)}"
    step = "" if dimension.step is None else f" in steps of {dimension.step:g}"
    return f"from {dimension.low:g} to {dimension.high:g}{step}"


def worker_order(island_sizes: Sequence[int]) -> list[int]:
    """The workers in the order seeds go to them: one from each island in turn.

    Workers are numbered in rank order, island after island (as :class:`~propulate.Islands`
    lays them out), e.g. islands of sizes ``(3, 1)`` give ``[0, 3, 1, 2]``.
    """
    firsts = [sum(island_sizes[:island]) for island in range(len(island_sizes))]
    return [
        firsts[island] + position
        for position in range(max(island_sizes, default=0))
        for island in range(len(island_sizes))
        if position < island_sizes[island]
    ]


class Seeds:
    """The known configurations of a run, and which of them one worker evaluates when.

    Parameters
    ----------
    configurations : list of dict
        Checked configurations (see :meth:`checked`).
    """

    def __init__(self, configurations: list[dict[str, Value]]) -> None:
        self.configurations = configurations
        self._mine: list[dict[str, Value]] = []
        self._first = 0  # the generation of this worker's first seed (see plan)

    @classmethod
    def checked(cls, owner: str, seeds: Any, space: SearchSpace) -> Seeds:
        """The ``seeds`` argument checked against ``space`` (no communication).

        Raises
        ------
        ConfigurationError
            If ``seeds`` is no list of configurations, or one does not fit ``space``; the
            message names the configuration, the parameter, the value and the fix.
        """
        if isinstance(seeds, (Mapping, str, bytes)) or not isinstance(seeds, Sequence):
            raise ConfigurationError(
                f"{owner}: seeds={seeds!r} must be a list of configurations (dicts of "
                f"hyperparameter -> value); e.g. seeds=[{_example(space)}]."
            )
        checked = [check_configuration(owner, f"seeds[{i}]", c, space) for i, c in enumerate(seeds)]
        for i, config in enumerate(checked):
            for j in range(i):
                if checked[j] == config:
                    raise ConfigurationError(
                        f"{owner}: seeds[{i}] repeats seeds[{j}] ({config!r}); every seed is "
                        "evaluated once, so give each configuration once."
                    )
        return cls(checked)

    def as_config(self) -> list[dict[str, Value]]:
        """The configurations as JSON values (kept with the run's configuration)."""
        return [dict(config) for config in self.configurations]

    def assign(self, worker: int, island_sizes: Sequence[int]) -> int:
        """Take the share of ``worker`` (its rank in the whole run); return its size.

        Configuration ``i`` goes to ``worker_order(island_sizes)[i % W]`` (``W`` workers) as
        that worker's generation ``i // W``.
        """
        order = worker_order(island_sizes)
        if worker not in order:
            raise ConfigurationError(
                f"seeds: worker {worker} is not one of the {len(order)} workers of the islands "
                f"{list(island_sizes)}; give every Propulator the same island layout."
            )
        slot, count = order.index(worker), len(order)
        self._mine = self.configurations[slot::count]
        return len(self._mine)

    def plan(
        self, knowledge: Knowledge, worker: int, generation: int, space: SearchSpace,
        in_flight: Collection[tuple[Any, ...]] = (),
    ) -> None:  # fmt: skip
        """Move this worker's seeds to ``generation`` on if their generations hold other ones.

        That happens on the resume of a run that had no seeds: its generations ``0, 1, ...``
        were bred. The seeds whose hyperparameters the population does not know, and that are
        not ``in_flight`` (the values keys of a former run's unfinished evaluations, resumed
        first), are then evaluated from ``generation`` on; a later resume does the same, so
        each is still evaluated once.
        """
        population = knowledge.population
        moved = any(
            (known := population.get((worker, g))) is not None and known.values_dict() != config
            for g, config in enumerate(self._mine)
        )
        if not moved:
            return
        seeds = [Individual._from_trusted(dict(config), space) for config in self._mine]
        pending = [
            config
            for config, ind in zip(self._mine, seeds, strict=True)
            if not population.active.knows_values(ind) and ind.values_key() not in in_flight
        ]
        if pending:
            log.info(
                "seeds: worker %d's first generations were bred by a run without seeds; its %d "
                "seed(s) not yet evaluated are evaluated first, from generation %d on.",
                worker, len(pending), generation,
            )  # fmt: skip
        self._mine, self._first = pending, generation

    def source(self, propagator: Any, generation: int, space: SearchSpace) -> Any:
        """What breeds ``generation``: a stage handing out this worker's seed, or ``propagator``."""
        index = generation - self._first
        if not 0 <= index < len(self._mine):
            return propagator
        return _Seed(Individual._from_trusted(dict(self._mine[index]), space))


class _Seed:
    """A stage that returns one seed, whatever the population (the loop breeds through it)."""

    def __init__(self, ind: Individual) -> None:
        self.ind = ind

    def __call__(self, inds: Any) -> Individual:
        return self.ind


def with_seeds(run_config: Any, seeds: Seeds | None) -> Any:
    """``run_config`` with the seeds added (so a resume with other seeds is refused)."""
    if seeds is None:
        return run_config
    config = dict(run_config) if isinstance(run_config, Mapping) else {}
    if run_config is not None and not isinstance(run_config, Mapping):
        return run_config  # not a mapping: its own check reports it
    config[SEEDS_CONFIG_KEY] = seeds.as_config()
    return config


class Head:
    """What a worker does before breeding: import earlier results, then evaluate its seeds.

    Parameters
    ----------
    seeds : Seeds or None
        The run's seeds; this worker's share is taken here.
    warm_start : WarmStart or None
        The earlier results to import.
    layout : Layout
        The run's layout (workers, and workers per island where known).
    worker : int
        This worker's rank in the whole run.
    island : int
        This worker's island.

    Raises
    ------
    ConfigurationError
        If the islands are the caller's own communicators (their sizes unknown) and a warm start
        needs the island's first worker.
    """

    def __init__(
        self, seeds: Seeds | None, warm_start: WarmStart | None, layout: Layout, worker: int,
        island: int,
    ) -> None:  # fmt: skip
        # Islands of the caller's own communicators (sizes unknown): the seeds go over every
        # worker in rank order, which is still each seed once in the whole run.
        sizes = layout.island_sizes or (layout.workers,)
        if warm_start is not None and layout.island_sizes is None and island != 0:
            raise ConfigurationError(
                f"warm_start: island {island} of communicators set up by the caller has no known "
                "first worker to record the imported results; run the islands with "
                "propulate.Islands(..., warm_start=...) instead."
            )
        self.recorder = sum(sizes[:island])
        self.island, self.worker = island, worker
        self.warm_start, self.seeds = warm_start, seeds
        if seeds is not None:
            seeds.assign(worker, sizes)

    def import_results(self, knowledge: Knowledge, store: CheckpointLog, space: SearchSpace) -> int:
        """Import the warm start's results not yet in ``knowledge``; return how many."""
        if self.warm_start is None:
            return 0
        return self.warm_start.import_into(knowledge, store, space, self.island, self.recorder)

    def plan_seeds(
        self, knowledge: Knowledge, generation: int, space: SearchSpace,
        in_flight: Collection[tuple[Any, ...]] = (),
    ) -> None:  # fmt: skip
        """Place this worker's seeds after what a seedless run bred (see :meth:`Seeds.plan`)."""
        if self.seeds is not None:
            self.seeds.plan(knowledge, self.worker, generation, space, in_flight)


def check_head_arguments(owner: str, propagator: Any, seeds: Any, warm_start: Any) -> None:
    """Check ``seeds`` and ``warm_start`` before communicators are split (see Islands)."""
    from .propagators.base import as_list, search_space_of
    from .warm_start import WarmStart

    if seeds is not None:
        space = search_space_of(propagator) or as_list(propagator([]))[0].search_space
        Seeds.checked(owner, seeds, space)
    if warm_start is not None:
        WarmStart(owner, warm_start)
