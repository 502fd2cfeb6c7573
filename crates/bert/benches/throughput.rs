//! Inference and training-step throughput of all-MiniLM-L6-v2 on the CPU (flex backend).
//!
//! Not a criterion bench: one training step at batch 32 × 128 tokens takes seconds, so this
//! program times a fixed number of steps after a warm-up and prints one JSON line per case,
//! which `cargo xtask bench model` sets beside PyTorch measured in the same run.
//! Sequences are full length (no padding), token ids drawn from a fixed generator. Each case runs
//! what lmc runs: inference is [`lmc_bert::forward_in_slices`] in 2 parallel slices, as in
//! `lmc eval` and `lmc sweep`; a training step is [`lmc_bert::batch_gradients`] in 2 slices, with
//! dropout, then an AdamW update, as in `lmc finetune`.
//!
//! Run: `cargo bench -p lmc-bert --bench throughput [-- --steps N --threads T]`; `--mode
//! inference|train` and `--seq 128|32` pick one case (for profiling).

use std::time::Instant;

use burn::backend::{Autodiff, Flex};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use lmc_bert::{
    BatchGradients, BertClassifier, BertConfig, BertInput, SplitMix64, batch_gradients,
    forward_in_slices, random_classifier,
};

/// The allocator the `lmc` binary uses, with its settings, so that the numbers are the ones
/// users get (see `keep_freed_memory` in `crates/cli/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Slices per batch, as `lmc finetune` (by default) and `lmc eval` / `lmc sweep` compute them.
const BATCH_SLICES: usize = 2;

const BATCH: usize = 32;

fn batch<B: Backend>(
    seq: usize,
    seed: u64,
    device: &B::Device,
) -> (BertInput<B>, Tensor<B, 1, Int>) {
    let mut rng = SplitMix64::new(seed);
    let ids: Vec<Vec<i64>> = (0..BATCH)
        .map(|_| {
            let mut row: Vec<i64> = (0..seq)
                .map(|_| 1000 + (rng.next_u64() % 28000) as i64)
                .collect();
            row[0] = 101;
            row[seq - 1] = 102;
            row
        })
        .collect();
    let types: Vec<Vec<i64>> = (0..BATCH)
        .map(|_| (0..seq).map(|i| i64::from(i >= seq / 2)).collect())
        .collect();
    let mask = vec![vec![1i64; seq]; BATCH];
    let labels: Vec<i64> = (0..BATCH).map(|i| (i % 3) as i64).collect();
    (
        BertInput::from_rows(&ids, &types, &mask, device),
        Tensor::from_data(TensorData::new(labels, [BATCH]), device),
    )
}

fn report(mode: &str, seq: usize, steps: usize, seconds: f64, threads: usize) {
    println!(
        "{}",
        serde_json::json!({
            "framework": "lmc (burn 0.21 flex)",
            "model": "all-MiniLM-L6-v2 architecture",
            "mode": mode,
            "batch": BATCH,
            "seq_len": seq,
            "threads": threads,
            "steps": steps,
            "seconds": seconds,
            "examples_per_s": (steps * BATCH) as f64 / seconds,
        })
    );
}

fn inference(seq: usize, steps: usize, threads: usize) {
    let device = Default::default();
    let model: BertClassifier<Flex> = random_classifier(&BertConfig::minilm_l6(), 3, 0, &device);
    let (input, _) = batch::<Flex>(seq, 1, &device);
    let run = || {
        let logits = forward_in_slices(&model, input.clone(), BATCH_SLICES);
        logits.into_data()
    };
    run();
    let start = Instant::now();
    for _ in 0..steps {
        run();
    }
    report(
        "inference",
        seq,
        steps,
        start.elapsed().as_secs_f64(),
        threads,
    );
}

fn training(seq: usize, steps: usize, threads: usize) {
    type B = Autodiff<Flex>;
    let device = Default::default();
    let mut model: BertClassifier<B> = random_classifier(&BertConfig::minilm_l6(), 3, 0, &device);
    let mut optimizer = AdamWConfig::new()
        .with_epsilon(1e-6)
        .with_weight_decay(0.01)
        .init();
    let (input, labels) = batch::<B>(seq, 1, &device);
    let mut dropout_seed = 0;
    let mut step = |model: BertClassifier<B>| {
        dropout_seed += 1;
        let BatchGradients { gradients, .. } =
            batch_gradients(&model, input.clone(), labels.clone(), BATCH_SLICES, dropout_seed);
        let gradients = GradientsParams::from_grads(gradients, &model);
        optimizer.step(2e-5, model, gradients)
    };
    model = step(model);
    let start = Instant::now();
    for _ in 0..steps {
        model = step(model);
    }
    report("train", seq, steps, start.elapsed().as_secs_f64(), threads);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a whole number"))
    };
    let steps = value("--steps", 3);
    let threads = value("--threads", 2);
    // SAFETY: sets a plain integer option of the allocator; no memory is touched.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("one global pool");
    let only_seq = args
        .iter()
        .position(|a| a == "--seq")
        .map(|_| value("--seq", 0));
    let only_mode = args
        .iter()
        .position(|a| a == "--mode")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wanted = |mode: &str, seq: usize| {
        only_seq.is_none_or(|s| s == seq) && only_mode.as_deref().is_none_or(|m| m == mode)
    };
    for seq in [128, 32] {
        if wanted("inference", seq) {
            inference(seq, steps * 2, threads);
        }
        if wanted("train", seq) {
            training(seq, steps, threads);
        }
    }
}
