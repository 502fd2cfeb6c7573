//! Inference and training-update throughput of all-MiniLM-L6-v2 on the CPU (flex backend).
//!
//! Not a criterion bench: one training update at batch 32 × 128 tokens takes seconds, so this
//! program times a fixed number of steps after a warm-up ([`lmc_train::throughput`]) and prints
//! one JSON line per case, which `cargo xtask bench model` sets beside PyTorch measured in the
//! same run. Each case runs what lmc runs, in 2 row slices on parallel threads: inference as in
//! `lmc eval` and `lmc sweep`, a training update (dropout, global-norm clipping, AdamW) as in
//! `lmc finetune`. `lmc bench` measures the same on any backend, the GPU included.
//!
//! After the random full-length cases it times training updates on real batches of CoLA and
//! MNLI (the first `--real-batches` batches of 32 of a seeded shuffle of each train set, each
//! padded to its longest example, as `lmc finetune` pads them) and, with `--batches-out DIR`,
//! writes those batches to `DIR/<task>-batches.json` so that the PyTorch baseline times the very
//! same inputs.
//!
//! Run: `cargo bench -p lmc-train --bench throughput [-- --steps N --threads T]`; `--mode
//! inference|train` and `--seq 128|32` pick one random case, `--real-batches 0` skips the real
//! ones (for profiling).

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, Flex};
use lmc_bert::{BertConfig, Precision};
use lmc_data::{BatchOrder, BatchPlan, DataDirSearch, PaddedBatch, SearchEnv, TaskName};
use lmc_train::{
    Recipe, ThroughputCase, ThroughputMode, TrainingSet, measure, measure_training_on_batches,
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

/// Seed of the shuffle the real batches are taken from.
const REAL_BATCH_SEED: u64 = 0;

/// The first `count` batches of a seeded shuffle of `task`'s train set, tokenized for
/// all-MiniLM-L6-v2 with the paper's maximum length.
fn real_batches(task: TaskName, count: usize) -> Vec<PaddedBatch> {
    let cache = lmc_bert::pretrained::default_cache_dir().expect("a cache directory (HOME)");
    let minilm = lmc_bert::pretrained::ensure_minilm(&cache).expect("all-MiniLM-L6-v2");
    let search = DataDirSearch::new(None, &SearchEnv::from_process());
    let data = TrainingSet::prepare(task, &search, &minilm, &Recipe::paper(task))
        .unwrap_or_else(|error| panic!("the {task} train set: {error}"));
    let plan = BatchPlan::new(
        &data.examples,
        BATCH,
        BatchOrder::Shuffled {
            seed: REAL_BATCH_SEED,
        },
    )
    .expect("a batch plan");
    (0..count.min(plan.len()))
        .map(|batch| plan.padded(&data.examples, batch).expect("a planned batch"))
        .collect()
}

/// Writes `batches` as JSON for `benches/pytorch/bert_throughput.py --batches`: per batch, the
/// unpadded token ids and token types of each row, and the labels.
fn write_batches(path: &Path, task: TaskName, batches: &[PaddedBatch]) {
    let rows = |values: &[i64], batch: &PaddedBatch| -> Vec<Vec<i64>> {
        values
            .chunks(batch.seq_len)
            .zip(batch.attention_mask.chunks(batch.seq_len))
            .map(|(row, mask)| {
                row.iter()
                    .zip(mask)
                    .filter(|(_, m)| **m == 1)
                    .map(|(v, _)| *v)
                    .collect()
            })
            .collect()
    };
    let json = serde_json::json!({
        "task": task.to_string(),
        "batches": batches.iter().map(|batch| serde_json::json!({
            "input_ids": rows(&batch.input_ids, batch),
            "token_type_ids": rows(&batch.token_type_ids, batch),
            "labels": batch.labels,
        })).collect::<Vec<_>>(),
    });
    std::fs::write(path, json.to_string())
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
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
    let real_batch_count = value("--real-batches", 8);
    let batches_out = args
        .iter()
        .position(|a| a == "--batches-out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
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
                precision: Precision::F32,
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
    if real_batch_count == 0 || only_seq.is_some() || only_mode.is_some() {
        return;
    }
    for task in [TaskName::Cola, TaskName::Mnli] {
        let batches = real_batches(task, real_batch_count);
        if let Some(dir) = &batches_out {
            write_batches(&dir.join(format!("{task}-batches.json")), task, &batches);
        }
        let measured = measure_training_on_batches::<Autodiff<Flex>>(
            &config,
            &batches,
            BATCH_SLICES,
            &Default::default(),
        )
        .expect("MiniLM-L6 trains on every batch");
        let mut line = serde_json::to_value(measured).expect("a measurement serialises");
        line["framework"] = "lmc (burn 0.21 flex)".into();
        line["model"] = "all-MiniLM-L6-v2 architecture".into();
        line["mode"] = "train".into();
        line["task"] = task.to_string().into();
        line["threads"] = threads.into();
        println!("{line}");
    }
}
