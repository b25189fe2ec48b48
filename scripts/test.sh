#!/usr/bin/env bash
# The full test suite: single-process tests (unit, contract, integration, tutorials), then the
# MPI tests under mpirun at 4 and 3 ranks (an odd size catches split and ring bugs).
# Every MPI run has a deadline, so a hang fails instead of blocking.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup_env.sh

echo "== single-process tests"
"$PY" -m pytest -q -p no:cacheprovider --timeout=600 tests

for ranks in 4 3; do
    echo "== MPI tests on $ranks ranks"
    timeout -k 10 1200 "$MPIRUN" -n "$ranks" "$PY" -m mpi4py -m pytest -q -x -p no:cacheprovider \
        --with-mpi -m mpi --timeout=300 --timeout-method=thread tests/mpi
done
