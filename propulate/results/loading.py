"""Reading a checkpoint folder into plain records, one per evaluation, or a DataFrame.

Every log of the folder is read; an individual that migrated appears once. A record that is
half written (the run is still writing) is skipped without a warning.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checkpoint import _limits_from_fingerprint, log_files, scan_log
from ..errors import CheckpointError
from ..feasibility import violation
from ..legacy import find_v12_checkpoints
from ..objectives import Objectives
from ..population import Status
from ..search_space import SearchSpace

__all__ = [
    "CheckpointData",
    "read_checkpoint",
    "load_results",
    "load_dataframe",
    "flatten_record",
    "curve_json",
    "PARAM_PREFIX",
    "RECORD_FIELDS",
    "CONSTRAINT_PREFIX",
]

log = logging.getLogger("propulate.results")  # the logger these messages have always used

PARAM_PREFIX = "params_"
"""Prefix of the hyperparameter columns (:func:`~propulate.results.load_dataframe`, CSV)."""

CONSTRAINT_PREFIX = "constraint_"
"""Prefix of the constraint value columns (:func:`~propulate.results.load_dataframe`, CSV)."""

#: Columns of a record besides the hyperparameters, in the order exports show them.
RECORD_FIELDS = (
    "island",
    "rank",
    "generation",
    "status",
    "loss",
    "start",
    "end",
    "duration",
    "active",
    "migration_steps",
    "host",
    "error",
    "curve",
)


@dataclass
class CheckpointData:
    """Everything read from a checkpoint folder.

    Attributes
    ----------
    records : list of dict
        One record per evaluated individual (see :func:`load_results`), ordered by the time its
        evaluation ended; an individual that migrated appears once (``active`` if some island
        still breeds with it, ``migration_steps`` its highest count).
    search_space : SearchSpace or None
        The run's search space, from the logs' headers (``None`` if no log has a header yet).
    files : list of Path
        The logs that were read.
    torn : list of Path
        Logs whose last record was incomplete and skipped (normal while a run is writing).
    objectives : Objectives
        The objectives declared by the run (from the logs' headers; none declared if absent).
    """

    records: list[dict[str, Any]]
    search_space: SearchSpace | None
    files: list[Path]
    torn: list[Path] = field(default_factory=list)
    objectives: Objectives = field(default_factory=Objectives)


def read_checkpoint(path: str | Path) -> CheckpointData:
    """Read every island's and rank's log in a checkpoint folder.

    Parameters
    ----------
    path : str or Path
        The checkpoint folder (the run's ``checkpoint_path``), or one log file in it.

    Returns
    -------
    CheckpointData
        The records, the search space and the files read.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If ``path`` holds no checkpoint logs, or a log is not a Propulate log.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint folder at '{path}': check the path.")
    files = [path] if path.is_file() else log_files(path)
    if not files:
        raise CheckpointError(_no_logs_message(path))
    first: dict[tuple[int, int], dict[str, Any]] = {}
    # Per individual and per island whose logs mention it: (migration_steps, active) of the
    # newest record there. Each island's workers log every change of their island's view of an
    # individual (an emigrant leaving, an immigrant or a copy arriving, a victim replaced), so
    # the newest record per island is that island's view at the end.
    views: dict[tuple[int, int], dict[int, tuple[int, bool]]] = {}
    evaluated_on: dict[tuple[int, int], str] = {}  # the host of each individual's evaluation
    space: SearchSpace | None = None
    objectives: Objectives | None = None
    torn: list[Path] = []
    for file in files:
        contents = scan_log(file)
        header, individuals, was_torn = contents.header, contents.individuals, contents.torn
        hosts = contents.hosts()
        if was_torn:
            # A run that is still writing leaves its last record half written: not an error.
            log.debug("%s ends with an incomplete record; it was skipped.", file)
            torn.append(file)
        if header is None:
            continue
        if space is None:
            space = SearchSpace(_limits_from_fingerprint(header["search_space"]))
        if objectives is None or not objectives.is_declared:
            objectives = Objectives.from_header(header.get("objectives"))
        island, owner = int(header.get("island", -1)), header.get("rank")
        for ind, host in zip(individuals, hosts, strict=True):
            if ind.status == Status.PENDING:
                continue
            key = ind.key
            if key not in first:
                first[key] = _record(ind, objectives)
            if ind.worker == owner and host is not None and key not in evaluated_on:
                # Its own rank's log: the session it was recorded in is the one that ran it.
                evaluated_on[key] = host
            view = views.setdefault(key, {})
            if island not in view or ind.migration_steps >= view[island][0]:
                view[island] = (ind.migration_steps, bool(ind.active))
    for key, record in first.items():
        record["host"] = evaluated_on.get(key)
        # One row per evaluation: active if some island still breeds with it.
        record["active"] = any(active for _, active in views[key].values())
        record["migration_steps"] = max(steps for steps, _ in views[key].values())
    records = sorted(first.values(), key=lambda r: (r["end"], r["rank"], r["generation"]))
    return CheckpointData(records, space, files, torn, objectives or Objectives())


def _no_logs_message(path: Path) -> str:
    message = (
        f"'{path}' holds no Propulate checkpoint logs (files named island-<i>-rank-<r>.ckpt): "
        "give the folder that was the run's checkpoint_path"
    )
    if find_v12_checkpoints(path):
        return (
            f"{message}. It holds a checkpoint of Propulate 1.2 (island_<i>_ckpt.pickle), which "
            "is a pickle and is never read implicitly; if you trust it, convert it with "
            "propulate.legacy.import_v12_checkpoint(folder, new_folder, limits, trust=True)."
        )
    if path.is_dir():
        nested = sorted({p.parent for p in path.glob("*/island-*-rank-*.ckpt")})
        if nested:
            names = ", ".join(f"'{p}'" for p in nested[:5])
            return f"{message}; these subfolders hold logs: {names}."
    return message + "."


def _record(ind: Any, objectives: Objectives) -> dict[str, Any]:
    loss = math.inf if ind.loss is None else float(ind.loss)
    duration = float(ind.evalperiod)
    end = float(ind.evaltime)
    curve = getattr(ind, "curve", None)
    error = getattr(ind, "error", None)
    constraints = getattr(ind, "constraints", None)
    return {
        "island": int(ind.island),
        "rank": int(ind.worker),
        "generation": int(ind.generation),
        "status": str(ind.status),
        "loss": loss,
        "start": end - duration,
        "end": end,
        "duration": duration,
        "active": bool(ind.active),
        "migration_steps": int(ind.migration_steps),
        "params": ind.values_dict(),
        "extras": dict(ind.extras),
        "curve": [float(v) for v in curve] if curve is not None else None,
        "error": str(error) if error is not None else None,
        "objectives": _objectives(ind.losses, objectives),
        "losses": None if ind.losses is None else [float(v) for v in ind.losses],
        "constraints": None if constraints is None else [float(v) for v in constraints],
        "violation": violation(constraints),
    }


def _objectives(losses: Any, objectives: Objectives) -> dict[str, float] | None:
    """The objectives by name, in the user's sign (a maximized one as returned), or ``None``."""
    if losses is None:
        return None
    values = objectives.user_values(losses)
    return dict(zip(objectives.names(len(values)), values, strict=True))


def load_results(path: str | Path) -> list[dict[str, Any]]:
    """Read every evaluated individual of a checkpoint folder into plain records.

    Parameters
    ----------
    path : str or Path
        The checkpoint folder (all islands and ranks are read).

    Returns
    -------
    list of dict
        One dictionary per evaluation (an individual that migrated appears once), ordered by
        the time the evaluation ended, with keys
        ``island`` (where it was bred), ``rank``, ``generation`` (the rank's evaluation
        counter), ``status`` (``"ok"``, ``"failed"`` or ``"pruned"``), ``loss`` (``inf`` when
        failed), ``start`` and ``end`` (Unix times), ``duration`` (seconds), ``active``
        (whether some island still breeds with it), ``migration_steps`` (how often its
        migration state changed), ``host`` (the host name of the rank that evaluated it, or
        ``None`` in checkpoints written before hosts were recorded), ``params`` (a dictionary
        of the hyperparameters), ``extras`` (the individual's keys that start with ``_``, as
        Propulate 1.2 allowed), ``curve`` (the intermediate losses a generator loss function
        yielded, or ``None``), ``error`` (why it failed, or ``None``), ``objectives`` (with
        several objectives or declared ones, a dictionary of each objective's value as the loss
        function returned it, a maximized one not negated; ``None`` otherwise and for failed
        evaluations), ``losses`` (the same values in minimization sign, as a list in
        declaration order, or ``None``), ``constraints`` (the constraint values the loss
        function returned with its result, a value ``<= 0`` satisfied, or ``None``; see
        :mod:`propulate.feasibility`) and ``violation`` (their total violation, the sum of the
        positive values: 0.0 for a feasible evaluation).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If ``path`` holds no checkpoint logs.
    """
    return read_checkpoint(path).records


def load_dataframe(path: str | Path | Sequence[Mapping[str, Any]]) -> Any:
    """Read a checkpoint folder (or records) into a :class:`pandas.DataFrame`.

    Parameters
    ----------
    path : str, Path or sequence of dict
        The checkpoint folder, or records from :func:`load_results`.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation; the columns of :func:`load_results` with each hyperparameter in
        its own column ``params_<name>``, each objective in a column of its name (after
        ``loss``; prefixed ``objective_`` if the name is taken), where constraint values were
        returned a ``violation`` column and one column ``constraint_<i>`` per constraint (empty
        for an evaluation without), each ``_`` key in a column of its own name,
        ``start`` and ``end`` as Unix times and ``curve`` as a list (or ``None``).

    Raises
    ------
    ImportError
        If pandas is not installed.
    """
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(
            "load_dataframe needs pandas: pip install pandas (or pip install 'propulate[plots]'). "
            "load_results gives the same data as plain dictionaries without it."
        ) from error
    records = load_results(path) if isinstance(path, (str, Path)) else list(path)
    rows = [flatten_record(r) for r in records]
    return pd.DataFrame(rows, columns=table_columns(records))


def table_columns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns of a table of ``records`` (:func:`load_dataframe`, the CSV export)."""
    params = [PARAM_PREFIX + n for n in _param_names(records)]
    extras: dict[str, None] = {}
    objectives: dict[str, None] = {}
    constraints = 0
    for record in records:
        for name in record.get("extras") or ():
            extras.setdefault(name)
        for name in record.get("objectives") or ():
            objectives.setdefault(objective_column(name))
        constraints = max(constraints, len(record.get("constraints") or ()))
    loss = RECORD_FIELDS.index("loss") + 1
    feasibility = ["violation", *(CONSTRAINT_PREFIX + str(i) for i in range(constraints))]
    return [
        *RECORD_FIELDS[:loss],
        *objectives,
        *(feasibility if constraints else ()),
        *RECORD_FIELDS[loss:-2],
        *params,
        *extras,
        *RECORD_FIELDS[-2:],
    ]


def objective_column(name: str) -> str:
    """The table column of the objective ``name``: the name, unless a record field has it."""
    return f"objective_{name}" if name in RECORD_FIELDS or name == "params" else name


def flatten_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with its hyperparameters as ``params_<name>`` entries (for tables and CSV).

    Each ``_`` key (see :class:`~propulate.Individual`) becomes an entry of its own name.
    """
    row = {k: v for k, v in record.items() if k not in _NESTED}
    for name, value in (record.get("objectives") or {}).items():
        row[objective_column(name)] = value
    for i, value in enumerate(record.get("constraints") or ()):
        row[CONSTRAINT_PREFIX + str(i)] = value
    for name, value in record["params"].items():
        row[PARAM_PREFIX + name] = value
    row.update(record.get("extras") or {})
    return row


# Spread over columns of their own.
_NESTED = ("params", "extras", "objectives", "losses", "constraints")


def _param_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for name in record["params"]:
            names.setdefault(name)
    return list(names)


def curve_json(curve: Sequence[float] | None) -> str:
    """A learning curve as JSON text for a CSV cell (empty when there is none)."""
    return "" if curve is None else json.dumps(list(curve))
