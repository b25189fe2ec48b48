#!/usr/bin/env bash
# Set everything up and run an example optimization on 4 MPI ranks.
# Extra arguments go to tutorials/propulator_example.py (try --help).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup_env.sh
timeout -k 10 3600 "$MPIRUN" -n 4 "$PY" tutorials/propulator_example.py "$@"
