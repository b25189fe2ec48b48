"""Reading a run's results from its checkpoint folder, without MPI.

A checkpoint folder holds one append-only log per rank (``island-<i>-rank-<r>.ckpt``, see
:mod:`propulate.checkpoint`). :func:`load_results` reads every log into plain records, one
dictionary per evaluated individual; :func:`load_dataframe` gives the same as a
:class:`pandas.DataFrame`; :func:`summarize_results` counts and times them and
:func:`format_summary` prints that as a table. :func:`parameter_importance` estimates how much of
the loss's variation each hyperparameter explains.

Everything here works on the folder of a run that is still writing: a record that is half
written is skipped without a warning (it will be complete the next time the folder is read).

Examples
--------
>>> from propulate.results import load_results, summarize_results, format_summary
>>> records = load_results("checkpoints")  # doctest: +SKIP
>>> print(format_summary(summarize_results(records, top_n=3)))  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import _limits_from_fingerprint, log_files, read_log
from .errors import CheckpointError
from .population import Status
from .reporting import format_duration
from .search_space import SearchSpace

__all__ = [
    "CheckpointData",
    "IslandSummary",
    "ResultSummary",
    "read_checkpoint",
    "load_results",
    "load_dataframe",
    "summarize_results",
    "format_summary",
    "parameter_importance",
    "PARAM_PREFIX",
]

log = logging.getLogger(__name__)

PARAM_PREFIX = "params_"
"""Prefix of the hyperparameter columns in :func:`load_dataframe` and CSV exports."""

# Columns of a record besides the hyperparameters, in the order exports show them.
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
    """

    records: list[dict[str, Any]]
    search_space: SearchSpace | None
    files: list[Path]
    torn: list[Path] = field(default_factory=list)


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
    space: SearchSpace | None = None
    torn: list[Path] = []
    for file in files:
        header, individuals, _, was_torn = read_log(file)
        if was_torn:
            # A run that is still writing leaves its last record half written: not an error.
            log.debug("%s ends with an incomplete record; it was skipped.", file)
            torn.append(file)
        if header is None:
            continue
        if space is None:
            space = SearchSpace(_limits_from_fingerprint(header["search_space"]))
        island = int(header.get("island", -1))
        for ind in individuals:
            if ind.status == Status.PENDING:
                continue
            key = ind.key
            if key not in first:
                first[key] = _record(ind)
            view = views.setdefault(key, {})
            if island not in view or ind.migration_steps >= view[island][0]:
                view[island] = (ind.migration_steps, bool(ind.active))
    for key, record in first.items():
        # One row per evaluation: active if some island still breeds with it.
        record["active"] = any(active for _, active in views[key].values())
        record["migration_steps"] = max(steps for steps, _ in views[key].values())
    records = sorted(first.values(), key=lambda r: (r["end"], r["rank"], r["generation"]))
    return CheckpointData(records, space, files, torn)


def _no_logs_message(path: Path) -> str:
    message = (
        f"'{path}' holds no Propulate checkpoint logs (files named island-<i>-rank-<r>.ckpt): "
        "give the folder that was the run's checkpoint_path"
    )
    if path.is_dir():
        nested = sorted({p.parent for p in path.glob("*/island-*-rank-*.ckpt")})
        if nested:
            names = ", ".join(f"'{p}'" for p in nested[:5])
            return f"{message}; these subfolders hold logs: {names}."
    return message + "."


def _record(ind: Any) -> dict[str, Any]:
    loss = math.inf if ind.loss is None else float(ind.loss)
    duration = float(ind.evalperiod)
    end = float(ind.evaltime)
    curve = getattr(ind, "curve", None)
    error = getattr(ind, "error", None)
    return {
        "island": int(ind.island),
        "rank": int(ind.rank),
        "generation": int(ind.generation),
        "status": str(ind.status),
        "loss": loss,
        "start": end - duration,
        "end": end,
        "duration": duration,
        "active": bool(ind.active),
        "migration_steps": int(ind.migration_steps),
        "params": ind.values_dict(),
        "curve": [float(v) for v in curve] if curve is not None else None,
        "error": str(error) if error is not None else None,
    }


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
        migration state changed), ``params`` (a dictionary of the hyperparameters), ``curve`` (the
        intermediate losses a generator loss function yielded, or ``None``) and ``error`` (why
        it failed, or ``None``).

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
        its own column ``params_<name>``, ``start`` and ``end`` as Unix times and ``curve`` as a
        list (or ``None``).

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
    names = _param_names(records)
    columns = [*RECORD_FIELDS[:-2], *(PARAM_PREFIX + n for n in names), *RECORD_FIELDS[-2:]]
    return pd.DataFrame(rows, columns=columns)


