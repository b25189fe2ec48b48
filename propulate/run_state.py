"""What a rank saves beside its checkpoint log: its random generators and its stages' states.

Without the generators a resumed rank would draw the same random individuals again; without the
stages' states a strategy would forget what it learned beyond the population. The file,
``island-<i>-rank-<r>.state.json``, is plain JSON written atomically (format 2); files of format
1 (written before propagators had a lifecycle) are still read.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CheckpointError
from .files import write_json_atomically
from .propagators.base import random_generators, stateful_stages

__all__ = ["RunState", "state_path"]

FORMAT_VERSION = 2


def state_path(directory: str | Path, island: int, rank: int) -> Path:
    """The state file of ``rank`` on ``island`` in the checkpoint folder ``directory``."""
    return Path(directory) / f"island-{island}-rank-{rank}.state.json"


@dataclass
class RunState:
    """The random generators' states and the stateful stages' states of one rank.

    Attributes
    ----------
    rngs : list
        One ``[version, internal state, gauss_next]`` per generator, in the order of
        :func:`~propulate.propagators.base.random_generators` (the loop's own first).
    stages : list of dict
        The ``get_state()`` of every stage that keeps a state of its own, in the order of
        :func:`~propulate.propagators.base.stateful_stages`.
    """

    rngs: list[list[Any]] = field(default_factory=list)
    stages: list[Any] = field(default_factory=list)

    @classmethod
    def capture(cls, propagator: Any, rng: random.Random) -> RunState:
        """The current state of ``rng`` and of ``propagator``'s generators and stages."""
        return cls(
            rngs=[_rng_state(generator) for generator in random_generators(propagator, rng)],
            stages=[stage.get_state() for stage in stateful_stages(propagator)],
        )

    def apply(self, propagator: Any, rng: random.Random) -> None:
        """Restore the generators and stages of ``propagator`` (and ``rng``).

        A part is restored only if its count matches the saved one (the same set-up as the
        saved run); otherwise it is left as it is.
        """
        rngs = random_generators(propagator, rng)
        if len(self.rngs) == len(rngs):
            for generator, saved in zip(rngs, self.rngs, strict=True):
                generator.setstate((saved[0], tuple(saved[1]), saved[2]))
        stages = stateful_stages(propagator)
        if len(self.stages) == len(stages):
            for stage, saved in zip(stages, self.stages, strict=True):
                stage.set_state(saved)

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        return {"format_version": FORMAT_VERSION, "rngs": self.rngs, "stages": self.stages}

    @classmethod
    def from_json(cls, data: dict[str, Any], propagator: Any = None) -> RunState:
        """Read a file's content, of format 2 or 1.

        Parameters
        ----------
        data : dict
            The parsed file.
        propagator : Propagator, optional
            The propagator it is for; a format-1 file kept the top-level propagator's state
            apart from the nested ones, so reading one needs to know whether the top level has a
            state of its own.

        Returns
        -------
        RunState
            The state.
        """
        rngs = list(data.get("rngs", []))
        if data.get("format_version", 1) != 1:
            return cls(rngs, list(data.get("stages", [])))
        stages = list(data.get("nested", []))
        found = stateful_stages(propagator) if propagator is not None else []
        if found and found[0] is propagator:
            # No saved top-level state (None) leaves the propagator as it is: its own current
            # state stands in for it.
            top = data.get("propagator")
            stages.insert(0, propagator.get_state() if top is None else top)
        return cls(rngs, stages)

    def save(self, path: str | Path) -> None:
        """Write the state file atomically."""
        write_json_atomically(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path, propagator: Any = None) -> RunState | None:
        """Read the state file at ``path``, or ``None`` if there is none."""
        path = Path(path)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError(f"a JSON object was expected, not {type(data).__name__}")
            return cls.from_json(data, propagator)
        except (ValueError, TypeError, AttributeError) as error:
            raise _damaged(path, error) from error

    def restore(self, path: str | Path, propagator: Any, rng: random.Random) -> None:
        """:meth:`apply`, with a saved state that does not fit reported as a damaged ``path``."""
        try:
            self.apply(propagator, rng)
        except (ValueError, TypeError, IndexError, KeyError) as error:
            raise _damaged(path, error) from error


def _damaged(path: str | Path, error: Exception) -> CheckpointError:
    return CheckpointError(
        f"{path}: the saved run state is damaged ({type(error).__name__}: {error}). Delete this "
        "file to resume from the records alone (the random generators then start afresh)."
    )


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]
