#!/usr/bin/env bash
# GPU checks of the CUDA build (issue #20): one prepared script for a lent GPU machine, which has
# PyTorch and transformers but no Rust and no network. Prepare the bundle here, in the
# repository root (`bash benches/gpu/bundle.sh`, about 50 MB, travels with
# `carry: ["target/gpu-check"]`), then run `bash benches/gpu/check.sh` there.
#
# Steps run in order of importance, each under its own time limit; none starts after $BUDGET
# seconds (default 450), so the script ends inside a 10-minute call. $STEPS (comma-separated
# step names) runs a subset. Results go to $OUT (or /tmp/gpu-check): log.txt (everything),
# bench.jsonl (every throughput line of both frameworks), results.jsonl (each step's exit
# status and seconds), artifacts.tar.gz (metrics of the fine-tuning runs, evaluation tables),
# profile.log.gz (CubeCL's kernel profile of two bert-base training updates).
set -uo pipefail
cd "$(dirname "$0")/../.."
check=target/gpu-check
out=${OUT:-/tmp/gpu-check}
budget=${BUDGET:-450}
only=${STEPS:-all}
work=/tmp/gpu-work
mkdir -p "$out" "$work"
log="$out/log.txt"
bench="$out/bench.jsonl"
results="$out/results.jsonl"
begin=$SECONDS

# step NAME LIMIT COMMAND...: runs COMMAND (a shell snippet) unless $STEPS leaves it out or the
# budget is spent, logs its output, and records its exit status and duration.
step() {
    local name=$1 limit=$2
    shift 2
    if [[ $only != all && ",$only," != *",$name,"* ]]; then return 0; fi
    local elapsed=$((SECONDS - begin))
    if ((elapsed > budget)); then
        echo "=== $name skipped: ${elapsed}s of the ${budget}s budget spent" | tee -a "$log"
        return 0
    fi
    echo "=== $name (at ${elapsed}s)" | tee -a "$log"
    local started=$SECONDS
    timeout "$limit" bash -c "$*" >>"$log" 2>&1
    local status=$?
    local took=$((SECONDS - started))
    echo "--- $name: exit $status after ${took}s" | tee -a "$log"
    echo "{\"step\":\"$name\",\"exit\":$status,\"seconds\":$took}" >>"$results"
}

# The bundle: lmc, and all-MiniLM-L6-v2 installed in a fresh lmc cache (so every step finds it
# as `lmc setup` would have installed it; kernels and autotune results are cached there too).
tar -xJf "$check/lmc-gpu.tar.xz" -C "$work"
export LMC_CACHE_DIR=$work/cache
models=$LMC_CACHE_DIR/models
mkdir -p "$models"
tar -xJf "$check/minilm.tar.xz" -C "$models"
mv "$models/minilm" "$models/all-MiniLM-L6-v2"
echo "bundle, f16 copy with unused embedding rows zeroed" >"$models/all-MiniLM-L6-v2/.sha256-verified"
minilm=$models/all-MiniLM-L6-v2
data=$check/data
nvrtc=$(python3 -c 'import nvidia.cuda_nvrtc as m, os; print(os.path.join(os.path.dirname(m.__file__), "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH=${nvrtc:+$nvrtc:}/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export lmc=$work/lmc-gpu/lmc data minilm out work bench
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
    "$lmc" --version
} 2>&1 | tee -a "$log"

# The steps' commands, as functions that `step` runs in a child shell.
tiny() { # backend precision masks out
    "$lmc" finetune --task cola --preset smoke --seed 0 --batch-slices 1 --train-examples 256 \
        --learning-rate 3e-3 --data-dir "$data" --backend "$1" --precision "$2" \
        --dropout-masks "$3" --out "$work/$4"
}
lmc_bench() { # precision config [lmc bench options…]
    local precision=$1 config=$2
    shift 2
    "$lmc" bench --backend cuda --precision "$precision" --config "$config" --steps 10 --json "$@" \
        | tee -a "$bench"
}
torch_bench() { # precision config [bert_throughput.py options…]
    local precision=$1 config=$2
    shift 2
    python3 benches/pytorch/bert_throughput.py --device cuda --precision "$precision" \
        --config "$config" --steps 10 "$@" | tee -a "$bench"
}
numerics() {
    python3 benches/gpu/numerics.py head "$minilm" "$work/minilm-head" || return
    for precision in f32 tf32 bf16; do
        "$lmc" eval --model "$work/minilm-head" --task mnli --set "$check/pairs48.tsv" \
            --backend cuda --precision "$precision" --out "$work/eval-$precision.parquet" || return
    done
    python3 benches/gpu/numerics.py compare "$work/minilm-head" "$check/pairs48.tsv" \
        f32="$work/eval-f32.parquet" tf32="$work/eval-tf32.parquet" \
        bf16="$work/eval-bf16.parquet" | tee -a "$bench"
}
merged() { # lmc merge's output loaded by transformers: logits of lmc (CUDA, f32) and transformers
    [[ -d $work/minilm-head ]] || python3 benches/gpu/numerics.py head "$minilm" "$work/minilm-head" || return
    python3 benches/gpu/numerics.py head "$minilm" "$work/minilm-head-11" 11 || return
    printf '%s\n' 'merge_method: linear' 'models:' \
        "  - {model: $work/minilm-head, parameters: {weight: 0.3}}" \
        "  - {model: $work/minilm-head-11, parameters: {weight: 0.7}}" >"$work/merge.yaml"
    "$lmc" merge "$work/merge.yaml" "$work/merged" || return
    "$lmc" eval --model "$work/merged" --task mnli --set "$check/pairs48.tsv" --backend cuda \
        --precision f32 --out "$work/eval-merged.parquet" || return
    python3 benches/gpu/numerics.py compare "$work/merged" "$check/pairs48.tsv" \
        merged-f32="$work/eval-merged.parquet" | tee -a "$bench"
}
ft200() { # backend
    "$lmc" finetune --task cola --preset paper --model "$minilm" --seed 0 --max-steps 200 \
        --batch-slices 1 --dropout-masks host --precision f32 --data-dir "$data" --backend "$1" \
        --out "$work/ft200-$1"
}
cola() { # precision: the default preset's CoLA run on the GPU, then its held-out MCC (in f32)
    "$lmc" finetune --task cola --preset default --seed 0 --data-dir "$data" --backend cuda \
        --precision "$1" --out "$work/cola-$1" || return
    "$lmc" eval --model "$(ls -d "$work/cola-$1"/*/model)" --task cola --set id:all \
        --data-dir "$data" --backend cuda --precision f32
}
export check
export -f tiny lmc_bench torch_bench numerics merged ft200 cola

