"""Sphinx configuration of Propulate's documentation (``bash scripts/build_docs.sh``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the source tree, installed or not

project = "Propulate"
author = "The Propulate developers"
copyright = "the Propulate developers; BSD-3-Clause"  # noqa: A001  # Sphinx's setting name

try:
    from propulate import __version__ as release
except ImportError:  # pragma: no cover - a broken tree: let autodoc report the details
    release = "unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

# numpy-style docstrings only; the types are in the docstrings, so signatures stay short.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
# The docs build without MPI: nothing documented needs mpi4py at import time, and the one module
# that does (propulate.comm.mpi) gets a stand-in.
autodoc_mock_imports = ["mpi4py"]

# No network at build time: no intersphinx, and the theme that ships with Sphinx.
html_theme = "alabaster"
html_theme_options = {
    "description": "Massively parallel, asynchronous evolutionary hyperparameter optimization",
    "fixed_sidebar": True,
}
html_title = f"Propulate {release}"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
html_static_path: list[str] = []
