"""What one rank keeps in the checkpoint folder, and the resume that reads it back.

A rank first claims the folder (:func:`~propulate.job_lock.claim`: a lock, and the check that
the folder was written with this run's layout). It appends every result it learns to its record log
(:class:`~propulate.checkpoint.CheckpointLog`) and, at the end of a run, saves its random
generators and its stages' states beside it (:class:`~propulate.run_state.RunState`). A resume
replays the island's logs, telling every result to the propagator's stages that learn, and then
restores the saved state, which overrides what the replay rebuilt.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointLog
from .errors import CheckpointError
from .files import refuse_symlink
from .job_lock import JobLock, Layout, canonical_config, claim
from .knowledge import Knowledge
from .legacy import report_v12_checkpoints
from .propagators.base import listeners
from .run_state import RunState, state_path
from .search_space import SearchSpace
from .surrogate import EarlyStopping
from .unfinished import Unfinished

__all__ = ["RankFiles"]


class RankFiles:
    """One rank's record log and run-state file.

    Parameters
    ----------
    directory : Path
        The checkpoint folder.
    space : SearchSpace
        The run's search space.
    island : int
        The rank's island.
    rank : int
        The rank in the whole optimization.
    """

    def __init__(self, directory: Path, space: SearchSpace, island: int, rank: int) -> None:
        self.directory = directory
        self.log = CheckpointLog(directory, space, island, rank)
        self.state_path = state_path(directory, island, rank)
        self.unfinished = Unfinished(directory, space, island, rank)
        self._lock: JobLock | None = None

    def claim(self, layout: Layout) -> None:
        """Lock the folder for this rank and check its layout, before anything is written.

        Raises
        ------
        CheckpointError
            If another job uses the folder, or it was written with another layout or another
            declaration of objectives.
        """
        if self._lock is None or not self._lock.held:
            # The declared objectives are kept with the layout: a resume that declares others
            # fails here, on every rank, before any communication.
            layout = replace(layout, objectives=canonical_config(self.log.objectives))
            lock = claim(self.directory, self.log.rank, self.log.island, layout)
            try:
                for path in (self.log.path, self.state_path, self.unfinished.path):
                    refuse_symlink(path)
            except CheckpointError:
                lock.release()
                raise
            self._lock = lock
            self.log.layout = layout.to_json()

    def release(self) -> None:
        """Let the folder's lock go (at the end of a run)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def resume(
        self, propagator: Any, rng: random.Random, early: EarlyStopping | None = None
    ) -> tuple[Knowledge, int]:
        """What the rank knows from its island's logs, with its saved state restored.

        Parameters
        ----------
        propagator : Propagator
            Its stages that learn are told every result read back; then the saved state, if
            any, restores its random generators and stages' states.
        rng : random.Random
            The loop's own generator, restored with the others.
        early : EarlyStopping, optional
            Told every result read back, too.

        Returns
        -------
        tuple of Knowledge and int
            The knowledge, and the rank's next generation.
        """
        log = self.log
        knowledge, generation = Knowledge.resume(log, log.rank, listeners(propagator), early)
        if log.rank == 0 and not len(knowledge.population):
            report_v12_checkpoints(self.directory)  # never read implicitly: they are pickles
        state = RunState.load(self.state_path, propagator)
        if state is not None:
            state.restore(self.state_path, propagator, rng)
        return knowledge, generation

    def save_state(self, propagator: Any, rng: random.Random) -> None:
        """Save the random generators' and the stages' states for a resume."""
        RunState.capture(propagator, rng).save(self.state_path)