# 1. Does the build run, and do CPU and GPU agree on a tiny run with the same (host) dropout
#    masks? The first CUDA process compiles and tunes; the second finds both in the cache.
step tiny-cpu 60 tiny cpu f32 host tiny-cpu
step tiny-cuda-first 120 tiny cuda f32 host tiny-cuda
step tiny-compare 20 python3 benches/gpu/compare_losses.py "$work/tiny-cpu" "$work/tiny-cuda"
step tiny-cuda-second 60 tiny cuda f32 host tiny-cuda-2

# 2. Throughput beside PyTorch on the same card: strict f32, a kernel profile of bert-base
#    training updates (CubeCL's own, in $PROFILE_PRECISION, default f32), then bf16.
step bench-f32-minilm 120 lmc_bench f32 minilm-l6 --seq-len 128,32
step torch-f32-minilm 60 torch_bench f32 minilm-l6 --seq 128 32
step bench-f32-bert 150 lmc_bench f32 bert-base --seq-len 128,32 --mode inference,train,lerp
step torch-f32-bert 90 torch_bench f32 bert-base --seq 128 32 --lerp
step profile 90 "CUBECL_DEBUG_OPTION=profile CUBECL_DEBUG_LOG=$work/profile.log \"\$lmc\" bench \
    --backend cuda --precision \${PROFILE_PRECISION:-f32} --config bert-base --mode train --seq-len 128 --steps 2"
step bench-bf16-minilm 120 lmc_bench bf16 minilm-l6 --seq-len 128,32
step torch-bf16-minilm 60 torch_bench bf16 minilm-l6 --seq 128 32
step bench-bf16-bert 150 lmc_bench bf16 bert-base --seq-len 128,32
step torch-bf16-bert 90 torch_bench bf16 bert-base --seq 128 32
step bench-b256 120 "lmc_bench bf16 bert-base --seq-len 128 --batch 256 --mode inference; lmc_bench f32 bert-base --seq-len 128 --batch 256 --mode inference"
step torch-b256 90 "torch_bench bf16 bert-base --seq 128 --batch 256 --modes inference; torch_bench f32 bert-base --seq 128 --batch 256 --modes inference"

# 3. Numerics on the real model with a fixed head: lmc in each precision against transformers.
step numerics 180 numerics
step merged 60 merged

# 4. Fine-tuning: 200 updates on CPU and GPU in f32 with the same masks agree update by update;
#    a bf16 fine-tune ends near the f32 one on the held-out metric.
step ft200-cuda 120 ft200 cuda
step ft200-cpu 150 ft200 cpu
step ft200-compare 20 python3 benches/gpu/compare_losses.py "$work/ft200-cpu" "$work/ft200-cuda"
step cola-f32 150 cola f32
step cola-bf16 150 cola bf16

# 5. TF32 throughput.
step bench-tf32 150 "lmc_bench tf32 minilm-l6 --seq-len 128,32; lmc_bench tf32 bert-base --seq-len 128,32"
step torch-tf32 90 "torch_bench tf32 minilm-l6 --seq 128 32; torch_bench tf32 bert-base --seq 128 32"

[[ -f $work/profile.log ]] && gzip -c "$work/profile.log" | head -c 15000000 >"$out/profile.log.gz"
(cd "$work" && find . -name metrics.csv -o -name run.json -o -name done.json \
    -o -name 'eval-*.parquet' | tar -czf "$out/artifacts.tar.gz" -T -)
echo "done in $((SECONDS - begin))s" | tee -a "$log"
