"""Evaluations started and not recorded: known after any end of a job, resumed first.

Each rank keeps ``island-<i>-rank-<r>.unfinished.jsonl`` beside its checkpoint log. An entry is
written when an evaluation starts (``"running"``) and removed once its result is in the log. An
evaluation interrupted because the run ended (see :mod:`propulate.interruption`) stays with
status ``"interrupted"``, its curve and its duration. So whatever ends a job (SIGTERM, the time
budget, SIGKILL, a crash of the node), the next job on the checkpoint finds the evaluations
that were in flight, and evaluates them again first, with the same parameters and the same
working folder (:func:`~propulate.current_dir`), before breeding new ones.

The file is a short journal (a line when an evaluation starts, one when it ends, emptied
whenever nothing is in flight), so it costs a few system calls per evaluation. It is not synced
to disk for every evaluation: a killed process loses nothing written, a crash of the whole node
may lose the last lines (an evaluation then is bred anew instead of resumed).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import files
from .errors import CheckpointError
from .evaluation import Evaluation
from .interruption import Circumstances
from .population import Individual, Key
from .records import decode_individual, encode_individual
from .search_space import SearchSpace

__all__ = [
    "Unfinished",
    "UnfinishedEvaluation",
    "ResumeQueue",
    "unfinished_path",
    "work_dir",
    "circumstances",
]

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
#: Evaluations expected to take less than this many seconds (the longest of the recent ones)
#: are not written to the journal: its two writes per evaluation cost about 0.1 ms, more than
#: the loop's own work on a fast loss, and re-running a 0.1 s evaluation first after a hard
#: kill saves nothing worth it. The first evaluation of a run is always written.
JOURNAL_MIN_SECONDS = 0.1


def unfinished_path(directory: str | Path, island: int, rank: int) -> Path:
    """The file of ``rank``'s unfinished evaluations on ``island`` in ``directory``."""
    return Path(directory) / f"island-{island}-rank-{rank}.unfinished.jsonl"


def work_dir(directory: str | Path, island: int, rank: int, generation: int) -> Path:
    """The working folder of the individual bred by ``rank`` on ``island`` at ``generation``."""
    name = f"island-{island}-rank-{rank}-generation-{generation}"
    return _individuals(directory) / name


@functools.lru_cache(maxsize=16)
def _individuals(directory: str | Path) -> Path:
    """``directory/individuals`` (parsed once: this is asked for every evaluation)."""
    return Path(directory) / "individuals"


def circumstances(
    directory: str | Path,
    ind: Individual,
    resumed: UnfinishedEvaluation | None,
    interrupt: Callable[[], str | None],
    max_seconds: float | None,
    on_value: Callable[[int, float, float], None] | None = None,
) -> Circumstances:
    """What the evaluation of ``ind`` is given: its folder, what it resumes, when to stop it.

    ``on_value`` is the hook that shows its intermediate values (see
    :meth:`~propulate.epoch_line.EpochLine.hook`).
    """
    return Circumstances(
        workdir=work_dir(directory, ind.island, ind.rank, ind.generation),
        interrupt=interrupt,
        max_seconds=max_seconds,
        curve=tuple(resumed.curve) if resumed is not None else (),
        duration=resumed.duration if resumed is not None else 0.0,
        on_value=on_value,
    )


@dataclass
class UnfinishedEvaluation:
    """An evaluation a former run started and did not record.

    Attributes
    ----------
    individual : Individual
        The individual (status ``"pending"``; its rank and generation as when bred).
    status : str
        ``"running"`` (the job ended without a word: SIGKILL, a crash) or ``"interrupted"``.
    curve : list of float
        The intermediate values it reached (of an interrupted evaluation).
    duration : float
        The seconds it ran (of an interrupted evaluation).
    reason : str or None
        Why it was interrupted.
    """

    individual: Individual
    status: str
    curve: list[float]
    duration: float
    reason: str | None = None


