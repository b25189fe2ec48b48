"""The ``propulate`` command: look at a run's checkpoint folder without MPI.

Usage::

    propulate summary CKPT [--top N]
    propulate export CKPT --csv FILE
    propulate export CKPT --optuna STORAGE [--study-name NAME]
    propulate plot CKPT --out DIR [--format png svg] [--only history slices ...]
                    [--x time|evaluations]
    propulate --version

``python -m propulate`` is the same command. Each works on a run that is still writing.
Exit status: 0 on success, 1 when the folder is missing, holds no logs or cannot be read, 2 for
wrong usage.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import CheckpointError
from .results import (
    CheckpointData,
    curve_json,
    flatten_record,
    format_summary,
    read_checkpoint,
    summarize_results,
    table_columns,
)

__all__ = ["main", "build_parser", "write_csv"]

PROG = "propulate"
# The names of propulate.plots.PLOTS, spelled out so that --help needs no matplotlib import.
PLOT_NAMES = (
    "history",
    "parallel_coordinates",
    "slices",
    "importance",
    "learning_curves",
    "contour",
    "timeline",
    "ecdf",
)


class CommandError(Exception):
    """A problem to report in one line on standard error (exit status 1)."""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``propulate``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Inspect the results of a Propulate run from its checkpoint folder (the run's "
            "checkpoint_path). Works while the run is still going."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    summary = commands.add_parser(
        "summary",
        help="print counts, timing, islands and the best individuals",
        description="Print counts, timing, per-island statistics and the best individuals.",
    )
    summary.add_argument("checkpoint", metavar="CKPT", help="the checkpoint folder")
    summary.add_argument(
        "--top", type=_positive_int, default=5, metavar="N", help="best individuals to list (5)"
    )

    export = commands.add_parser(
        "export",
        help="write every evaluation to a CSV file or an Optuna study",
        description=(
            "Write one CSV row per evaluation: island, rank, generation, status, loss, start, "
            "end, duration, active, migration_steps, one params_<name> column per "
            "hyperparameter, error and the learning curve (JSON). Or write every evaluation "
            "as a trial of an Optuna study (for optuna-dashboard and optuna.visualization); "
            "exporting again adds only the new evaluations. Needs Optuna: pip install optuna."
        ),
    )
    export.add_argument("checkpoint", metavar="CKPT", help="the checkpoint folder")
    export.add_argument(
        "--csv", metavar="FILE", help="the CSV file to write ('-': standard output)"
    )
    export.add_argument(
        "--optuna",
        metavar="STORAGE",
        help="the Optuna storage to write the study into, e.g. sqlite:///study.db",
    )
    export.add_argument(
        "--study-name",
        metavar="NAME",
        help="the Optuna study's name (default: the checkpoint folder's name)",
    )

    plot = commands.add_parser(
        "plot",
        help="draw the history, parameter plots, importance, learning curves, timeline, ECDF",
        description=(
            "Draw the optimization history, parallel coordinates, per-parameter slices, "
            "parameter importance, learning curves (when recorded), contours over pairs of "
            "parameters, the workers' timeline and the distribution (ECDF) of the losses "
            "into a folder, one file per plot and format. "
            "Needs matplotlib: pip install 'propulate[plots]'."
        ),
    )
    plot.add_argument("checkpoint", metavar="CKPT", help="the checkpoint folder")
    plot.add_argument("--out", required=True, metavar="DIR", help="the folder to write into")
    plot.add_argument(
        "--format",
        nargs="+",
        choices=("png", "svg"),
        default=["png"],
        dest="formats",
        help="file formats (default: png)",
    )
    plot.add_argument(
        "--only",
        nargs="+",
        metavar="PLOT",
        choices=PLOT_NAMES,
        help=f"make only these plots ({', '.join(PLOT_NAMES)}; default: all)",
    )
    plot.add_argument(
        "--x",
        choices=("time", "evaluations"),
        default="time",
        help="x axis of the history: time since the start, or the evaluation's number "
        "(default: time)",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``propulate`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "export" and args.csv is None and args.optuna is None:
        parser.error("export: say where to, with --csv FILE and/or --optuna STORAGE")
    try:
        if args.command == "summary":
            return _summary(args.checkpoint, args.top)
        if args.command == "export":
            if args.csv is not None:
                _export(args.checkpoint, args.csv)
            if args.optuna is not None:
                _export_optuna(args.checkpoint, args.optuna, args.study_name)
            return 0
        return _plot(args.checkpoint, args.out, args.formats, args.only, args.x)
    except CommandError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into head: not an error
        return 0


def _read(path: str) -> CheckpointData:
    try:
        data = read_checkpoint(path)
    except (FileNotFoundError, CheckpointError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot read '{path}': {error}") from None
    if not data.records:
        raise CommandError(
            f"'{path}' holds checkpoint logs but no evaluated individual yet (the run may just "
            "have started: try again later)."
        )
    return data


def _summary(path: str, top: int) -> int:
    records = _read(path).records
    summary = summarize_results(records, top_n=top)
    print(format_summary(summary, title=f"Checkpoint: {path}"))
    return 0


def _export(path: str, target: str) -> int:
    records = _read(path).records
    if target == "-":
        write_csv(records, sys.stdout)
    else:
        try:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", newline="") as stream:
                write_csv(records, stream)
        except OSError as error:
            raise CommandError(f"cannot write '{target}': {error}") from None
        print(f"Wrote {len(records)} evaluations to {target}", file=sys.stderr)
    return 0


def _export_optuna(path: str, storage: str, study_name: str | None) -> None:
    data = _read(path)
    name = study_name or Path(path).resolve().name
    try:
        from .results import to_optuna

        study = to_optuna(data, storage, name, load_if_exists=True)
    except ImportError as error:
        raise CommandError(str(error)) from None
    except (OSError, ValueError, RuntimeError) as error:  # Optuna's storage errors among them
        raise CommandError(f"cannot write the study into '{storage}': {error}") from None
    print(f"Study '{study.study_name}' in {storage} holds {len(study.trials)} trials "
          f"(optuna-dashboard {storage})", file=sys.stderr)  # fmt: skip


def write_csv(records: Sequence[Mapping[str, Any]], stream: TextIO) -> None:
    """Write records from :func:`~propulate.results.load_results` as CSV to ``stream``.

    One row per evaluation; the hyperparameters in ``params_<name>`` columns, each ``_`` key of
    the individuals in a column of its own name (lists and dicts as JSON), the learning curve
    as a JSON list (empty when there is none), ``inf`` for the loss of failed evaluations.
    """
    writer = csv.DictWriter(stream, fieldnames=table_columns(records), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        row = flatten_record(record)
        for name, value in (record.get("extras") or {}).items():
            if not isinstance(value, str | int | float | bool | None):
                row[name] = json.dumps(value)  # a list or dict in one cell, as the curve
        row["curve"] = curve_json(record.get("curve"))
        row["error"] = row.get("error") or ""
        writer.writerow(row)


def _plot(path: str, out: str, formats: Sequence[str], only: Sequence[str] | None, x: str) -> int:
    try:
        from .plots import plot_all
    except ImportError as error:  # pragma: no cover - plots.py itself needs only numpy
        raise CommandError(str(error)) from None
    data = _read(path)
    try:
        written, skipped = plot_all(data, out, formats=formats, kinds=only, x=x)
    except ImportError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot write into '{out}': {error}") from None
    for files in written.values():
        for file in files:
            print(file)
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    return 0
