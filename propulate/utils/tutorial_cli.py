"""The command line of the tutorial scripts: one parser shape, run folders, run configurations.

Every tutorial script builds its options here, so that they read alike: the script's own name
in ``--help``, every default shown, hyphenated flags (Propulate 1.2's underscore spellings
still work, hidden from the help), no option the script ignores, and a checkpoint folder named
after the run (``runs/<script>-<function>-<dimensions>d``) unless ``--checkpoint`` says
otherwise, so a run never writes into the current folder and a run of another function never
resumes it. :func:`run_config` gives what a resume must share with the run it continues (see
``run_config`` of :class:`~propulate.Propulator`).

The ``--help`` output and these defaults are for the tutorials; the 1.2 function
:func:`~propulate.utils.benchmark_functions.parse_arguments` keeps its own.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .benchmark_functions import FUNCTION_NAMES, _world_size, get_function_search_space

__all__ = [
    "tutorial_parser",
    "add_option",
    "add_ga_options",
    "default_pop_size",
    "parse",
    "run_config",
    "RUNS",
]

RUNS = Path("runs")
"""The folder (relative to the working directory) that holds the tutorials' run folders."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults in the help (but not ``None``: the help says what it means), line breaks kept."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def tutorial_parser(
    description: str, generations: int, logging_interval: int = 50, prog: str | None = None
) -> argparse.ArgumentParser:
    """A parser with the options every benchmark tutorial has.

    Parameters
    ----------
    description : str
        The script's description (its module docstring works).
    generations : int
        The default of ``--generations``.
    logging_interval : int
        The default of ``--logging-interval``.
    prog : str, optional
        The program name; by default the script's file name.

    Returns
    -------
    argparse.ArgumentParser
        With ``--function``, ``--dimensions``, ``--generations``, ``--seed``, ``--checkpoint``,
        ``--logging-interval`` and ``--logging-level``.
    """
    parser = argparse.ArgumentParser(
        prog=prog or Path(sys.argv[0]).name, description=description, formatter_class=_HelpFormatter
    )
    add_option(parser, "--function", choices=FUNCTION_NAMES, default="sphere",
               help="the benchmark function to minimize")  # fmt: skip
    add_option(parser, "--dimensions", type=int, default=None,
               help="coordinates of an n-dimensional function (default: its own)")  # fmt: skip
    add_option(parser, "--generations", type=int, default=generations,
               help="evaluations per rank, counting those of the run resumed")  # fmt: skip
    add_option(parser, "--seed", type=int, default=0, help="rank r uses seed + r")
    add_option(parser, "--checkpoint", type=Path, default=None,
               help=f"the run's folder (None: {RUNS}/<script>-<function>-<dimensions>d); "
               "rerunning on it resumes the run")  # fmt: skip
    add_option(parser, "--logging-interval", type=int, default=logging_interval,
               help="log every this many generations of a rank (0: never)")  # fmt: skip
    add_option(parser, "--logging-level", type=int, default=logging.INFO,
               help="of the log (10 debug, 20 info, 30 warnings)")  # fmt: skip
    return parser


def add_option(target: Any, flag: str, **kwargs: Any) -> None:
    """Add ``--a-flag`` to a parser or group, with ``--a_flag`` as a hidden alias if hyphenated.

    Parameters
    ----------
    target : argparse.ArgumentParser or argparse._ArgumentGroup
        Where to add the option.
    flag : str
        The hyphenated flag, e.g. ``"--pop-size"``.
    **kwargs
        For :meth:`argparse.ArgumentParser.add_argument`.
    """
    target.add_argument(flag, **kwargs)
    if "-" in flag[2:]:
        alias = "--" + flag[2:].replace("-", "_")
        hidden = {k: v for k, v in kwargs.items() if k not in ("help", "default")}
        # No default of its own: it would overwrite the hyphenated option's value.
        target.add_argument(alias, help=argparse.SUPPRESS, default=argparse.SUPPRESS, **hidden)


GA_RUN_OPTIONS = (
    "pop_size",
    "crossover_probability",
    "mutation_probability",
    "random_init_probability",
)
"""The options of :func:`add_ga_options` that a resumed run must share with the run it continues."""


def add_ga_options(parser: argparse.ArgumentParser, pop_size: int) -> None:
    """The genetic algorithm's options (:func:`~propulate.utils.get_default_propagator`)."""
    group = parser.add_argument_group("genetic algorithm")
    add_option(group, "--pop-size", type=int, default=pop_size,
               help="breeding pool size: twice the number of ranks unless given")  # fmt: skip
    add_option(group, "--crossover-probability", type=float, default=0.7, help="of a crossover")
    add_option(group, "--mutation-probability", type=float, default=0.4,
               help="of mutating each coordinate")  # fmt: skip
    add_option(group, "--random-init-probability", type=float, default=0.1,
               help="of a child drawn at random instead of bred")  # fmt: skip


def add_report_options(parser: argparse.ArgumentParser) -> None:
    """How much a tutorial prints: ``--top-n`` best individuals and ``--verbosity``."""
    add_option(parser, "--top-n", type=int, default=1, help="best individuals to print")
    add_option(parser, "--verbosity", type=int, default=1,
               help="0: quiet, 1: progress and summary, 2 and 3: more")  # fmt: skip


def default_pop_size(comm: Any = None) -> int:
    """Twice the number of ranks (of ``comm``, or of the launcher when not given)."""
    return 2 * _world_size(comm)


def parse(
    parser: argparse.ArgumentParser, args: Sequence[str] | None = None, script: str | None = None
) -> argparse.Namespace:
    """Parse, and set ``checkpoint`` to the run's folder if it was not given.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        From :func:`tutorial_parser`.
    args : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).
    script : str, optional
        The name the run folder starts with (default: the program name without ``.py`` and
        ``_example``).

    Returns
    -------
    argparse.Namespace
        The options; ``checkpoint`` is a :class:`~pathlib.Path`.
    """
    config = parser.parse_args(args)
    if config.checkpoint is None:
        name = script or parser.prog.removesuffix(".py").removesuffix("_example")
        _, limits = get_function_search_space(config.function, config.dimensions)
        config.checkpoint = RUNS / f"{name}-{config.function}-{len(limits)}d"
    return config


def run_config(config: argparse.Namespace, names: Iterable[str]) -> dict[str, Any]:
    """The options in ``names`` with the function's dimensions filled in: what a resume keeps.

    Parameters
    ----------
    config : argparse.Namespace
        From :func:`parse`.
    names : iterable of str
        Option names (``dest`` spellings, e.g. ``"pop_size"``) that define the run; leave out
        those that may change between resumes (``generations``, ``logging_interval``...).

    Returns
    -------
    dict
        For ``run_config`` of :class:`~propulate.Propulator`; always with ``function`` and
        ``dimensions``.
    """
    _, limits = get_function_search_space(config.function, config.dimensions)
    values = {"function": config.function, "dimensions": len(limits)}
    for name in names:
        value = getattr(config, name)
        values[name] = str(value) if isinstance(value, Path) else value
    return values