class Unfinished:
    """One rank's journal of unfinished evaluations.

    Parameters
    ----------
    directory : Path
        The checkpoint folder.
    space : SearchSpace
        The run's search space.
    island, rank : int
        The rank's island and its rank in the whole optimization.

    Notes
    -----
    The file holds one JSON line per change: an entry (its latest state) or an end. Appending a
    line costs a write; once no evaluation is in flight the file is emptied. A line torn by a
    kill in the middle of a write can only be the last one, and is ignored.
    """

    def __init__(self, directory: Path, space: SearchSpace, island: int, rank: int) -> None:
        self.path = unfinished_path(directory, island, rank)
        self.space = space
        self.rank = rank
        self._entries: dict[int, dict[str, Any]] = {}  # by generation
        # Kept open between writes: opening and closing it twice per evaluation cost more than
        # the rest of the loop's work on a microsecond loss. Closed by close() (reopened if
        # written again).
        self._handle: int | None = None

    def load(self) -> list[UnfinishedEvaluation]:
        """Read the unfinished evaluations a former run left, oldest first (keeps them)."""
        if not self.path.exists():
            return []
        entries: dict[int, dict[str, Any]] = {}
        try:
            lines = self.path.read_bytes().split(b"\n")
            for number, line in enumerate(lines):
                try:
                    entry = json.loads(line) if line.strip() else None
                except ValueError:
                    if number == len(lines) - 1:
                        break  # torn by a kill while it was written
                    raise
                if entry is None:
                    continue
                generation = int(entry["generation"])
                if entry.get("end"):
                    entries.pop(generation, None)
                else:
                    entries[generation] = entry
            found = [self._decode(entry) for entry in entries.values()]
        except (ValueError, TypeError, KeyError) as error:
            raise CheckpointError(
                f"{self.path}: the list of unfinished evaluations is damaged "
                f"({type(error).__name__}: {error}). Delete the file to resume without "
                "re-running the evaluations that were in flight."
            ) from error
        self._entries = entries
        self._rewrite()  # only what is still unfinished
        return sorted(found, key=lambda u: u.individual.generation)

    def _decode(self, entry: dict[str, Any]) -> UnfinishedEvaluation:
        ind = decode_individual(base64.b64decode(entry["record"]), self.space)
        if ind.generation != int(entry["generation"]):
            raise ValueError("the record's generation differs from the entry's")
        curve = [float(v) for v in entry.get("curve", [])]
        reason = entry.get("reason")
        return UnfinishedEvaluation(ind, str(entry["status"]), curve,
                                    float(entry.get("duration", 0.0)),
                                    None if reason is None else str(reason))  # fmt: skip

    def forget(self, keys: set[Key]) -> None:
        """Drop the entries of individuals already recorded (a job killed in between)."""
        stale = [g for g in self._entries if (self.rank, g) in keys]
        for generation in stale:
            del self._entries[generation]
        if stale:
            self._rewrite()

    def begin(self, ind: Individual) -> None:
        """Note that the evaluation of ``ind`` starts (a resumed one keeps what it had done)."""
        if ind.generation in self._entries:
            return
        record = base64.b64encode(encode_individual(ind)).decode("ascii")
        entry = {"generation": ind.generation, "status": "running", "started_at": time.time(),
                 "record": record}  # fmt: skip
        self._entries[ind.generation] = entry
        self._append([entry])

    def interrupt(self, ind: Individual, outcome: Evaluation) -> None:
        """Keep ``ind`` as interrupted, with its curve and duration, for the next run."""
        entry = self._entries.get(ind.generation)
        if entry is None:
            record = base64.b64encode(encode_individual(ind)).decode("ascii")
            entry = self._entries[ind.generation] = {"generation": ind.generation,
                                                     "record": record}  # fmt: skip
        entry.update(status="interrupted", curve=list(outcome.curve), duration=outcome.duration,
                     reason=outcome.error)  # fmt: skip
        self._append([entry])

    def end(self, ind: Individual) -> None:
        """Forget ``ind``: its result is recorded."""
        if self._entries.pop(ind.generation, None) is None:
            return
        if self._entries:
            self._append([{"generation": ind.generation, "end": True}])
        else:
            self._rewrite()  # nothing in flight: empty the file

    def _append(self, entries: list[dict[str, Any]], truncate: bool = False) -> None:
        data = b"".join(json.dumps(entry).encode() + b"\n" for entry in entries)
        handle = self._handle
        if handle is None:
            # Never through a symlink planted at the name; not synced (see the module
            # docstring). O_APPEND: every write lands at the end, after a truncation too.
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_APPEND
            handle = self._handle = os.open(self.path, flags, files.FILE_MODE)
        try:
            if truncate:
                os.ftruncate(handle, 0)
            if data:
                os.write(handle, data)
        except OSError as error:
            raise files.write_error(self.path, error) from None

    def _rewrite(self) -> None:
        self._append(list(self._entries.values()), truncate=True)

    def close(self) -> None:
        """Close the file (a later write opens it again)."""
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