def flatten_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record with its hyperparameters as ``params_<name>`` entries (for tables and CSV)."""
    row = {k: v for k, v in record.items() if k != "params"}
    for name, value in record["params"].items():
        row[PARAM_PREFIX + name] = value
    return row


def _param_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for record in records:
        for name in record["params"]:
            names.setdefault(name)
    return list(names)


# ----- summaries -------------------------------------------------------------------------------
@dataclass
class IslandSummary:
    """Counts of one island (see :class:`ResultSummary`)."""

    island: int
    workers: int
    evaluations: int
    ok: int
    failed: int
    pruned: int
    best_loss: float


@dataclass
class ResultSummary:
    """Counts, timing and the best individuals of a run.

    Attributes
    ----------
    evaluations, ok, failed, pruned : int
        Evaluations in all, and by status.
    workers : int
        Distinct ranks that evaluated (one per worker: only a worker's first rank records).
    islands : list of IslandSummary
        The same counts per island.
    first_start, last_end : float
        Unix times of the first evaluation's start and the last one's end (``nan`` if none).
    span : float
        ``last_end - first_start`` in seconds.
    run_time : float
        ``span`` less the pauses in which no evaluation ran for a long time (a run stopped and
        resumed later): a pause counts when it is longer than 60 s and 20 times the median
        evaluation.
    evaluations_per_second : float
        ``evaluations / run_time``.
    compute_time : float
        Seconds spent inside the loss function, summed over all evaluations.
    utilization : float
        ``compute_time / (workers * run_time)``: the fraction of the workers' time spent
        evaluating (the rest went to breeding, communication, start-up and waiting).
    best : list of dict
        The best successfully evaluated records with distinct hyperparameters, best first.
    """

    evaluations: int
    ok: int
    failed: int
    pruned: int
    workers: int
    islands: list[IslandSummary]
    first_start: float
    last_end: float
    span: float
    run_time: float
    evaluations_per_second: float
    compute_time: float
    utilization: float
    best: list[dict[str, Any]]


def summarize_results(records: Sequence[Mapping[str, Any]], top_n: int = 5) -> ResultSummary:
    """Count, time and rank the evaluations of a run.

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`load_results`.
    top_n : int
        How many of the best distinct individuals to keep.

    Returns
    -------
    ResultSummary
        The summary.
    """
    if top_n < 0:
        raise ValueError(f"top_n={top_n}; give 0 or more.")
    by_status = {Status.OK: 0, Status.FAILED: 0, Status.PRUNED: 0}
    islands: dict[int, dict[str, Any]] = {}
    for r in records:
        status = r["status"]
        by_status[status] = by_status.get(status, 0) + 1
        island = islands.setdefault(
            r["island"], {"ranks": set(), "n": 0, "statuses": {}, "best": math.inf}
        )
        island["ranks"].add(r["rank"])
        island["n"] += 1
        island["statuses"][status] = island["statuses"].get(status, 0) + 1
        if status == Status.OK:
            island["best"] = min(island["best"], r["loss"])
    island_summaries = [
        IslandSummary(
            island=i,
            workers=len(s["ranks"]),
            evaluations=s["n"],
            ok=s["statuses"].get(Status.OK, 0),
            failed=s["statuses"].get(Status.FAILED, 0),
            pruned=s["statuses"].get(Status.PRUNED, 0),
            best_loss=s["best"],
        )
        for i, s in sorted(islands.items())
    ]
    starts = np.array([r["start"] for r in records], dtype=float)
    ends = np.array([r["end"] for r in records], dtype=float)
    durations = np.array([r["duration"] for r in records], dtype=float)
    workers = len({r["rank"] for r in records})
    if len(records):
        first, last = float(starts.min()), float(ends.max())
        span = last - first
        run_time = span - _pauses(starts, ends, float(np.median(durations)))
    else:
        first = last = math.nan
        span = run_time = 0.0
    compute = float(durations.sum())
    return ResultSummary(
        evaluations=len(records),
        ok=by_status[Status.OK],
        failed=by_status[Status.FAILED],
        pruned=by_status[Status.PRUNED],
        workers=workers,
        islands=island_summaries,
        first_start=first,
        last_end=last,
        span=span,
        run_time=run_time,
        evaluations_per_second=len(records) / run_time if run_time > 0 else math.nan,
        compute_time=compute,
        utilization=compute / (workers * run_time) if run_time > 0 and workers else math.nan,
        best=best_records(records, top_n),
    )


def _pauses(starts: np.ndarray, ends: np.ndarray, median_duration: float) -> float:
    """Total length of the long stretches in which no evaluation was running."""
    threshold = max(60.0, 20.0 * median_duration)
    order = np.argsort(starts)
    running_until = -math.inf
    paused = 0.0
    for start, end in zip(starts[order], ends[order], strict=True):
        if running_until > -math.inf and start - running_until > threshold:
            paused += start - running_until
        running_until = max(running_until, end)
    return paused


def best_records(records: Sequence[Mapping[str, Any]], top_n: int) -> list[dict[str, Any]]:
    """The ``top_n`` successfully evaluated records with the lowest loss and distinct params."""
    ranked = sorted(
        (r for r in records if r["status"] == Status.OK),
        key=lambda r: (r["loss"], r["rank"], r["generation"]),
    )
    chosen: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for r in ranked:
        if len(chosen) >= top_n:
            break
        values = tuple(r["params"].items())
        if values not in seen:
            seen.add(values)
            chosen.append(dict(r))
    return chosen


def _time(unix: float) -> str:
    if not math.isfinite(unix):
        return "n/a"
    return datetime.datetime.fromtimestamp(unix).strftime("%Y-%m-%d %H:%M:%S")


def _number(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> str:
    """Align ``rows`` under ``headers`` (numbers right-aligned, text left-aligned)."""
    cells = [[_number(x) for x in row] for row in rows]
    numeric = [
        all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(list(headers)), *(line(c) for c in cells)])


def format_summary(summary: ResultSummary, title: str | None = None) -> str:
    """A readable multi-line report of a :class:`ResultSummary`.

    Parameters
    ----------
    summary : ResultSummary
        The summary.
    title : str, optional
        A first line (e.g. the checkpoint folder).

    Returns
    -------
    str
        The report.
    """
    s = summary
    lines = [title] if title else []
    lines.append(
        f"Evaluations: {s.evaluations} (ok {s.ok}, failed {s.failed}, pruned {s.pruned}) "
        f"by {s.workers} worker{'s' if s.workers != 1 else ''} on "
        f"{len(s.islands)} island{'s' if len(s.islands) != 1 else ''}"
    )
    if s.evaluations:
        paused = s.span - s.run_time
        start, end = _time(s.first_start), _time(s.last_end)
        if start[:10] == end[:10]:
            end = end[11:]  # same day: the clock time is enough
        lines.append(f"Time: {start} to {end}")
        run = f"  run time {format_duration(s.run_time)}"
        if paused > 0:
            run += f" (span {format_duration(s.span)}, paused {format_duration(paused)})"
        lines.append(run)
        lines.append(
            f"  {s.evaluations_per_second:.3g} evaluations/s; "
            f"{format_duration(s.compute_time)} inside the loss function; "
            f"workers busy {100 * s.utilization:.0f}% of the run time"
        )
    if s.islands:
        lines.append("Islands:")
        lines.append(
            format_table(
                ["island", "workers", "evaluations", "ok", "failed", "pruned", "best loss"],
                [
                    [i.island, i.workers, i.evaluations, i.ok, i.failed, i.pruned, i.best_loss]
                    for i in s.islands
                ],
            )
        )
    if s.best:
        names = _param_names(s.best)
        lines.append(f"Best {len(s.best)}:")
        lines.append(
            format_table(
                ["#", "loss", "island", "rank", "generation", *names],
                [
                    [place, r["loss"], r["island"], r["rank"], r["generation"]]
                    + [r["params"].get(n, "") for n in names]
                    for place, r in enumerate(s.best, start=1)
                ],
            )
        )
    elif s.evaluations:
        lines.append("No successful evaluation yet.")
    return "\n".join(lines)


# ----- parameter importance ----------------------------------------------------------------------
def parameter_importance(
    records: Sequence[Mapping[str, Any]],
    search_space: SearchSpace | None = None,
    bins: int = 10,
) -> dict[str, float]:
    r"""Estimate how much of the variation of the loss each hyperparameter explains on its own.

    Method: a first-order, variance-based estimate (the correlation ratio :math:`\eta^2`, a
    binned estimate of the first-order Sobol index). The losses are replaced by their ranks
    (failed evaluations, with loss ``inf``, rank last) so that outliers and the loss's scale do
    not matter. For each hyperparameter the evaluations are grouped, by value for categorical
    and few-valued integer parameters and into ``bins`` equally filled bins of the value
    otherwise, and the share of the rank variance explained by the group means is computed:
    :math:`\eta^2 = \sum_g n_g (\bar y_g - \bar y)^2 / \sum_i (y_i - \bar y)^2`. It is
    corrected for the number of groups like an adjusted :math:`R^2`,
    :math:`1 - (1 - \eta^2)(n - 1)/(n - G)`, so a parameter without effect scores about 0,
    and clipped at 0.

    Limits: it sees main effects only (a parameter that matters only together with another,
    e.g. in a product or through a constraint, can score near 0); correlated parameters share
    the credit; the samples of an evolutionary search are neither independent nor uniform (late
    in a run they crowd around the best region, which hides the effect of a parameter that has
    already converged, so compare importances over the same stretch of a run); and with few
    evaluations (tens) the estimate is noisy. Use it to rank parameters, not as an exact
    decomposition; the values need not sum to 1.

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`load_results` (every status is used; failed ones rank last).
    search_space : SearchSpace, optional
        The run's search space, for the names and their order; taken from the records if
        omitted. (Bins are quantiles, so a log scale makes no difference.)
    bins : int
        The number of bins for continuous parameters (at least 2).

    Returns
    -------
    dict of str to float
        The estimate per hyperparameter, in the search space's order; ``nan`` for all of them
        with fewer than 10 evaluations or when every loss is equal.
    """
    if bins < 2:
        raise ValueError(f"bins={bins}; use at least 2.")
    names = list(search_space.names) if search_space is not None else _param_names(records)
    n = len(records)
    losses = np.array([r["loss"] for r in records], dtype=float)
    if n < 10 or np.all(losses == losses[0]):
        return dict.fromkeys(names, math.nan)
    y = _ranks(np.where(np.isnan(losses), np.inf, losses))
    total = float(np.sum((y - y.mean()) ** 2))
    result = {}
    for name in names:
        values = [r["params"].get(name) for r in records]
        groups = _groups(values, bins)
        n_groups = int(groups.max()) + 1
        if n_groups < 2 or n_groups >= n:
            result[name] = 0.0
            continue
        counts = np.bincount(groups, minlength=n_groups)
        means = np.bincount(groups, weights=y, minlength=n_groups) / np.maximum(counts, 1)
        eta2 = float(np.sum(counts * (means - y.mean()) ** 2)) / total
        adjusted = 1.0 - (1.0 - eta2) * (n - 1) / (n - n_groups)
        result[name] = max(adjusted, 0.0)
    return result


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 with ties sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return np.asarray(sums[inverse] / counts[inverse])


def _groups(values: Sequence[Any], bins: int) -> np.ndarray:
    """Group index per value: by value if there are few distinct ones, else by quantile bin."""
    if any(isinstance(v, str) or v is None for v in values):
        labels = {v: i for i, v in enumerate(dict.fromkeys(str(v) for v in values))}
        return np.array([labels[str(v)] for v in values])
    x = np.asarray(values, dtype=float)
    distinct = np.unique(x)
    if len(distinct) <= bins:
        return np.searchsorted(distinct, x)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right")


def curve_json(curve: Sequence[float] | None) -> str:
    """A learning curve as JSON text for a CSV cell (empty when there is none)."""
    return "" if curve is None else json.dumps(list(curve))
