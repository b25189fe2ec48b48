"""Checkpoints of Propulate 1.2: found and reported, imported only when the user asks.

Propulate 1.2 pickled each island's population to ``island_<i>_ckpt.pickle`` (the previous one
to ``island_<i>_ckpt.bkp``). Unpickling a file runs code it names, so this version never reads
one on its own: a run on such a folder says so (:func:`report_v12_checkpoints`), and
:func:`import_v12_checkpoint` converts a file the user trusts into this version's record logs.
Even then the unpickler admits only the classes such a file holds (1.2's ``Individual``,
numpy arrays, builtin types) and refuses any other.
"""

from __future__ import annotations

import logging
import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .checkpoint import CheckpointLog, log_files
from .errors import CheckpointError, ConfigurationError
from .population import Individual, Status
from .search_space import Limits, SearchSpace

__all__ = ["find_v12_checkpoints", "report_v12_checkpoints", "load_v12_population",
           "import_v12_checkpoint"]  # fmt: skip

log = logging.getLogger(__name__)

_PATTERN = "island_*_ckpt.pickle"
# What a 1.2 checkpoint pickles, and nothing else: (module, name) -> allowed.
_ALLOWED = {
    ("builtins", "float"),
    ("builtins", "int"),
    ("builtins", "str"),
    ("builtins", "bool"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
}


class _V12Individual:
    """Stand-in for 1.2's ``Individual`` while unpickling: its attributes, nothing else."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("a 1.2 Individual's state is not a dictionary")
        self.__dict__.update(state)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("propulate.population", "Individual"):
            return _V12Individual
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"{module}.{name} is not part of a Propulate 1.2 checkpoint; refusing to load it."
        )


def find_v12_checkpoints(directory: str | Path) -> list[Path]:
    """The Propulate 1.2 checkpoint files (``island_<i>_ckpt.pickle``) in ``directory``."""
    directory = Path(directory)
    return sorted(directory.glob(_PATTERN)) if directory.is_dir() else []


def report_v12_checkpoints(directory: str | Path) -> list[Path]:
    """Warn if ``directory`` holds 1.2 checkpoints and none of this version's logs.

    Returns
    -------
    list of Path
        The 1.2 files found (reported only when there is no log of this version beside them).
    """
    found = find_v12_checkpoints(directory)
    if found and not log_files(directory):
        log.warning(
            "%s holds a checkpoint of Propulate 1.2 (%s), which this version does not read on "
            "its own: it is a pickle, and loading a pickle runs code it names. This run starts "
            "afresh. If you trust the file, import it first with "
            "propulate.legacy.import_v12_checkpoint('%s', '%s', limits, trust=True).",
            directory, ", ".join(p.name for p in found), directory, directory,
        )  # fmt: skip
    return found


def load_v12_population(
    path: str | Path, limits: Limits | SearchSpace, *, trust: bool = False
) -> list[Individual]:
    """Read one Propulate 1.2 checkpoint file into individuals of this version.

    Parameters
    ----------
    path : str or Path
        An ``island_<i>_ckpt.pickle`` (or ``.bkp``) file.
    limits : dict or SearchSpace
        The run's search space (1.2 files hold the same limits dictionary).
    trust : bool
        Must be ``True``: you trust the file (unpickling runs code the file names; only the
        classes of a 1.2 checkpoint are admitted, yet a pickle is never safe from a stranger).

    Returns
    -------
    list of Individual
        The evaluated individuals, with their loss, generation, 1.2 rank (within the island),
        island, migration state and ``_`` keys.

    Raises
    ------
    ConfigurationError
        If ``trust`` is not ``True``.
    CheckpointError
        If the file cannot be read as a 1.2 checkpoint.
    """
    if trust is not True:
        raise ConfigurationError(
            f"load_v12_population: trust={trust!r} must be True to read '{path}': a 1.2 "
            "checkpoint is a pickle, and loading one runs code it names. Pass trust=True only "
            "for files you made or trust."
        )
    space = SearchSpace.of(limits)
    try:
        with open(path, "rb") as stream:
            population = _Unpickler(stream).load()
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError) as error:
        raise CheckpointError(
            f"cannot read '{path}' as a Propulate 1.2 checkpoint: {error}"
        ) from None
    if not isinstance(population, list):
        raise CheckpointError(f"'{path}' holds no list of individuals (a 1.2 checkpoint does).")
    return [_convert(item, space, path, i) for i, item in enumerate(population)]


def _convert(item: Any, space: SearchSpace, path: str | Path, index: int) -> Individual:
    state = getattr(item, "__dict__", None)
    mapping = state.get("mapping") if isinstance(state, dict) else None
    if not isinstance(state, dict) or not isinstance(mapping, Mapping):
        raise CheckpointError(f"'{path}': item {index} is not a 1.2 Individual.")
    position = state.get("position")
    try:
        if isinstance(position, np.ndarray) and position.shape == (space.encoded_size,):
            # 1.2 decoded values from the position (its mapping could lag behind a mutation):
            # the loss was computed from these.
            ind = Individual(np.array(position, dtype=float), space)
            for key, value in mapping.items():
                if str(key).startswith("_"):
                    ind[str(key)] = value
        else:
            ind = Individual(dict(mapping), space)
    except (KeyError, ValueError) as error:
        raise CheckpointError(
            f"'{path}': item {index} does not fit the search space given ({error}); pass the "
            "limits the 1.2 run used."
        ) from None
    loss = float(state.get("loss", math.inf))
    ind.loss = loss
    ind.status = Status.OK if math.isfinite(loss) else Status.FAILED
    ind.generation = int(state.get("generation", -1))
    ind.rank = int(state.get("rank", -1))
    ind.island = int(state.get("island", -1))
    ind.current = int(state.get("current", -1))
    ind.active = bool(state.get("active", True))
    ind.migration_steps = max(0, int(state.get("migration_steps", 0)))
    ind.evaltime = float(state.get("evaltime", math.inf))
    ind.evalperiod = float(state.get("evalperiod", 0.0))
    velocity = state.get("velocity")
    if velocity is not None:
        ind.velocity = np.array(velocity, dtype=float)
    return ind


def import_v12_checkpoint(
    source: str | Path,
    checkpoint_path: str | Path,
    limits: Limits | SearchSpace,
    *,
    trust: bool = False,
) -> int:
    """Convert the Propulate 1.2 checkpoints in ``source`` into this version's logs.

    A run on ``checkpoint_path`` then resumes the 1.2 run: its workers continue their
    generations after those of the file. Island ``i``'s file becomes the log of its first
    worker; 1.2 numbered workers within their island, so a worker's global rank is the sum of
    the sizes of the islands before it (taken from the files) plus its rank there.

    Parameters
    ----------
    source : str or Path
        The 1.2 run's checkpoint folder.
    checkpoint_path : str or Path
        The folder to write to (``source`` itself is fine); it must hold no logs of this
        version yet.
    limits : dict or SearchSpace
        The 1.2 run's search space.
    trust : bool
        Must be ``True``; see :func:`load_v12_population`.

    Returns
    -------
    int
        How many individuals were imported.

    Raises
    ------
    ConfigurationError
        If ``trust`` is not ``True``.
    CheckpointError
        If ``source`` holds no 1.2 checkpoint, a file cannot be read, or ``checkpoint_path``
        already holds logs.
    """
    files = find_v12_checkpoints(source)
    if not files:
        raise CheckpointError(f"'{source}' holds no Propulate 1.2 checkpoint ({_PATTERN}).")
    if log_files(checkpoint_path):
        raise CheckpointError(
            f"'{checkpoint_path}' already holds logs of this version; import into an empty "
            "folder (or the 1.2 folder itself, before a run of this version used it)."
        )
    space = SearchSpace.of(limits)
    islands = {int(p.name.split("_")[1]): load_v12_population(p, space, trust=trust) for p in files}
    sizes = {i: 1 + max((ind.worker for ind in pop if ind.island == i), default=0)
             for i, pop in islands.items()}  # fmt: skip
    first = {i: sum(sizes.get(j, 1) for j in range(i)) for i in sorted(islands)}
    count = 0
    for island, population in sorted(islands.items()):
        store = CheckpointLog(checkpoint_path, space, island, first[island])
        try:
            for ind in population:
                origin = ind.island if ind.island in first else island
                island_rank = ind.worker  # 1.2's rank: within the island
                ind.worker += first[origin]
                ind._island_rank = island_rank if island_rank != ind.worker else None
                if ind.current >= 0:
                    ind.current += first[island]
                store.append(ind)
                count += 1
        finally:
            store.close()
    log.info("Imported %d individuals of %d Propulate 1.2 island(s) from %s into %s.", count,
             len(islands), source, checkpoint_path)  # fmt: skip
    return count
