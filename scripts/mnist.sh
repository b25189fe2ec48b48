#!/usr/bin/env bash
# The main job: set everything up and tune the MNIST CNN of tutorials/torch_example.py on 4 MPI
# ranks with the small-machine budget (24 models, one epoch each; 20-25 minutes on 2 CPU cores).
#   PROPULATE_DATA_DIR    the data folder (default: data/ in the repository); MNIST is downloaded
#                         into it, or copied from a shared/data/MNIST/raw/ folder above the checkout
#   PROPULATE_CHECKPOINT  the checkpoint folder (default: ckpt-mnist/); rerunning resumes
# Extra arguments go to the tutorial and override the budget, e.g. --generations 2 (try --help).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup_env.sh
DATA_DIR="${PROPULATE_DATA_DIR:-$ROOT/data}"
RAW="$DATA_DIR/MNIST/raw"
if [ ! -f "$RAW/train-images-idx3-ubyte.gz" ]; then
    # An offline machine may keep the original files beside the checkout: copy them (the folder
    # must be writable, torchvision unpacks the archives next to themselves).
    for parent in "$ROOT/.." "$ROOT/../.." "$ROOT/../../.."; do
        if [ -f "$parent/shared/data/MNIST/raw/train-images-idx3-ubyte.gz" ]; then
            mkdir -p "$RAW"
            cp "$parent"/shared/data/MNIST/raw/*.gz "$RAW/"
            break
        fi
    done
fi
timeout -k 30 7200 "$MPIRUN" -n 4 "$PY" tutorials/torch_example.py \
    --data-dir "$DATA_DIR" --checkpoint "${PROPULATE_CHECKPOINT:-$ROOT/ckpt-mnist}" \
    --generations 6 --epochs 1 --num-workers 0 "$@"
