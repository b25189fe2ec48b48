"""A loss function that cannot work, found before the run; failed evaluations, logged briefly.

Two things keep a broken loss function from flooding a long job with noise:

* :func:`check_loss_signature` tries to bind the arguments the loop will pass (``params``, and
  the worker's communicator for a multi-rank worker) to the loss function's signature before
  the first evaluation, on every rank and before any communication, so a loss function with the
  wrong signature stops the run at once with a :class:`~propulate.errors.ConfigurationError`
  instead of failing every evaluation of a run that exits 0.
* :func:`log_failure` logs one line per failed evaluation (the error and the parameters) and the
  full traceback only the first time a distinct error occurs on this process: the same
  exception type raised at the same place of the same file counts as the same error.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["check_loss_signature", "log_failure", "forget_failures"]

log = logging.getLogger("propulate.evaluation")  # where failures have always been logged

_MAX_DISTINCT = 1000  # distinct errors remembered; beyond that, tracebacks are no longer logged
_seen: set[tuple[str, str, int]] = set()


def check_loss_signature(owner: str, loss_fn: Callable[..., Any], with_comm: bool) -> None:
    """Raise if ``loss_fn`` cannot be called as the loop will call it.

    Parameters
    ----------
    owner : str
        Who checks (for the message).
    loss_fn : callable
        The loss function.
    with_comm : bool
        Whether it gets the worker's communicator as second argument (multi-rank workers).

    Raises
    ------
    ConfigurationError
        If the signature does not accept the arguments (callables without an inspectable
        signature, such as some built-ins, are not checked).
    """
    try:
        signature = inspect.signature(loss_fn)
    except (TypeError, ValueError):
        return  # nothing to check against
    arguments = (None, None) if with_comm else (None,)
    try:
        signature.bind(*arguments)
    except TypeError as error:
        name = getattr(loss_fn, "__qualname__", type(loss_fn).__name__)
        plain = [p.replace(annotation=p.empty) for p in signature.parameters.values()]
        signature = signature.replace(parameters=plain, return_annotation=signature.empty)
        call = "loss_fn(params, comm)" if with_comm else "loss_fn(params)"
        fix = (
            "def loss_fn(params, comm): ..., comm being the worker's communicator"
            if with_comm
            else "def loss_fn(params): ..., params being a dict-like Individual"
        )
        raise ConfigurationError(
            f"{owner}: loss_fn={name}{signature} cannot be called as {call} ({error}), so "
            f"every evaluation would fail; it must take {'two' if with_comm else 'one'} "
            f"positional argument{'s' if with_comm else ''}, e.g. {fix}."
        ) from None


def log_failure(params: Mapping[str, Any], exception: BaseException) -> None:
    """Log a failed evaluation: one line, plus the traceback if this error is new here.

    Call it inside the ``except`` block that caught ``exception``.

    Parameters
    ----------
    params : Mapping
        The hyperparameters evaluated.
    exception : BaseException
        What the loss function raised.
    """
    summary = _one_line(f"{type(exception).__name__}: {exception}")
    key = _where(exception)
    if key in _seen or len(_seen) >= _MAX_DISTINCT:
        log.warning(
            "loss_fn raised %s for %s; recorded as failed with loss=inf (traceback logged at "
            "its first occurrence).",
            summary,
            dict(params),
        )
        return
    _seen.add(key)
    log.warning(
        "loss_fn raised %s for %s; recorded as failed with loss=inf. Its traceback, logged "
        "once per distinct error:\n%s",
        summary,
        dict(params),
        "".join(traceback.format_exception(exception)).rstrip(),
    )


def forget_failures() -> None:
    """Log the next traceback of every error again (tests, or a new run in one process)."""
    _seen.clear()


def _where(exception: BaseException) -> tuple[str, str, int]:
    """The exception's type and the place it was raised: what makes two errors the same."""
    frames = traceback.extract_tb(exception.__traceback__)
    last = frames[-1] if frames else None
    place = ("", 0) if last is None else (last.filename, last.lineno or 0)
    return (type(exception).__qualname__, *place)


def _one_line(text: str, limit: int = 300) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first if len(first) <= limit else first[: limit - 3] + "..."