class ResumeQueue:
    """A run's unfinished evaluations: journaled while they run, a former run's resumed first.

    Parameters
    ----------
    rank : int
        The worker's rank in the whole optimization (for log lines).

    Attributes
    ----------
    journal : Unfinished or None
        The worker's journal, once :meth:`load` gave it (``None``: nothing is journaled).
    resumed : dict
        The former run's entries of the evaluations resumed in this run and not yet ended, by
        key (what the evaluation is given back: its curve, its duration).
    """

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.journal: Unfinished | None = None
        self.waiting: deque[UnfinishedEvaluation] = deque()
        self.resumed: dict[Key, UnfinishedEvaluation] = {}

    def load(self, journal: Unfinished, known: Container[Key]) -> int:
        """Journal into ``journal``; queue what a former run left and ``known`` does not hold.

        Returns
        -------
        int
            The generation after the last one queued (0 if none).
        """
        self.journal = journal
        entries = journal.load()
        journal.forget({e.individual.key for e in entries if e.individual.key in known})
        self.waiting.extend(e for e in entries if e.individual.key not in known)
        if self.waiting:
            log.info("Rank %d: %d evaluation(s) of the former run did not finish (%s); they are "
                     "resumed first.", self.rank, len(self.waiting),
                     ", ".join(f"generation {e.individual.generation}: {e.status}"
                               for e in self.waiting))  # fmt: skip
        return max((e.individual.generation + 1 for e in self.waiting), default=0)

    def next(self, known: Container[Key], should_stop: Callable[[int], bool]) -> Individual | None:
        """The next queued evaluation ``known`` lacks, unless ``should_stop`` its generation."""
        while self.waiting and not should_stop(self.waiting[0].individual.generation):
            entry = self.waiting.popleft()
            child = entry.individual
            if child.key in known:
                continue  # a peer's copy of its record arrived meanwhile
            self.resumed[child.key] = entry
            return child
        return None

    def begin(self, child: Individual, expected: float | None) -> None:
        """Journal that ``child``'s evaluation starts, unless ``expected`` seconds are too few."""
        if self.journal is not None and (expected is None or expected >= JOURNAL_MIN_SECONDS):
            self.journal.begin(child)

    def end(self, child: Individual) -> None:
        """``child``'s result is recorded (or dropped on purpose): not to be resumed."""
        self.resumed.pop(child.key, None)
        if self.journal is not None:
            self.journal.end(child)

    def shelve(self, child: Individual, outcome: Evaluation) -> None:
        """Keep an interrupted evaluation for the next run."""
        self.resumed.pop(child.key, None)
        if self.journal is not None:
            self.journal.interrupt(child, outcome)
        log.info("Rank %d: evaluation of %r interrupted (%s) after %d intermediate values and "
                 "%.3g s; the next run resumes it first.", self.rank, child, outcome.error,
                 len(outcome.curve), outcome.duration)  # fmt: skip

    def close(self) -> None:
        """Close the journal's file."""
        if self.journal is not None:
            self.journal.close()
