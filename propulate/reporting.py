"""Logging set-up and result summaries.

The library logs through the ``propulate`` logger and never configures handlers on import;
:func:`set_logger_config` is the one place that does.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .feasibility import violation
from .population import Individual

__all__ = [
    "set_logger_config",
    "format_individuals",
    "format_duration",
    "RankFilter",
    "EVERY_RANK",
]

LOGGER_NAME = "propulate"
_OWN_HANDLER = "_propulate_handler"
# A log record with this attribute set passes RankFilter on every rank (rate-limited progress).
EVERY_RANK = "propulate_every_rank"
_COLORS = {
    logging.DEBUG: "\033[36m",
    logging.INFO: "\033[32m",
    logging.WARNING: "\033[33m",
    logging.ERROR: "\033[31m",
    logging.CRITICAL: "\033[1;31m",
}
_RESET = "\033[0m"


def _world_rank() -> int:
    """This process's rank in the MPI job, read from the launcher's environment (no MPI call)."""
    for variable in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID", "MPI_RANK"):
        value = os.environ.get(variable)
        if value is not None and value.isdigit():
            return int(value)
    return 0


class RankFilter(logging.Filter):
    """Adds ``record.rank``; optionally lets only rank 0's INFO-and-below messages through.

    Records logged with ``extra={EVERY_RANK: True}`` (each rank's own, rate-limited progress)
    pass on every rank.
    """

    def __init__(self, rank: int, only_rank_zero: bool) -> None:
        super().__init__()
        self.rank = rank
        self.only_rank_zero = only_rank_zero

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102  # logging API
        record.rank = self.rank
        if self.only_rank_zero and self.rank != 0:
            # Other ranks still report warnings and errors: those are never spam.
            return record.levelno >= logging.WARNING or getattr(record, EVERY_RANK, False)
        return True


class _ColorFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        color = _COLORS.get(record.levelno)
        return f"{color}{text}{_RESET}" if color else text


def set_logger_config(
    level: int = logging.INFO,
    log_file: str | Path | None = None,
    log_to_stdout: bool = True,
    log_rank: bool = False,
    colors: bool = True,
) -> None:
    """Configure the ``propulate`` logger; calling it again replaces the earlier configuration.

    Parameters
    ----------
    level : int
        The logging level (e.g. ``logging.INFO``).
    log_file : str or Path, optional
        A file every rank appends to; its folder is created.
    log_to_stdout : bool
        Whether to log to standard output.
    log_rank : bool
        If ``True`` every rank logs, each line prefixed with its rank; if ``False`` only rank 0
        logs below WARNING, so progress and summaries appear once (each rank's intermediate
        values, rate-limited, still show: see :mod:`propulate.epoch_line`).
    colors : bool
        Colour the standard output by level (only when it is a terminal).
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, _OWN_HANDLER, False):
            logger.removeHandler(handler)
            handler.close()
    logger.setLevel(level)
    logger.propagate = False
    rank = _world_rank()
    prefix = "[%(rank)d] " if log_rank else ""
    pattern = f"%(asctime)s {prefix}%(levelname)s %(name)s: %(message)s"
    handlers: list[logging.Handler] = []
    if log_to_stdout:
        stream = logging.StreamHandler(sys.stdout)
        formatter_cls = _ColorFormatter if colors and sys.stdout.isatty() else logging.Formatter
        stream.setFormatter(formatter_cls(pattern))
        handlers.append(stream)
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, mode="a")
        file_handler.setFormatter(logging.Formatter(pattern))
        handlers.append(file_handler)
    for handler in handlers:
        setattr(handler, _OWN_HANDLER, True)
        handler.addFilter(RankFilter(rank, only_rank_zero=not log_rank))
        logger.addHandler(handler)


def format_individuals(title: str, individuals: Sequence[Individual]) -> str:
    """A readable multi-line table of individuals, best first (infeasible ones marked)."""
    lines = [title]
    if not individuals:
        lines.append("  (no evaluated individuals)")
    for place, ind in enumerate(individuals, start=1):
        amount = violation(getattr(ind, "constraints", None))
        note = f" [infeasible: constraint violation {amount:.6g}]" if amount > 0 else ""
        lines.append(f"  {place}. {ind!r}{note}")
    return "\n".join(lines)


def format_duration(seconds: float) -> str:
    """A duration as ``"850 ms"``, ``"42.0 s"``, ``"3 min 20 s"`` or ``"2 h 05 min"``."""
    if not math.isfinite(seconds):
        return "n/a"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
