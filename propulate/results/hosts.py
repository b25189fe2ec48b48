"""Failures and durations per host, so that a bad node stands out.

Every evaluation's host is recorded (a session record per job and rank in the rank's log, see
:mod:`propulate.records`); :func:`summarize_hosts` counts and times the evaluations of each host
and flags a host whose evaluations fail or run much more than those of the other hosts.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..population import Status
from ..reporting import format_duration

__all__ = ["HostSummary", "summarize_hosts", "host_rows", "HOST_HEADERS"]

# A host stands out when its share of failures, or its median duration, is this many times the
# other hosts' (with at least MIN_FAILURES failures: one is no pattern; and MIN_SLOWER seconds).
FACTOR = 2.0
MIN_FAILURES = 2
MIN_SLOWER = 0.1  # seconds: a host slower by less is not worth a look


@dataclass
class HostSummary:
    """The evaluations of one host.

    Attributes
    ----------
    host : str
        The host name (``"unknown"`` for evaluations recorded before hosts were).
    ranks : int
        Distinct ranks that evaluated there.
    evaluations, failed : int
        Evaluations, and failed ones.
    median_duration, max_duration : float
        Seconds per evaluation.
    note : str
        Why the host stands out (``"many failures"``, ``"slow"``), or empty.
    """

    host: str
    ranks: int
    evaluations: int
    failed: int
    median_duration: float
    max_duration: float
    note: str = ""


def summarize_hosts(records: Sequence[Mapping[str, Any]]) -> list[HostSummary]:
    """Count and time the evaluations of each host, flagging the ones that stand out.

    Parameters
    ----------
    records : sequence of dict
        Records from :func:`~propulate.results.load_results` (with their ``host``).

    Returns
    -------
    list of HostSummary
        One per host, by name; empty if no record knows its host.
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.get("host") or "unknown", []).append(record)
    if set(groups) <= {"unknown"}:
        return []
    hosts = [
        HostSummary(
            host=host,
            ranks=len({r["rank"] for r in group}),
            evaluations=len(group),
            failed=sum(r["status"] == Status.FAILED for r in group),
            median_duration=statistics.median(float(r["duration"]) for r in group),
            max_duration=max(float(r["duration"]) for r in group),
        )
        for host, group in sorted(groups.items())
    ]
    if len(hosts) > 1:
        for summary in hosts:
            summary.note = _note(summary, [h for h in hosts if h is not summary], groups)
    return hosts


def _note(
    host: HostSummary, others: list[HostSummary], groups: Mapping[str, list[Mapping[str, Any]]]
) -> str:
    """Why ``host`` stands out against ``others`` (empty if it does not)."""
    notes = []
    other_evaluations = sum(h.evaluations for h in others)
    other_share = sum(h.failed for h in others) / other_evaluations if other_evaluations else 0.0
    share = host.failed / host.evaluations
    if host.failed >= MIN_FAILURES and share > FACTOR * other_share:
        notes.append("many failures")
    other_durations = [float(r["duration"]) for h in others for r in groups[h.host]]
    typical = statistics.median(other_durations) if other_durations else math.nan
    slower = host.median_duration - typical
    if host.median_duration > FACTOR * typical and slower > MIN_SLOWER:
        notes.append("slow")
    return ", ".join(notes)


HOST_HEADERS = ["host", "ranks", "evaluations", "failed", "median time", "max time", ""]
"""The column headers of the hosts table (the last one holds the flag of a host that stands out)."""


def host_rows(hosts: Sequence[HostSummary]) -> list[list[Any]]:
    """The rows of the hosts table of :func:`~propulate.results.format_summary`."""
    return [
        [
            h.host,
            h.ranks,
            h.evaluations,
            h.failed,
            format_duration(h.median_duration),
            format_duration(h.max_duration),
            f"<- {h.note}" if h.note else "",
        ]
        for h in hosts
    ]
