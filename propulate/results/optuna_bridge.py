"""The Optuna bridge: a checkpoint folder as an Optuna study.

:func:`to_optuna` writes every evaluation of a run as a finished Optuna trial, so that
``optuna-dashboard`` and :mod:`optuna.visualization` work on a Propulate run. Each trial gets:

* the hyperparameters with distributions from the search space's limits: an int range becomes
  an :class:`~optuna.distributions.IntDistribution`, a float range a
  :class:`~optuna.distributions.FloatDistribution` (``log=True`` for a ``"log"`` range), a
  categorical a :class:`~optuna.distributions.CategoricalDistribution`;
* the state from the status: ``ok`` → ``COMPLETE`` with the loss as value, ``pruned`` →
  ``PRUNED`` (its value is the last value of its learning curve, kept as an intermediate value),
  ``failed`` → ``FAIL``;
* with several objectives, or declared ones (see :mod:`propulate.objectives`), a study with one
  direction per objective (``directions=``) and every objective's value as the loss function
  returned it (a maximized one not negated, its direction ``"maximize"``);
* the constraint values the loss function returned (see :mod:`propulate.feasibility`) in the
  system attribute ``"constraints"``, where Optuna's samplers keep the values of their
  ``constraints_func`` (a value ``<= 0`` is feasible there too): ``trial.constraints``,
  ``optuna-dashboard`` and the feasible-first choice of the best trials see them;
* the learning curve as intermediate values (step = index in the curve);
* the start and end of the evaluation, and the user attributes ``propulate_island``,
  ``propulate_rank``, ``propulate_generation`` (with ``propulate_error`` for a failure).

The trials are added in the order the evaluations ended. Exporting again into the same study
(``load_if_exists=True``) adds only the evaluations that are not in it yet, so a running search
can be exported now and then.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..feasibility import CONSTRAINTS_KEY
from ..search_space import Dimension, SearchSpace
from .loading import CheckpointData, read_checkpoint

__all__ = ["to_optuna", "optuna_distributions", "KEY_ATTRS"]

KEY_ATTRS = ("propulate_island", "propulate_rank", "propulate_generation")
"""The user attributes that identify an evaluation in the study (island, rank, generation)."""


def _optuna() -> Any:
    try:
        import optuna
    except ImportError as error:
        raise ImportError(
            "to_optuna needs Optuna: pip install optuna (or pip install 'propulate[benchmark]')."
        ) from error
    return optuna


def optuna_distributions(space: SearchSpace) -> dict[str, Any]:
    """The Optuna distribution of every dimension of ``space``.

    Parameters
    ----------
    space : SearchSpace
        The search space (e.g. ``read_checkpoint(path).search_space``).

    Returns
    -------
    dict
        The name of each hyperparameter and its distribution.
    """
    _optuna()
    return {dim.name: _distribution(dim) for dim in space}


def _distribution(dim: Dimension) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if dim.kind == "categorical":
        return CategoricalDistribution(list(dim.choices))
    if dim.values:  # a value set: Optuna has no ordinal distribution
        return CategoricalDistribution(list(dim.values))
    if dim.kind == "int":
        step = 1 if dim.step is None else int(dim.step)
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log, step=step)
    return FloatDistribution(float(dim.low), float(dim.high), log=dim.log, step=dim.step)


def to_optuna(
    checkpoint: str | Path | CheckpointData,
    storage: Any = None,
    study_name: str | None = None,
    *,
    load_if_exists: bool = False,
) -> Any:
    """Write every evaluation of a checkpoint folder as a trial of an Optuna study.

    Parameters
    ----------
    checkpoint : str, Path or CheckpointData
        The run's checkpoint folder (or what :func:`~propulate.results.read_checkpoint` read).
    storage : str or optuna.storages.BaseStorage, optional
        Where the study goes, e.g. ``"sqlite:///propulate.db"`` (default: in memory).
    study_name : str, optional
        The study's name (default: the checkpoint folder's name, or ``"propulate"``).
    load_if_exists : bool
        Add to an existing study of that name (only the evaluations it lacks) instead of
        failing.

    Returns
    -------
    optuna.Study
        The study: direction ``minimize`` for one undeclared objective (the losses), else one
        direction per objective as declared (``minimize`` for an undeclared tuple).

    Raises
    ------
    ImportError
        If Optuna is not installed.
    FileNotFoundError, CheckpointError
        If ``checkpoint`` is no readable checkpoint folder.
    optuna.exceptions.DuplicatedStudyError
        If the study exists and ``load_if_exists`` is not set.

    Examples
    --------
    >>> from propulate.results import to_optuna
    >>> study = to_optuna("ckpt", "sqlite:///ckpt.db")  # doctest: +SKIP
    >>> optuna.visualization.plot_optimization_history(study)  # doctest: +SKIP
    """
    optuna = _optuna()
    data = checkpoint if isinstance(checkpoint, CheckpointData) else read_checkpoint(checkpoint)
    if data.search_space is None:
        raise CheckpointError(
            f"'{checkpoint}' holds no log with a header yet, so its search space is unknown: "
            "export once the run has evaluated an individual."
        )
    distributions = optuna_distributions(data.search_space)
    folder = None if isinstance(checkpoint, CheckpointData) else Path(checkpoint).resolve().name
    name = study_name or folder or "propulate"
    directions = _directions(data)
    study = optuna.create_study(storage=storage, study_name=name, directions=directions,
                                load_if_exists=load_if_exists)  # fmt: skip
    known = {
        tuple(trial.user_attrs.get(attr) for attr in KEY_ATTRS)
        for trial in study.get_trials(deepcopy=False)
    }
    trials = [
        _trial(optuna, record, distributions, len(directions))
        for record in data.records
        if (record["island"], record["rank"], record["generation"]) not in known
    ]
    study.add_trials(trials)
    return study


def _directions(data: CheckpointData) -> list[str]:
    """The study's directions: as declared, else ``minimize`` per objective the records hold."""
    declared = data.objectives.declared
    if declared is not None:
        return [o.direction for o in declared]
    count = max((len(r.get("losses") or ()) for r in data.records), default=0)
    return ["minimize"] * max(count, 1)


