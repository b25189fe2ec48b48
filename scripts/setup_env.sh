#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with Propulate, an MPI runtime and the
# test and tutorial dependencies. Sourced by the other scripts; prints nothing on success.
#   PROPULATE_VENV   where the venv lives (default: .venv in the repository)
#   TORCH_SPEC       the PyTorch pins to install (default: what this project tests with)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PROPULATE_VENV:-$ROOT/.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
STAMP="$VENV/.propulate-installed"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
    "$PY" -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
    # shellcheck disable=SC2086  # TORCH_SPEC is a list of requirements
    "$PY" -m pip install -q $TORCH_SPEC -e "$ROOT[mpich,tutorials,test,dev,benchmark,trackers]" 2>&1 \
        | grep -v "is ignored" || true
    "$PY" -c "import propulate, mpi4py, pytest" # fail here if the install did not work
    touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
export PY
MPIRUN="$VENV/bin/mpirun"
[ -x "$MPIRUN" ] || MPIRUN="$(command -v mpirun)"
export MPIRUN
