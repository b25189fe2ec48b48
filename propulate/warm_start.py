"""Warm start: the results of earlier runs as evidence of a new one, without evaluating them again.

``Propulator(..., warm_start="old_checkpoint/")`` (or a CSV written by ``propulate export``, or a
list of both) imports every result of the source into the population of every island before
the first evaluation:

* the source's hyperparameters must be the new space's names (else a
  :class:`~propulate.errors.ConfigurationError` says which differ); a row whose values lie
  outside the new limits, or whose status is not ``ok``, ``failed`` or ``pruned``, is skipped
  and reported in one warning per source (row, parameter, value);
* every worker of an island takes the imported results into its population at the start of a
  run, and the propagator is told of each, as of any result; none is evaluated;
* the island's first worker records them in its checkpoint log, as its generations ``-1, -2,
  ...`` (negative: they were not bred there, so they neither shift the worker's generations
  nor count towards ``total_evaluations``), so a resume finds them in the checkpoint and does
  not import them again;
* each imported individual carries the key ``_imported`` (the source's name), so results,
  ``propulate export`` and ``propulate summary`` show it as imported.

The source is read at the start of every run; once the checkpoint holds every imported result,
a missing source is only reported.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointLog
from .dimension import Value
from .errors import ConfigurationError
from .knowledge import Knowledge
from .population import Individual, Status
from .search_space import SearchSpace

__all__ = ["WarmStart", "read_results", "IMPORTED_KEY"]

log = logging.getLogger(__name__)

IMPORTED_KEY = "_imported"  # the key of an imported individual that names its source
_PARAM_PREFIX = "params_"
_STATUSES = (Status.OK, Status.FAILED, Status.PRUNED)
_EXAMPLE = '"old_checkpoint/" or "old_results.csv"'


def read_results(source: str | Path) -> list[dict[str, Any]]:
    """The records of an earlier run: a checkpoint folder, or a CSV of ``propulate export``.

    Returns
    -------
    list of dict
        One dict per evaluation with ``params`` (a dict; values are strings when read from a
        CSV), ``loss``, ``status``, ``end`` and ``duration``.

    Raises
    ------
    ConfigurationError
        If ``source`` does not exist, or is a file that is no CSV with ``params_`` columns.
    CheckpointError
        If a folder holds no Propulate checkpoint logs.
    """
    path = Path(source)
    if path.is_dir():
        from .results.loading import read_checkpoint  # deferred: results import plotting helpers

        return read_checkpoint(path).records
    if not path.is_file():
        raise ConfigurationError(
            f"warm_start={str(source)!r} does not exist; give a checkpoint folder of an earlier "
            f"run or a CSV written by 'propulate export', e.g. warm_start={_EXAMPLE}."
        )
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
        names = [n for n in (rows[0] if rows else {}) if n.startswith(_PARAM_PREFIX)]
    if not names or "loss" not in rows[0]:
        raise ConfigurationError(
            f"warm_start={str(source)!r} is no CSV of 'propulate export' (no params_<name> and "
            "loss columns); write one with 'propulate export OLD_CHECKPOINT -o old.csv'."
        )
    return [
        {
            "params": {n[len(_PARAM_PREFIX) :]: row[n] for n in names},
            "loss": row["loss"],
            "status": row.get("status") or Status.OK,
            "end": row.get("end") or "inf",
            "duration": row.get("duration") or "0",
        }
        for row in rows
    ]


def _value(space: SearchSpace, name: str, raw: Any) -> Value | None:
    """``raw`` (typed, or text from a CSV) as a legal value of ``name``; ``None`` if it is not."""
    dimension = space[name]
    value: Any = raw
    if isinstance(raw, str):
        if dimension.kind == "categorical" and dimension.value_type is bool:
            value = {"True": True, "False": False}.get(raw.strip(), raw)
        elif dimension.kind != "categorical":
            try:
                value = float(raw)
            except ValueError:
                return None
    try:
        coerced = space.coerce(name, value)
    except (ValueError, TypeError):
        return None
    if not dimension.contains(coerced):
        return None
    if dimension.kind != "categorical" and not math.isclose(float(value), float(coerced)):
        return None  # off the grid, or not a whole number for an int
    return coerced


def _number(raw: Any, default: float) -> float:
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return default
    return number if not math.isnan(number) else default


def convert(
    records: Sequence[Mapping[str, Any]], space: SearchSpace, label: str
) -> tuple[list[Individual], list[str]]:
    """The records that fit ``space`` as evaluated individuals, and why the others do not.

    Raises
    ------
    ConfigurationError
        If the records' hyperparameters are not the names of ``space``.
    """
    names = {name for record in records for name in record["params"]}
    if not records:
        names = set(space.names)
    # A conditional space's inactive parameters may be absent from every record.
    expected = set(space.names) if not space.conditional else names & set(space.names)
    if names != expected or not names:
        raise ConfigurationError(
            f"warm_start={label!r}: its hyperparameters {sorted(names)} are not this run's "
            f"{sorted(space.names)} (missing {sorted(set(space.names) - names)}, unknown "
            f"{sorted(names - set(space.names))}); import only runs over the same names."
        )
    individuals: list[Individual] = []
    skipped: list[str] = []
    for row, record in enumerate(records):
        params = {k: v for k, v in record["params"].items() if v is not None and v != ""}
        status = str(record.get("status") or Status.OK)
        typed = {name: _value(space, name, raw) for name, raw in params.items()}
        active = space.active(typed)
        values = {name: typed.get(name) for name in space.names if name in active}
        bad = [name for name, value in values.items() if value is None]
        if bad or status not in _STATUSES:
            why = ", ".join(f"{n}={params.get(n)!r} outside the new limits" for n in bad)
            skipped.append(f"row {row}: {why or f'status {status!r}'}")
            continue
        ind = Individual._from_trusted(values, space)  # type: ignore[arg-type]  # none is None
        ind.status = status
        loss = _number(record.get("loss"), math.inf)
        ind.loss = math.inf if status == Status.FAILED else loss
        ind.evaltime = _number(record.get("end"), math.inf)
        ind.evalperiod = _number(record.get("duration"), 0.0)
        ind._extras[IMPORTED_KEY] = label
        individuals.append(ind)
    return individuals, skipped


class WarmStart:
    """The sources of a warm start, read at a run's start and imported once.

    Parameters
    ----------
    owner : str
        Who complains about a bad argument.
    sources : str, Path or sequence
        Checkpoint folders of earlier runs, or CSV files of ``propulate export``.

    Raises
    ------
    ConfigurationError
        If ``sources`` is no path or list of paths (nothing is read here).
    """

    def __init__(self, owner: str, sources: Any) -> None:
        items = [sources] if isinstance(sources, (str, Path)) else sources
        if not isinstance(items, Sequence) or not items:
            raise ConfigurationError(
                f"{owner}: warm_start={sources!r} must be a path or a list of paths (checkpoint "
                f"folders or CSV files of 'propulate export'); e.g. warm_start={_EXAMPLE}."
            )
        for i, item in enumerate(items):
            if not isinstance(item, (str, Path)):
                raise ConfigurationError(
                    f"{owner}: warm_start[{i}]={item!r} must be a path (str or Path); e.g. "
                    f"warm_start={_EXAMPLE}."
                )
        self.sources = [Path(item) for item in items]

    def load(self, space: SearchSpace) -> list[Individual]:
        """Every source's results that fit ``space``, in order (each source reported once)."""
        loaded: list[Individual] = []
        for source in self.sources:
            label = source.name or str(source)
            individuals, skipped = convert(read_results(source), space, label)
            if skipped:
                log.warning("warm_start %s: %d of %d results skipped: %s.", source, len(skipped),
                            len(skipped) + len(individuals), "; ".join(skipped[:10])
                            + ("; ..." if len(skipped) > 10 else ""))  # fmt: skip
            loaded.extend(individuals)
        return loaded

    def import_into(
        self,
        knowledge: Knowledge,
        store: CheckpointLog,
        space: SearchSpace,
        island: int,
        recorder: int,
    ) -> int:
        """Put the imported results into ``knowledge`` (the recorder logs them); count the new.

        Parameters
        ----------
        knowledge : Knowledge
            The worker's population and listeners (told of each new import).
        store : CheckpointLog
            The worker's open log; the imports are appended to it if it is ``recorder``'s.
        space : SearchSpace
            The run's search space.
        island : int
            The worker's island.
        recorder : int
            The island's first worker, whose log holds the imports (key ``(recorder, -1 - i)``).
        """
        population = knowledge.population
        try:
            loaded = self.load(space)
        except ConfigurationError:
            if any(ind.generation < 0 and IMPORTED_KEY in ind.extras for ind in population):
                log.warning("warm_start: %s cannot be read any more; the checkpoint holds the "
                            "imported results.", self.sources)  # fmt: skip
                return 0
            raise
        new = 0
        for i, ind in enumerate(loaded):
            ind.worker = ind.current = recorder
            ind.generation = -1 - i
            ind.island = island
            if ind.key in population:
                continue  # imported by an earlier run on this checkpoint
            knowledge.merge(ind)
            new += 1
            if store.rank == recorder:
                store.append(ind)
        if new:
            log.info("Rank %d (island %d): imported %d results of %s without evaluating them.",
                     store.rank, island, new, ", ".join(map(str, self.sources)))  # fmt: skip
        return new
