"""Reading a run's results from its checkpoint folder, without MPI.

A checkpoint folder holds one append-only log per rank (``island-<i>-rank-<r>.ckpt``, see
:mod:`propulate.checkpoint`). :func:`load_results` reads every log into plain records, one
dictionary per evaluated individual; :func:`load_dataframe` gives the same as a
:class:`pandas.DataFrame`; :func:`summarize_results` counts and times them and
:func:`format_summary` prints that as a table (with failures and durations per host,
:func:`summarize_hosts`, so a bad node stands out). :func:`parameter_importance` estimates how
much of the loss's variation each hyperparameter explains. :func:`to_optuna` writes the
evaluations as the trials of an Optuna study, for Optuna's dashboard and plots.

Everything here works on the folder of a run that is still writing: a record that is half
written is skipped without a warning (it will be complete the next time the folder is read).

Examples
--------
>>> from propulate.results import load_results, summarize_results, format_summary
>>> records = load_results("checkpoints")  # doctest: +SKIP
>>> print(format_summary(summarize_results(records, top_n=3)))  # doctest: +SKIP
"""

# Besides __all__, the helpers of the command line's exports (RECORD_FIELDS, curve_json,
# flatten_record, best_records, format_table) stay importable from here, as they always were.
from .hosts import HostSummary, summarize_hosts
from .importance import parameter_importance
from .loading import (
    PARAM_PREFIX,
    CheckpointData,
    load_dataframe,
    load_results,
    read_checkpoint,
)
from .loading import RECORD_FIELDS as RECORD_FIELDS
from .loading import curve_json as curve_json
from .loading import flatten_record as flatten_record
from .loading import table_columns as table_columns
from .optuna_bridge import to_optuna
from .summaries import IslandSummary, ResultSummary, format_summary, summarize_results
from .summaries import best_records as best_records
from .summaries import format_table as format_table

__all__ = [
    "CheckpointData",
    "IslandSummary",
    "HostSummary",
    "ResultSummary",
    "read_checkpoint",
    "load_results",
    "load_dataframe",
    "summarize_results",
    "summarize_hosts",
    "format_summary",
    "parameter_importance",
    "to_optuna",
    "PARAM_PREFIX",
]
