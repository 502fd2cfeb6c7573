#!/usr/bin/env bash
# GPU checks of the CUDA backend (issue #9), one short script for a lent GPU machine: no Rust,
# no network needed there. Prepare it here, in the repository root (the folder travels with
# `carry: ["target/gpu-check"]`, about 25 MB):
#
#   cargo xtask build-gpu
#   mkdir -p target/gpu-check/data/glue && cp target/lmc-gpu.tar.gz target/gpu-check/ \
#     && cp -r ../shared/datasets/glue/CoLA target/gpu-check/data/glue/
#
# then run `bash benches/gpu/check.sh` there. Results go to $OUT (or /tmp/gpu-check): the
# fine-tuning logs, bench.jsonl, and the parity verdict on stdout.
# BACKENDS=cpu runs the parity part on the CPU only (to try the script without a GPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
check=target/gpu-check
out=${OUT:-/tmp/gpu-check}
backends=${BACKENDS:-cpu cuda}
mkdir -p "$out" /tmp/gpu-bundle
tar -xzf "$check/lmc-gpu.tar.gz" -C /tmp/gpu-bundle
bundle=/tmp/gpu-bundle/lmc-gpu
command -v nvidia-smi >/dev/null && nvidia-smi -L

# 1. The same tiny fine-tuning run (16 updates, the loss falls from 0.69 to about 0.49 on the CPU)
#    on each backend: losses and gradient norms per update must agree.
for backend in $backends; do
    "$bundle/lmc" finetune --task cola --preset smoke --model "$bundle/tiny-bert" --seed 0 \
        --batch-slices 1 --train-examples 256 --learning-rate 3e-3 --data-dir "$check/data" \
        --backend "$backend" \
        --out "$out/finetune-$backend" 2>&1 | tail -n 3
done
if [[ "$backends" == *cuda* ]]; then
    python3 benches/gpu/compare_losses.py "$out/finetune-cpu" "$out/finetune-cuda"
fi

# 2. Throughput next to PyTorch on the same device, batch 32 × 128 tokens: lmc first, so that a
#    missing Python package costs only the baseline.
if [[ "$backends" == *cuda* ]]; then
    for config in minilm-l6 bert-base; do
        "$bundle/lmc" bench --backend cuda --config "$config" --seq-len 128 --steps 10 --json \
            | tee -a "$out/bench.jsonl"
    done
    if python3 -c 'import torch, transformers'; then
        for config in minilm-l6 bert-base; do
            python3 benches/pytorch/bert_throughput.py --config "$config" --device cuda \
                --seq 128 --steps 10 | tee -a "$out/bench.jsonl"
        done
    else
        echo "no PyTorch + transformers here: baseline skipped"
    fi
fi
