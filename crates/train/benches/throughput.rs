//! Inference and training-update throughput of all-MiniLM-L6-v2 on the CPU (flex backend).
//!
//! Not a criterion bench: one training update at batch 32 × 128 tokens takes seconds, so this
//! program times a fixed number of steps after a warm-up ([`lmc_train::throughput`]) and prints
//! one JSON line per case, which `cargo xtask bench model` sets beside PyTorch measured in the
//! same run. Each case runs what lmc runs, in 2 row slices on parallel threads: inference as in
//! `lmc eval` and `lmc sweep`, a training update (dropout, global-norm clipping, AdamW) as in
//! `lmc finetune`. `lmc bench` measures the same on any backend, the GPU included.
//!
//! Run: `cargo bench -p lmc-train --bench throughput [-- --steps N --threads T]`; `--mode
//! inference|train` and `--seq 128|32` pick one case (for profiling).

use burn::backend::{Autodiff, Flex};
use lmc_bert::BertConfig;
use lmc_train::{ThroughputCase, ThroughputMode, measure};

/// The allocator the `lmc` binary uses, with its settings, so that the numbers are the ones
/// users get (see `keep_freed_memory` in `crates/cli/src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Slices per batch, as `lmc finetune` (by default) and `lmc eval` / `lmc sweep` compute them.
const BATCH_SLICES: usize = 2;

const BATCH: usize = 32;

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
    let config = BertConfig::minilm_l6();
    for seq_len in [128, 32] {
        for (mode, name, steps) in [
            (ThroughputMode::Inference, "inference", steps * 2),
            (ThroughputMode::Train, "train", steps),
        ] {
            let unwanted = only_seq.is_some_and(|s| s != seq_len)
                || only_mode.as_deref().is_some_and(|m| m != name);
            if unwanted {
                continue;
            }
            let case = ThroughputCase {
                mode,
                batch: BATCH,
                seq_len,
                steps,
                slices: BATCH_SLICES,
            };
            let measured = measure::<Autodiff<Flex>>(&config, case, &Default::default())
                .expect("MiniLM-L6 runs every case");
            let mut line = serde_json::to_value(measured).expect("a measurement serialises");
            line["framework"] = "lmc (burn 0.21 flex)".into();
            line["model"] = "all-MiniLM-L6-v2 architecture".into();
            line["threads"] = threads.into();
            println!("{line}");
        }
    }
}