def _values(record: Mapping[str, Any], count: int) -> list[float] | None:
    """A successful record's values in the study's order and sign (``None`` if it lacks them)."""
    objectives = record.get("objectives")
    if objectives and len(objectives) == count:
        return [float(v) for v in objectives.values()]  # as returned, in declaration order
    if count == 1:
        return [float(record["loss"])]
    return None


def _trial(
    optuna: Any, record: Mapping[str, Any], distributions: Mapping[str, Any], count: int
) -> Any:
    states = optuna.trial.TrialState
    status = record["status"]
    state = {"ok": states.COMPLETE, "pruned": states.PRUNED}.get(status, states.FAIL)
    values = _values(record, count) if state == states.COMPLETE else None
    if state == states.COMPLETE and values is None:
        state = states.FAIL  # its vector does not fit the study's objectives
    curve = record.get("curve") or []
    key = (record["island"], record["rank"], record["generation"])
    attrs: dict[str, Any] = dict(zip(KEY_ATTRS, key, strict=True))
    if record.get("error"):
        attrs["propulate_error"] = record["error"]
    params = {k: v for k, v in record["params"].items() if k in distributions}
    constraints = record.get("constraints")
    trial = optuna.trial.create_trial(
        state=state,
        values=values,
        params=params,
        distributions={k: distributions[k] for k in params},
        user_attrs=attrs,
        # The list form under "constraints" is what Optuna's samplers store (all versions).
        system_attrs={} if constraints is None else {CONSTRAINTS_KEY: list(constraints)},
        intermediate_values={step: float(v) for step, v in enumerate(curve)},
    )
    trial.datetime_start = _datetime(record["start"])
    trial.datetime_complete = _datetime(record["end"])
    return trial


def _datetime(timestamp: float) -> datetime.datetime:
    # Optuna keeps naive local times (datetime.now()); do the same so durations add up.
    return datetime.datetime.fromtimestamp(timestamp)
