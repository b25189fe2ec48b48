"""Creating the files of a checkpoint folder safely: private, unique, never through a symlink.

Every file Propulate writes into a checkpoint folder goes through these functions:

* new files get the permissions :data:`FILE_MODE` (``0o600``: only the owner reads them), and a
  folder Propulate creates gets :data:`FOLDER_MODE` (``0o700``); the ``umask`` can only remove
  permissions from these. Set ``propulate.files.FILE_MODE = 0o640`` (and ``FOLDER_MODE``) before a
  run to share results with your group.
* a temporary file gets a unique name from :mod:`tempfile` in the target's folder (created with
  ``O_EXCL``, so a file or symlink planted there is never opened), and replaces its target with
  ``os.replace``, which replaces a symlink at the target's name instead of following it.
* a record log is created complete (header written to a temporary file, then linked to its
  name, which fails if anything already has that name) and opened for appending with
  ``O_NOFOLLOW``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from .errors import CheckpointError

__all__ = [
    "FILE_MODE",
    "FOLDER_MODE",
    "make_folder",
    "write_atomically",
    "write_json_atomically",
    "create_exclusively",
    "open_for_append",
    "refuse_symlink",
    "write_error",
]

#: The permissions of the files Propulate creates (only the owner reads them).
FILE_MODE = 0o600
#: The permissions of the folders Propulate creates.
FOLDER_MODE = 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, which has no planted symlinks
_BINARY = getattr(os, "O_BINARY", 0)


def make_folder(path: str | Path) -> Path:
    """Create the folder ``path`` (and its parents) with :data:`FOLDER_MODE` if it is missing."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return path


def _temporary(path: Path, data: bytes) -> str:
    """Write ``data`` to a new uniquely named file beside ``path``; return its name."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            if hasattr(os, "fchmod"):  # mkstemp makes 0o600; FILE_MODE may be another
                os.fchmod(stream.fileno(), FILE_MODE)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException as error:
        # A full disk must not leave a temporary file behind.
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(error, OSError):
            raise write_error(path, error) from None
        raise
    return name


def write_error(path: str | Path, error: OSError) -> CheckpointError:
    """The error for a checkpoint file that could not be written (a full disk, a lost mount).

    Parameters
    ----------
    path : str or Path
        The file.
    error : OSError
        What the operating system said.
    """
    return CheckpointError(
        f"{path}: could not write ({error.strerror or error}). What was written before is "
        "intact: free space on that file system (or fix its mount), then resume with the same "
        "checkpoint_path."
    )


def write_atomically(path: str | Path, data: bytes) -> None:
    """Replace ``path`` by a file holding ``data``, never leaving it half written.

    Parameters
    ----------
    path : str or Path
        The target; a symlink there is replaced, not followed.
    data : bytes
        The content.
    """
    path = Path(path)
    name = _temporary(path, data)
    try:
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def write_json_atomically(path: str | Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through :func:`write_atomically`."""
    write_atomically(path, json.dumps(data).encode())


def create_exclusively(path: str | Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` if nothing has that name yet; never seen half written.

    Parameters
    ----------
    path : str or Path
        The file to create.
    data : bytes
        Its first bytes (a log's header).

    Returns
    -------
    bool
        ``True`` if the file was created; ``False`` if something (a file, a symlink) already
        has that name, in which case nothing was changed.
    """
    path = Path(path)
    name = _temporary(path, data)
    try:
        os.link(name, path)  # fails if the name exists, symlinks included
        return True
    except FileExistsError:
        return False
    except OSError:
        # A file system without hard links: create in place (the header may then be seen torn
        # by a reader, which it reads as "nothing written yet").
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY,
                             FILE_MODE)  # fmt: skip
        except FileExistsError:
            return False
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def refuse_symlink(path: str | Path) -> None:
    """Raise :class:`CheckpointError` if ``path`` is a symbolic link (planted or not)."""
    if Path(path).is_symlink():
        raise CheckpointError(
            f"{path} is a symbolic link; Propulate never reads or writes its checkpoint through "
            "one (it could overwrite another file). Remove the link, or use another "
            "checkpoint_path."
        )


def open_for_append(path: str | Path) -> BinaryIO:
    """Open the existing file ``path`` for appending only (never truncated, never a symlink).

    Raises
    ------
    CheckpointError
        If ``path`` is a symbolic link.
    """
    try:
        handle = os.open(path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW | _BINARY)
    except OSError as error:
        if error.errno == errno.ELOOP:
            refuse_symlink(path)
        raise
    return os.fdopen(handle, "ab")
