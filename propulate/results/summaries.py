"""Counting, timing and ranking a run's evaluations, and the table that shows it."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..feasibility import order_key
from ..pareto import constrained_pareto_mask
from ..population import Status
from ..reporting import format_duration
from ..warm_start import IMPORTED_KEY
from .hosts import HOST_HEADERS, HostSummary, host_rows, summarize_hosts
from .loading import _param_names

__all__ = [
    "IslandSummary",
    "ResultSummary",
    "summarize_results",
    "best_records",
    "format_summary",
    "format_table",
]


@dataclass
class IslandSummary:
    """Counts of one island (see :class:`ResultSummary`).

    ``best_loss`` is the lowest loss of a feasible evaluation (see :mod:`propulate.feasibility`),
    or of any successful one when none is feasible.
    """

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
        The best successfully evaluated records with distinct hyperparameters, best first
        (imported ones among them).
    imported : int
        Results imported from earlier runs (see :mod:`propulate.warm_start`): not evaluated in
        this run, so left out of every count and time above but ranked among the best.
    hosts : list of HostSummary
        Evaluations, failures and durations per host, with the hosts that stand out flagged
        (empty if the checkpoint predates host records; see :mod:`propulate.results.hosts`).
    front : list of dict
        With several objectives, the Pareto front: the successfully evaluated records (distinct
        hyperparameters) that no other one dominates, by their first objective; empty with
        one objective. With constraint values (see :mod:`propulate.feasibility`), the front of
        the feasible records, or, when none is feasible, those of least violation.
    infeasible : int
        Successful evaluations that violate a constraint they returned. ``best`` and ``front``
        rank every feasible record before every infeasible one.
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
    imported: int = 0
    hosts: list[HostSummary] = field(default_factory=list)
    front: list[dict[str, Any]] = field(default_factory=list)
    infeasible: int = 0


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
    everything = records
    records = [r for r in records if not _imported(r)]
    by_status = {Status.OK: 0, Status.FAILED: 0, Status.PRUNED: 0}
    islands: dict[int, dict[str, Any]] = {}
    for r in records:
        status = r["status"]
        by_status[status] = by_status.get(status, 0) + 1
        island = islands.setdefault(
            r["island"], {"ranks": set(), "n": 0, "statuses": {}, "best": (True, math.inf)}
        )
        island["ranks"].add(r["rank"])
        island["n"] += 1
        island["statuses"][status] = island["statuses"].get(status, 0) + 1
        if status == Status.OK:  # a feasible loss first; an infeasible one only without any
            island["best"] = min(island["best"], (_violation(r) > 0, r["loss"]))
    island_summaries = [
        IslandSummary(
            island=i,
            workers=len(s["ranks"]),
            evaluations=s["n"],
            ok=s["statuses"].get(Status.OK, 0),
            failed=s["statuses"].get(Status.FAILED, 0),
            pruned=s["statuses"].get(Status.PRUNED, 0),
            best_loss=s["best"][1],
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
        best=best_records(everything, top_n),
        imported=len(everything) - len(records),
        hosts=summarize_hosts(records),
        front=pareto_records(records),
        infeasible=sum(1 for r in records if r["status"] == Status.OK and _violation(r) > 0),
    )


def _imported(record: Mapping[str, Any]) -> bool:
    return IMPORTED_KEY in (record.get("extras") or {})


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


def _violation(record: Mapping[str, Any]) -> float:
    return float(record.get("violation") or 0.0)


def best_records(records: Sequence[Mapping[str, Any]], top_n: int) -> list[dict[str, Any]]:
    """The ``top_n`` successfully evaluated records with the lowest loss and distinct params.

    Feasible records first, the infeasible ones by violation (see :mod:`propulate.feasibility`).
    """
    ranked = sorted(
        (r for r in records if r["status"] == Status.OK),
        key=lambda r: (*order_key(r["loss"], r.get("constraints")), r["rank"], r["generation"]),
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


def pareto_records(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The non-dominated successful records of a run with several objectives (see ``front``)."""
    candidates = [r for r in records if r["status"] == Status.OK and len(r.get("losses") or ()) > 1]
    if not candidates:
        return []
    points = np.array([r["losses"] for r in candidates], dtype=float)
    mask = constrained_pareto_mask(points, [_violation(r) for r in candidates])
    front = sorted(
        (candidates[i] for i in np.flatnonzero(mask)),
        key=lambda r: (r["losses"], r["rank"], r["generation"]),
    )
    chosen: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for r in front:
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
    if s.infeasible:
        lines.append(
            f"  {s.infeasible} successful evaluation{'s' if s.infeasible != 1 else ''} violate "
            "the constraints they returned: ranked after every feasible one"
        )
    if s.imported:
        lines.append(f"  and {s.imported} results imported from earlier runs (not evaluated here)")
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
    if s.hosts:
        lines.append("Hosts:")
        lines.append(format_table(HOST_HEADERS, host_rows(s.hosts)))
    if s.front:
        lines.extend(_front_lines(s.front))
    elif s.best:
        names = _param_names(s.best)
        # One declared objective: shown as the loss function returned it (e.g. an accuracy).
        objective = list(s.best[0].get("objectives") or ())
        lines.append(f"Best {len(s.best)}:")
        feasibility = _feasibility_column(s.best)
        lines.append(
            format_table(
                ["#", *(objective or ["loss"]), *feasibility, "island", "rank", "generation"]
                + names,
                [
                    [
                        place,
                        *_objective_values(r, objective),
                        *_feasibility_cell(r, feasibility),
                        r["island"],
                        r["rank"],
                        "imported" if _imported(r) else r["generation"],
                    ]  # fmt: skip
                    + [r["params"].get(n, "") for n in names]
                    for place, r in enumerate(s.best, start=1)
                ],
            )
        )
    elif s.evaluations:
        lines.append("No successful evaluation yet.")
    return "\n".join(lines)


FRONT_ROWS = 20  # the Pareto front's rows a summary shows (the rest are counted)


def _objective_values(record: Mapping[str, Any], names: Sequence[str]) -> list[Any]:
    if not names:
        return [record["loss"]]
    values = record.get("objectives") or {}
    return [values.get(name, "") for name in names]


def _feasibility_column(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """``["violation"]`` when a shown record is infeasible (the column says which), else none."""
    return ["violation"] if any(_violation(r) > 0 for r in records) else []


def _feasibility_cell(record: Mapping[str, Any], column: Sequence[str]) -> list[Any]:
    if not column:
        return []
    amount = _violation(record)
    return [f"{amount:.6g} (infeasible)" if amount > 0 else "0 (feasible)"]


def _front_lines(front: Sequence[Mapping[str, Any]]) -> list[str]:
    """The Pareto front as a table, by its first objective (at most ``FRONT_ROWS`` rows)."""
    objectives = list(front[0]["objectives"])
    names = _param_names(front)
    shown = front[:FRONT_ROWS]
    lines = [f"Pareto front: {len(front)} individual{'s' if len(front) != 1 else ''}"]
    if len(front) > len(shown):
        lines[0] += f" (the first {len(shown)} by {objectives[0]} shown)"
    feasibility = _feasibility_column(shown)
    if feasibility:
        lines[0] += " (none feasible: those of least constraint violation)"
    lines.append(
        format_table(
            ["#", *objectives, *feasibility, "island", "rank", "generation", *names],
            [
                [place, *_objective_values(r, objectives), *_feasibility_cell(r, feasibility)]
                + [r["island"], r["rank"], r["generation"]]
                + [r["params"].get(n, "") for n in names]
                for place, r in enumerate(shown, start=1)
            ],
        )
    )
    return lines
