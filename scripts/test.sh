#!/usr/bin/env bash
# The full test suite: single-process tests (unit, contract, integration, tutorials), then the
# MPI tests under mpirun at 4 and 3 ranks (an odd size catches split and ring bugs), at 1 rank
# (every test must pass or skip cleanly alone) and at 8 ranks, then a short run at 32 ranks
# (oversubscribed; losses that sleep) that checks complete and identical populations.
# Every MPI run has a deadline, so a hang fails instead of blocking.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup_env.sh

echo "== single-process tests"
"$PY" -m pytest -q -p no:cacheprovider --timeout=600 tests

mpi_tests() {  # ranks, then the test files
    local ranks=$1
    shift
    timeout -k 10 1200 "$MPIRUN" -n "$ranks" "$PY" -m mpi4py -m pytest -q -x -p no:cacheprovider \
        --with-mpi -m mpi --timeout=300 --timeout-method=thread "$@"
}

for ranks in 4 3 1 8; do
    echo "== MPI tests on $ranks ranks"
    mpi_tests "$ranks" tests/mpi
done

echo "== many ranks: 32, oversubscribed"
mpi_tests 32 tests/mpi/test_many_ranks_mpi.py
