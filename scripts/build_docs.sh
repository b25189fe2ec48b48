#!/usr/bin/env bash
# Build the documentation (Sphinx, HTML) into docs/_build; any warning fails the build.
# Needs no network: the theme ships with Sphinx and the API pages come from the docstrings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup_env.sh
"$PY" -m sphinx -W --keep-going -b html docs docs/_build "$@"
echo "Documentation: $ROOT/docs/_build/index.html"
