"""Propulate 1.2's import paths that its users' scripts rely on."""

from __future__ import annotations

import subprocess
import sys


def test_import_propulate_loads_utils() -> None:
    # A fresh interpreter: in this one another test may have imported propulate.utils already.
    code = (
        "import propulate, sys; propulate.utils.set_logger_config; "
        "propulate.utils.get_default_propagator; propulate.utils.benchmark_functions.sphere"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pollinator_has_its_12_module_path() -> None:
    from propulate import Pollinator
    from propulate.pollinator import Pollinator as Pollinator12

    assert Pollinator12 is Pollinator
