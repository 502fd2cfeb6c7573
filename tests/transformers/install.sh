#!/usr/bin/env bash
# PyTorch and transformers for tests/merge.rs' transformers load, in a virtual environment of
# their own: target/transformers-venv, or $LMC_TRANSFORMERS_VENV. PyPI is the only source (the
# default torch wheel, whose CUDA libraries come as pip packages: about 5.6 GiB installed; it
# runs on the CPU). Prints the environment's python.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=${LMC_TRANSFORMERS_VENV:-target/transformers-venv}
if ! "$venv/bin/python" -c "import torch, transformers" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check torch==2.15.0 transformers==5.25.0 >&2
fi
echo "$(cd "$venv" && pwd)/bin/python"
