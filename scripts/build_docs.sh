#!/usr/bin/env bash
# Build the documentation (Sphinx, HTML) into docs/_build; any warning fails the build, and
# nitpicky mode (-n, also set in docs/conf.py) makes every unresolved reference a warning.
# -E reads every page afresh: an incremental build would not repeat the warnings of pages it
# keeps from the last build. Needs no network: the theme ships with Sphinx and the API pages come
# from the docstrings. .ci/run runs this script.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup_env.sh
"$PY" -m sphinx -E -n -W --keep-going -b html docs docs/_build "$@"
echo "Documentation: $ROOT/docs/_build/index.html"
