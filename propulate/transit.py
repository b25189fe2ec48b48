"""Emigrants lost in transit by a killed job, found again when the next job starts.

With real migration an emigrant leaves in two steps: its worker records it as inactive (with
the worker of the target island now responsible for it, ``current``) and sends it; the target
island's responsible worker records it as active there when it arrives. A job killed between the
two (SIGKILL, a node failure) leaves an individual active on no island: its departure is in the
home island's logs, its arrival nowhere.

:func:`lost_in_transit` finds such individuals when a job starts: an individual whose newest
record in the *other* islands' logs (the highest ``migration_steps``) is a departure to a worker
of this island, and that this island's logs hold at no version as new, never arrived. Every
worker of the island finds the same ones, takes them in as if they arrived now, and the worker
responsible for each records it, so each is active on exactly one island again. Only departures
of earlier jobs are considered lost: a departure of this job (after its sender's session record,
see :mod:`propulate.records`) is on its way and arrives as a message.

It reads the logs of every other island once per job and worker, and only with real migration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from .checkpoint import log_files, scan_log
from .migration import RealMigration
from .population import Individual, Population, Status
from .search_space import SearchSpace
from .wire import Kind

if TYPE_CHECKING:
    from .run import Run

__all__ = ["lost_in_transit", "take_in_lost_emigrants"]

log = logging.getLogger(__name__)

_ISLAND = re.compile(r"island-(\d+)-rank-\d+\.ckpt$")


def lost_in_transit(
    directory: str | Path,
    space: SearchSpace,
    island: int,
    members: Collection[int],
    known: Population,
    started: float,
) -> list[Individual]:
    """The emigrants sent to ``island`` by earlier jobs that never arrived.

    Parameters
    ----------
    directory : str or Path
        The checkpoint folder.
    space : SearchSpace
        The run's search space.
    island : int
        This worker's island.
    members : collection of int
        The ranks of the island's workers (an emigrant's ``current`` names one of them).
    known : Population
        What this worker read back from its island's logs.
    started : float
        Unix time at which this job's session began here: departures recorded in sessions that
        began later belong to this job and are still on their way.

    Returns
    -------
    list of Individual
        The lost emigrants, as they arrive: active, with the worker responsible for them.
    """
    newest: dict[tuple[int, int], Individual] = {}
    fingerprint = space.fingerprint()
    for path in log_files(directory):
        match = _ISLAND.search(path.name)
        if match is None or int(match.group(1)) == island:
            continue
        contents = scan_log(path, space, fingerprint=fingerprint)
        bounds = [first for first, _ in contents.sessions] + [len(contents.individuals)]
        earlier = len(contents.individuals)  # records of sessions begun before this job's
        for (first, session), _ in zip(contents.sessions, bounds[1:], strict=True):
            if float(session.get("started", 0.0)) >= started:
                earlier = first
                break
        for ind in contents.individuals[:earlier]:
            if ind.status == Status.PENDING:
                continue
            seen = newest.get(ind.key)
            if seen is None or ind.migration_steps > seen.migration_steps:
                newest[ind.key] = ind
    lost = []
    for key, ind in newest.items():
        if ind.active or ind.current not in members:
            continue
        here = known.get(key)
        if here is not None and here.migration_steps >= ind.migration_steps:
            continue  # it arrived (and may have moved on)
        ind.active = True
        lost.append(ind)
    if lost:
        log.info(
            "Island %d: %d emigrant(s) sent by an earlier job never arrived (a job killed while "
            "they travelled); taken in now.",
            island,
            len(lost),
        )
    return lost


def take_in_lost_emigrants(run: Run, directory: str | Path) -> None:
    """At the start of a run with real migration, take in what :func:`lost_in_transit` finds.

    The policy decides as for an arriving migrant (the responsible worker records it); the run
    carries the decisions out.
    """
    policy = run.policy
    if not isinstance(policy, RealMigration):
        return
    place, known = run.place, run.knowledge.population
    members = place.islands[place.island]
    started = run.store.session_started
    for arrival in lost_in_transit(directory, run.space, place.island, members, known, started):
        run.carry_out(policy.on_arrival(place, known, Kind.MIGRANT, arrival))
